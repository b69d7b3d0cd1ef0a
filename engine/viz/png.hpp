#pragma once
// RGB images in memory and PNG files (cairo's PNG writer, engine/viz/picture.cpp). Pixels are
// 8-bit RGB, row 0 at the top.
#include <cstdint>
#include <string>
#include <vector>

namespace nwgf {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

class Image {
 public:
  Image(int width, int height, Rgb background = {255, 255, 255});
  int width() const { return w_; }
  int height() const { return h_; }
  const std::uint8_t* data() const { return px_.data(); }
  Rgb get(int x, int y) const;
  // Pixels outside the image are ignored.
  void set(int x, int y, Rgb c);
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c);  // inclusive corners

 private:
  int w_, h_;
  std::vector<std::uint8_t> px_;  // (h, w, 3)
};

// The PNG file's bytes.
std::string encode_png(const Image& img);
// Writes atomically; failure is a bad-input error naming the path.
void write_png(const std::string& path, const Image& img);

}  // namespace nwgf
