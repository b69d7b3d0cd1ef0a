#include "nwgf/engine/viz/png.hpp"

#include <algorithm>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"

namespace nwgf {

Image::Image(int width, int height, Rgb bg)
    : w_(width), h_(height), px_(std::size_t(width) * std::size_t(height) * 3) {
  if (width <= 0 || height <= 0) throw_runtime("Image: empty size");
  for (std::size_t i = 0; i < px_.size(); i += 3) {
    px_[i] = bg.r;
    px_[i + 1] = bg.g;
    px_[i + 2] = bg.b;
  }
}

Rgb Image::get(int x, int y) const {
  const std::size_t i = (std::size_t(y) * std::size_t(w_) + std::size_t(x)) * 3;
  return {px_[i], px_[i + 1], px_[i + 2]};
}

void Image::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
  const std::size_t i = (std::size_t(y) * std::size_t(w_) + std::size_t(x)) * 3;
  px_[i] = c.r;
  px_[i + 1] = c.g;
  px_[i + 2] = c.b;
}

void Image::fill_rect(int x0, int y0, int x1, int y1, Rgb c) {
  for (int y = std::max(0, y0); y <= std::min(h_ - 1, y1); ++y) {
    for (int x = std::max(0, x0); x <= std::min(w_ - 1, x1); ++x) set(x, y, c);
  }
}

void write_png(const std::string& path, const Image& img) {
  write_file_atomic(path, encode_png(img));
}

}  // namespace nwgf
