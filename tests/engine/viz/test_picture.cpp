// Pictures drawn with cairo: PNG, SVG and PDF from the same drawing; checks at the pixel level
// that hold whatever the font: the frame, the axes and the data land where the layout
// (scatter_box, line_box) says, nothing touches the canvas's edge (labels fit), and the dot size
// and opacity follow the number of points.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/viz/picture.hpp"
#include "nwgf/engine/viz/plot.hpp"
#include "nwgf/engine/viz/png.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {

bool is_white(Rgb c) { return c.r == 255 && c.g == 255 && c.b == 255; }
bool is_dark(Rgb c) { return c.r < 80 && c.g < 80 && c.b < 80; }

// Non-white pixels within `margin` of the canvas's edge.
int ink_at_edge(const Image& img, int margin) {
  int count = 0;
  for (int y = 0; y < img.height(); ++y) {
    for (int x = 0; x < img.width(); ++x) {
      const bool edge =
          x < margin || y < margin || x >= img.width() - margin || y >= img.height() - margin;
      count += edge && !is_white(img.get(x, y));
    }
  }
  return count;
}

// Pixels of colour c (within tol per channel) in [x0, x1) x [y0, y1).
int count_colour(const Image& img, Rgb c, int tol, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = std::max(0, y0); y < std::min(img.height(), y1); ++y) {
    for (int x = std::max(0, x0); x < std::min(img.width(), x1); ++x) {
      const Rgb p = img.get(x, y);
      n += std::abs(p.r - c.r) <= tol && std::abs(p.g - c.g) <= tol && std::abs(p.b - c.b) <= tol;
    }
  }
  return n;
}

std::vector<double> ring(int n, double r) {
  std::vector<double> x;
  for (int i = 0; i < n; ++i) {
    x.push_back(r * std::cos(2 * M_PI * i / n));
    x.push_back(r * std::sin(2 * M_PI * i / n));
  }
  return x;
}

}  // namespace

TEST_CASE("picture: PNG, SVG and PDF of one picture; the format follows the extension") {
  const std::vector<double> x = ring(50, 1);
  ScatterOptions o;
  o.size = 300;
  o.title = "ring & <friends>";  // XML special characters in the text
  const Picture pic = render_scatter(x.data(), 50, 2, o);
  CHECK(pic.width == 300);
  CHECK(pic.height == 300);
  const std::string png = encode_picture(pic, PictureFormat::png);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  const std::string svg = encode_picture(pic, PictureFormat::svg);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("width=\"300") != std::string::npos);
  CHECK(svg.rfind("</svg>") != std::string::npos);
  const std::string pdf = encode_picture(pic, PictureFormat::pdf);
  CHECK(pdf.rfind("%PDF-", 0) == 0);
  CHECK(pdf.find("%%EOF", pdf.size() - 16) != std::string::npos);

  CHECK(picture_format("a/b.PNG") == PictureFormat::png);
  CHECK(picture_format("b.svg") == PictureFormat::svg);
  CHECK(picture_format("b.Pdf") == PictureFormat::pdf);
  for (const char* bad : {"b.jpg", "b", "b.png.txt"}) {
    CAPTURE(bad);
    try {
      picture_format(bad, "--out");
      CHECK(false);
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("--out") != std::string::npos);
      CHECK(std::string(e.what()).find(bad) != std::string::npos);
    }
  }

  // The files parse: the SVG as XML and the PDF's cross-reference table, with Python's standard
  // library where there is a python3 (skipped otherwise).
  const std::string base = test::tmp_path("picture_formats");
  write_picture(base + ".svg", pic);
  write_picture(base + ".pdf", pic);
  write_picture(base + ".png", pic);
  CHECK(test::slurp(base + ".png") == png);
  if (std::system("python3 -c 'import xml.dom.minidom' >/dev/null 2>&1") == 0) {
    const std::string check =
        "python3 -c \"import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); "
        "assert d.documentElement.tagName == 'svg'; "
        "b = open(sys.argv[2], 'rb').read(); "
        "assert b.startswith(b'%PDF-') and b.rstrip().endswith(b'%%EOF') and "
        "b'startxref' in b[-64:]\" '" +
        base + ".svg' '" + base + ".pdf'";
    CHECK(std::system(check.c_str()) == 0);
  }
  CHECK_THROWS_AS(write_picture(base + ".bmp", pic), Error);
  for (const char* e : {".svg", ".pdf", ".png"}) std::filesystem::remove(base + e);
}

TEST_CASE("scatter: frame, points and circle where scatter_box says, labels inside the canvas") {
  // Points at (+-1, 0), (0, +-1) and the centre; extent 2, a circle of radius 1.5.
  const double x[] = {1, 0, -1, 0, 0, 1, 0, -1, 0, 0};
  ScatterOptions o;
  o.size = 400;
  o.extent = 2;
  o.circles = {1.5};
  o.title = "a title long enough to need shrinking so that it fits inside the canvas, really";
  const Image img = rasterize(render_scatter(x, 5, 2, o));
  const ScatterBox b = scatter_box(o, 2, false);
  REQUIRE(b.side > 200);
  CHECK(b.left > 10);
  CHECK(b.top > 10);
  CHECK(b.left + b.side < 400);
  CHECK(b.top + b.side < 400);
  // Equal aspect: one unit is as many pixels across as up.
  CHECK(b.u(1) - b.u(0) == doctest::Approx(b.v(0) - b.v(1)));
  // The frame: dark just outside the data box, along all four sides.
  const int l = int(b.left), t = int(b.top), s = int(b.side);
  for (int k = 5; k < s - 5; k += 7) {
    CHECK(is_dark(img.get(l - 1, t + k)));
    CHECK(is_dark(img.get(l + s, t + k)));
    CHECK(is_dark(img.get(l + k, t - 1)));
    CHECK(is_dark(img.get(l + k, t + s)));
  }
  // Each point: blue at its centre.
  for (int i = 0; i < 5; ++i) {
    const Rgb c = img.get(int(b.u(x[2 * i])), int(b.v(x[2 * i + 1])));
    CAPTURE(i);
    CHECK(c.b > c.r + 60);
  }
  // The circle passes through (1.5, 0) and (0, -1.5) (dark within a pixel).
  auto dark_near = [&](double u, double v) {
    bool dark = false;
    for (int a = -1; a <= 1; ++a) {
      for (int c = -1; c <= 1; ++c) dark = dark || is_dark(img.get(int(u) + a, int(v) + c));
    }
    return dark;
  };
  CHECK(dark_near(b.u(1.5), b.v(0)));
  CHECK(dark_near(b.u(0), b.v(-1.5)));
  // Elsewhere inside the box: white (no data, no stray labels).
  CHECK(is_white(img.get(int(b.u(0.6)), int(b.v(0.6)))));
  CHECK(is_white(img.get(int(b.u(-1.9)), int(b.v(1.9)))));
  // Tick labels and axis labels have ink below and left of the frame; nothing at the edge.
  CHECK(count_colour(img, Rgb{0, 0, 0}, 100, 0, t + s + 2, 400, 400) > 20);
  CHECK(count_colour(img, Rgb{0, 0, 0}, 100, 0, t, l - 2, t + s) > 20);
  CHECK(ink_at_edge(img, 2) == 0);
}

TEST_CASE("scatter: the target in orange under the samples; points outside the box are clipped") {
  const std::vector<double> x = ring(40, 0.5);
  ScatterOptions o;
  o.size = 256;
  o.extent = 1;
  o.target = ring(40, 2.0);  // all outside the box
  o.target.push_back(0.0), o.target.push_back(0.0);
  const Image img = rasterize(render_scatter(x.data(), 40, 2, o));
  const ScatterBox b = scatter_box(o, 1, false);
  const Rgb t = img.get(int(std::round(b.u(0.0))), int(std::round(b.v(0.0))));
  CHECK(t.r > t.b + 60);  // orange
  const Rgb p = img.get(int(std::round(b.u(0.5))), int(std::round(b.v(0.0))));
  CHECK(p.b > p.r + 60);  // blue
  CHECK(ink_at_edge(img, 2) == 0);
  CHECK(count_colour(img, Rgb{255, 127, 14}, 60, 0, 0, 256, int(b.top) - 1) == 0);
}

TEST_CASE("scatter: 1e2 and 1e6 points both read: big opaque dots, small faint ones") {
  const DotStyle few = dot_style(100, 512), many = dot_style(1000000, 512);
  CHECK(few.radius >= 2.5);
  CHECK(few.alpha >= 0.8);
  CHECK(many.radius < 1);
  CHECK(many.alpha < 0.1);
  CHECK(dot_style(10000, 512).alpha < few.alpha);
  CHECK(dot_style(10000, 512).alpha > many.alpha);
  // 200000 points in the upper right quadrant: ink there (the raster path), none elsewhere in
  // the box; the dense core is darker than the sparse edge.
  std::vector<double> x;
  for (int i = 0; i < 200000; ++i) {
    const double r = 0.3 * std::sqrt((i + 0.5) / 200000.0), a = 2.399963 * i;
    x.push_back(0.5 + r * std::cos(a));
    x.push_back(0.5 + r * std::sin(a));
  }
  ScatterOptions o;
  o.size = 300;
  o.extent = 1;
  const Image img = rasterize(render_scatter(x.data(), 200000, 2, o));
  const ScatterBox b = scatter_box(o, 1, false);
  const int l = int(b.left), t = int(b.top), s = int(b.side);
  CHECK(count_colour(img, Rgb{255, 255, 255}, 0, l + 1, t + 1, l + s / 2 - 1, t + s - 1) ==
        (s / 2 - 2) * (s - 2));  // left half of the box: white
  const Rgb core = img.get(int(b.u(0.5)), int(b.v(0.5)));
  const Rgb rim = img.get(int(b.u(0.79)), int(b.v(0.5)));
  CHECK(core.r < rim.r);
  CHECK(rim.r < 255);
}

TEST_CASE("density: viridis cells, a colour bar; dense cells are yellow, lone points purple") {
  CHECK(viridis(0).r == 68);
  CHECK(viridis(1).g == 231);
  CHECK(viridis(-3).b == viridis(0).b);
  std::vector<double> y(2 * 1001, 0.51);
  y[0] = -0.49, y[1] = -0.49;  // a lone point in the lower left, 1000 at (0.51, 0.51)
  ScatterOptions o;
  o.size = 320;
  o.extent = 1;
  const Image img = rasterize(render_density(y.data(), 1001, 2, o));
  const ScatterBox b = scatter_box(o, 1, true);
  CHECK(b.left + b.side + 40 < 320);  // room for the colour bar
  const Rgb dense = img.get(int(b.u(0.51)), int(b.v(0.51)));
  const Rgb lone = img.get(int(b.u(-0.49)), int(b.v(-0.49)));
  CHECK(dense.r > 150);
  CHECK(dense.b < 100);
  CHECK(lone.b > lone.g);
  CHECK(is_white(img.get(int(b.u(0)), int(b.v(-0.6)))));
  // The colour bar: yellow at its top, purple at its bottom, right of the box.
  const int bx = int(b.left + b.side) + 10;  // 320 px: font 8 px, the bar 6.4 to 15.2 px right
  const Rgb top = img.get(bx, int(b.top) + 2), bottom = img.get(bx, int(b.top + b.side) - 2);
  CHECK(top.r > 200);
  CHECK(bottom.b > bottom.g);
  CHECK(ink_at_edge(img, 1) == 0);
}

TEST_CASE("lines: curves inside the plot area, legend outside it, no label clipped") {
  // The paper's Fig. 8 values that the pixel font used to cut in half at the frame.
  Series s{"backward", {0, 1, 2, 3}, {0.0013, -0.0003, 0.0005, 0.001}, Rgb{200, 0, 0}};
  Series t{"a second, much longer series name", {0, 3}, {0.0, 0.0}, Rgb{0, 0, 200}};
  for (bool log_y : {false, true}) {
    CAPTURE(log_y);
    LinePlotOptions o;
    o.log_y = log_y;
    o.title = "MMD^2";
    o.x_label = "time";
    o.y_label = "value";
    const Image img = rasterize(render_lines({s, t}, o));
    CHECK(img.width() == 720);
    const LineBox b = line_box({s, t}, o);
    REQUIRE(b.width > 300);
    const int l = int(b.left), top = int(b.top), r = int(b.left + b.width),
              bot = int(b.top + b.height);
    // Red only inside the plot area, or in the legend (right of it).
    const int red_in = count_colour(img, Rgb{200, 0, 0}, 40, l, top, r, bot);
    CHECK(red_in > 100);
    CHECK(count_colour(img, Rgb{200, 0, 0}, 40, 0, 0, l - 1, 480) == 0);
    CHECK(count_colour(img, Rgb{200, 0, 0}, 40, 0, bot + 2, 720, 480) == 0);
    const int legend = count_colour(img, Rgb{200, 0, 0}, 40, r + 2, 0, 720, 480);
    CHECK(legend > 10);
    // The frame's left and bottom edges.
    CHECK(is_dark(img.get(l - 1, (top + bot) / 2)));
    CHECK(is_dark(img.get((l + r) / 2, bot)));
    CHECK(ink_at_edge(img, 2) == 0);
  }
  CHECK_THROWS_AS(render_lines({s}, LinePlotOptions{10, 480, true, "", "", ""}), Error);
}

TEST_CASE("lines: a band (mean -+ sd) is a light fill around the curve, inside the frame") {
  Series s{"mean", {0, 1, 2, 3}, {1, 1, 1, 1}, Rgb{0, 0, 200}};
  s.low = {0.5, 0.5, 0.5, 0.5};
  s.high = {1.5, 1.5, 1.5, 1.5};
  LinePlotOptions o;
  o.log_y = false;
  const Image img = rasterize(render_lines({s}, o));
  const LineBox b = line_box({s}, o);
  // Down one column: light blue fill above and below the curve (not white, not the line).
  const int x = int(b.left + b.width / 3);
  int light = 0;
  for (int y = int(b.top); y < int(b.top + b.height); ++y) {
    const Rgb c = img.get(x, y);
    light += c.b > c.r + 30 && c.r > 150;
  }
  CHECK(light > b.height / 4);
  // Above the band: white.
  CHECK(is_white(img.get(int(b.left + b.width / 3 + 3), int(b.top + 3))));
  CHECK(ink_at_edge(img, 2) == 0);
}

TEST_CASE("png: Image files through cairo's PNG writer have the image's size") {
  Image img(7, 5);
  img.set(1, 2, Rgb{10, 20, 30});
  CHECK(img.get(1, 2).g == 20);
  img.set(-1, 99, Rgb{});  // outside: ignored
  const std::string png = encode_png(img);
  REQUIRE(png.size() > 33);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  auto be32 = [&](std::size_t at) {
    return (unsigned(std::uint8_t(png[at])) << 24) | (unsigned(std::uint8_t(png[at + 1])) << 16) |
           (unsigned(std::uint8_t(png[at + 2])) << 8) | unsigned(std::uint8_t(png[at + 3]));
  };
  CHECK(be32(16) == 7);
  CHECK(be32(20) == 5);
}
