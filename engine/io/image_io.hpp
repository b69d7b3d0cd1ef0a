#pragma once
// Reading pictures (PNG, JPEG, BMP, GIF (first frame), PGM/PPM, TGA via stb_image) as grayscale
// intensities.
#include <string>
#include <vector>

namespace nwgf {

struct GrayImage {
  int width = 0, height = 0;
  std::vector<float> v;  // (height, width), row 0 at the top; 0 = black, 1 = white
  float at(int x, int y) const { return v[std::size_t(y) * std::size_t(width) + std::size_t(x)]; }
};

// Colour is converted with the Rec. 601 luma weights; alpha composites over white. Unreadable,
// truncated or absurdly large (> 2^26 pixels) files are bad input naming the file.
GrayImage load_gray_image(const std::string& path);
GrayImage decode_gray_image(const std::string& bytes, const std::string& name);

}  // namespace nwgf
