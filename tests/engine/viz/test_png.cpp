// PNG encoding and the scatter / line plots: pixels land where the coordinates say.
#include <doctest/doctest.h>

#include <cmath>

#include "nwgf/engine/viz/plot.hpp"
#include "nwgf/engine/viz/png.hpp"

using namespace nwgf;

namespace {
bool is_white(Rgb c) { return c.r == 255 && c.g == 255 && c.b == 255; }
}  // namespace

TEST_CASE("png: encoding gives a PNG of the right size") {
  Image img(7, 5);
  img.set(1, 2, Rgb{10, 20, 30});
  CHECK(img.get(1, 2).g == 20);
  img.set(-1, 99, Rgb{});  // outside: ignored
  const std::string png = encode_png(img);
  REQUIRE(png.size() > 33);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  // IHDR width and height, big-endian.
  auto be32 = [&](std::size_t at) {
    return (unsigned(std::uint8_t(png[at])) << 24) | (unsigned(std::uint8_t(png[at + 1])) << 16) |
           (unsigned(std::uint8_t(png[at + 2])) << 8) | unsigned(std::uint8_t(png[at + 3]));
  };
  CHECK(be32(16) == 7);
  CHECK(be32(20) == 5);
}

TEST_CASE("plot: scatter places points and the support circle") {
  const double x[] = {0.5, 0.0, -0.5, -0.5};  // two points in R^2
  ScatterOptions o;
  o.size = 200;
  o.extent = 1;
  o.circles = {0.75};
  const Image img = render_scatter(x, 2, 2, o);
  // (0.5, 0) -> pixel (150, 99); (-0.5, -0.5) -> (50, 149).
  CHECK_FALSE(is_white(img.get(150, 99)));
  CHECK_FALSE(is_white(img.get(50, 149)));
  CHECK(is_white(img.get(100, 60)));
  // The circle of radius 0.75 passes through (100 + 75, 99).
  bool dark = false;
  for (int dx = -1; dx <= 1; ++dx) dark = dark || img.get(175 + dx, 99).r == 0;
  CHECK(dark);
}

TEST_CASE("plot: line plot draws each series in its colour") {
  Series s{"a", {0, 1, 2}, {1e-3, 1e-2, 1e-1}, Rgb{200, 0, 0}};
  LinePlotOptions o;
  const Image img = render_lines({s}, o);
  int red = 0;
  for (int y = 0; y < img.height(); ++y) {
    for (int x = 0; x < img.width(); ++x) red += img.get(x, y).r == 200 && img.get(x, y).g == 0;
  }
  CHECK(red > 100);
}
