#include "engine/plot.hpp"

#include <stb_easy_font.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace nwgf {

int draw_text(Image& img, int x, int y, const std::string& text, Rgb color, int scale) {
  // stb_easy_font emits quads of 4 vertices, 16 bytes each (x, y, z floats + rgba).
  std::vector<char> buf(text.size() * 270 + 64);
  std::vector<char> s(text.begin(), text.end());
  s.push_back('\0');
  unsigned char rgba[4] = {color.r, color.g, color.b, 255};
  const int quads = stb_easy_font_print(0, 0, s.data(), rgba, buf.data(), int(buf.size()));
  for (int q = 0; q < quads; ++q) {
    const float* v0 = reinterpret_cast<const float*>(buf.data() + q * 64);
    const float* v2 = reinterpret_cast<const float*>(buf.data() + q * 64 + 32);
    img.fill_rect(x + int(v0[0]) * scale, y + int(v0[1]) * scale, x + int(v2[0]) * scale - 1,
                  y + int(v2[1]) * scale - 1, color);
  }
  return stb_easy_font_width(s.data()) * scale;
}

void draw_line(Image& img, double x0, double y0, double x1, double y1, Rgb color) {
  const double len = std::max(std::fabs(x1 - x0), std::fabs(y1 - y0));
  const int steps = int(std::ceil(len)) + 1;
  for (int i = 0; i <= steps; ++i) {
    const double t = double(i) / steps;
    img.set(int(std::lround(x0 + t * (x1 - x0))), int(std::lround(y0 + t * (y1 - y0))), color);
  }
}

void draw_circle(Image& img, double cx, double cy, double radius, Rgb color) {
  const int steps = std::max(64, int(8 * radius));
  for (int i = 0; i < steps; ++i) {
    const double a0 = 2 * M_PI * i / steps, a1 = 2 * M_PI * (i + 1) / steps;
    draw_line(img, cx + radius * std::cos(a0), cy + radius * std::sin(a0), cx + radius * std::cos(a1),
              cy + radius * std::sin(a1), color);
  }
}

namespace {
std::string format_number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}
}  // namespace

Image render_scatter(const double* x, index_t n, index_t d, const ScatterOptions& opt) {
  const int size = opt.size;
  Image img(size, size);
  const double cx = opt.centre.size() > 0 ? opt.centre[0] : 0;
  const double cy = opt.centre.size() > 1 ? opt.centre[1] : 0;
  auto px = [&](index_t i) { return x[i * d]; };
  auto py = [&](index_t i) { return d > 1 ? x[i * d + 1] : 0.0; };
  double extent = opt.extent;
  if (!(extent > 0)) {
    for (index_t i = 0; i < n; ++i) {
      if (std::isfinite(px(i)) && std::isfinite(py(i))) {
        extent = std::max({extent, std::fabs(px(i) - cx), std::fabs(py(i) - cy)});
      }
    }
    for (double c : opt.circles) extent = std::max(extent, c);
    extent = extent > 0 ? 1.1 * extent : 1.0;
  }
  const double scale = 0.5 * size / extent;
  auto to_px = [&](double v, double c) { return 0.5 * size + (v - c) * scale; };
  // Dots: 2x2 pixels, fainter when there are many.
  const double alpha = std::clamp(3000.0 / double(std::max<index_t>(n, 1)), 0.15, 0.8);
  const Rgb blue{31, 119, 180};
  for (index_t i = 0; i < n; ++i) {
    const double u = to_px(px(i), cx), v = to_px(py(i), cy);
    if (!std::isfinite(u) || !std::isfinite(v)) continue;
    const int iu = int(std::floor(u)), iv = size - 1 - int(std::floor(v));
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) img.blend(iu + a, iv + b, blue, alpha);
    }
  }
  for (double r : opt.circles) {
    draw_circle(img, 0.5 * size, size - 1 - 0.5 * size, r * scale, Rgb{0, 0, 0});
  }
  const Rgb grey{90, 90, 90};
  int y = 4;
  if (!opt.title.empty()) {
    draw_text(img, 6, y, opt.title, Rgb{0, 0, 0}, 2);
    y += 26;
  }
  std::string axes = "box +-" + format_number(extent);
  if (d > 2) axes += ", projection on x1, x2 of d = " + std::to_string(d);
  draw_text(img, 6, y, axes, grey, 1);
  return img;
}

Image render_lines(const std::vector<Series>& series, const LinePlotOptions& opt) {
  Image img(opt.width, opt.height);
  const int left = 80, right = 20, top = 40, bottom = 50;
  const int w = opt.width - left - right, h = opt.height - top - bottom;
  auto usable = [&](double y) { return std::isfinite(y) && (!opt.log_y || y > 0); };
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable(s.y[i]) || !std::isfinite(s.x[i])) continue;
      const double yy = opt.log_y ? std::log10(s.y[i]) : s.y[i];
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, yy);
      y1 = std::max(y1, yy);
    }
  }
  if (!(x1 >= x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  if (opt.log_y) {
    y0 = std::floor(y0), y1 = std::ceil(y1);
  }
  if (y1 == y0) y1 = y0 + 1;
  auto X = [&](double x) { return left + (x - x0) / (x1 - x0) * w; };
  auto Y = [&](double y) { return top + h - (y - y0) / (y1 - y0) * h; };
  const Rgb black{0, 0, 0}, grid{225, 225, 225};
  // Grid and ticks: decades on a log axis, 5 intervals otherwise.
  const int ny = opt.log_y ? int(y1 - y0) : 5;
  for (int k = 0; k <= ny; ++k) {
    const double yy = y0 + (y1 - y0) * k / ny;
    draw_line(img, left, Y(yy), left + w, Y(yy), grid);
    const std::string label = opt.log_y ? "1e" + std::to_string(int(std::lround(yy)))
                                        : format_number(yy);
    draw_text(img, 8, int(Y(yy)) - 6, label, black, 2);
  }
  for (int k = 0; k <= 5; ++k) {
    const double xx = x0 + (x1 - x0) * k / 5;
    draw_line(img, X(xx), top, X(xx), top + h, grid);
    draw_text(img, int(X(xx)) - 10, top + h + 8, format_number(xx), black, 2);
  }
  draw_line(img, left, top, left, top + h, black);
  draw_line(img, left, top + h, left + w, top + h, black);
  for (const auto& s : series) {
    bool have = false;
    double px = 0, py = 0;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable(s.y[i])) continue;
      const double qx = X(s.x[i]), qy = Y(opt.log_y ? std::log10(s.y[i]) : s.y[i]);
      if (have) {
        draw_line(img, px, py, qx, qy, s.color);
        draw_line(img, px, py + 1, qx, qy + 1, s.color);
      }
      img.fill_rect(int(qx) - 1, int(qy) - 1, int(qx) + 1, int(qy) + 1, s.color);
      have = true;
      px = qx, py = qy;
    }
  }
  draw_text(img, left, 8, opt.title, black, 2);
  draw_text(img, left + w / 2 - 20, opt.height - 18, opt.x_label, black, 2);
  int ly = top + 8;
  for (const auto& s : series) {
    img.fill_rect(left + w - 170, ly + 4, left + w - 150, ly + 7, s.color);
    draw_text(img, left + w - 145, ly, s.name, black, 2);
    ly += 22;
  }
  if (!opt.y_label.empty()) draw_text(img, 8, top - 22, opt.y_label, black, 2);
  return img;
}

}  // namespace nwgf
