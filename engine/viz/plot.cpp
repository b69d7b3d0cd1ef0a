#include "nwgf/engine/viz/plot.hpp"

#include <stb_easy_font.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "nwgf/engine/error.hpp"

namespace nwgf {

int draw_text(Image& img, int x, int y, const std::string& text, Rgb color, int scale) {
  // stb_easy_font emits quads of 4 vertices, 16 bytes each (x, y, z floats + rgba).
  std::vector<char> buf(text.size() * 270 + 64);
  std::vector<char> s(text.begin(), text.end());
  s.push_back('\0');
  unsigned char rgba[4] = {color.r, color.g, color.b, 255};
  const int quads = stb_easy_font_print(0, 0, s.data(), rgba, buf.data(), int(buf.size()));
  for (int q = 0; q < quads; ++q) {
    // The quad's bounding box (its vertices come in either winding).
    float lo[2] = {1e30f, 1e30f}, hi[2] = {-1e30f, -1e30f};
    for (int v = 0; v < 4; ++v) {
      const float* p = reinterpret_cast<const float*>(buf.data() + q * 64 + v * 16);
      for (int k = 0; k < 2; ++k) lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
    }
    img.fill_rect(x + int(std::lround(lo[0] * float(scale))), y + int(std::lround(lo[1] * float(scale))),
                  x + int(std::lround(hi[0] * float(scale))) - 1,
                  y + int(std::lround(hi[1] * float(scale))) - 1, color);
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
    draw_line(img, cx + radius * std::cos(a0), cy + radius * std::sin(a0),
              cx + radius * std::cos(a1), cy + radius * std::sin(a1), color);
  }
}

namespace {
std::string format_number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}
}  // namespace

namespace {

// The box of render_scatter / render_density: pixel coordinates of the first two coordinates.
struct Frame {
  int size;
  double cx, cy, extent, scale;
  Frame(const double* x, index_t n, index_t d, const ScatterOptions& opt)
      : size(opt.size),
        cx(opt.centre.size() > 0 ? opt.centre[0] : 0),
        cy(opt.centre.size() > 1 ? opt.centre[1] : 0),
        extent(fit_extent(x, n, d, opt)),
        scale(0.5 * size / extent) {}
  double u(double v) const { return 0.5 * size + (v - cx) * scale; }
  double v(double w) const { return 0.5 * size + (w - cy) * scale; }
};

// Circles around the centre, the title and the box label.
void draw_overlay(Image& img, const Frame& f, index_t d, const ScatterOptions& opt) {
  for (double r : opt.circles) {
    draw_circle(img, 0.5 * f.size, f.size - 1 - 0.5 * f.size, r * f.scale, Rgb{0, 0, 0});
  }
  const Rgb grey{90, 90, 90};
  int y = 4;
  if (!opt.title.empty()) {
    draw_text(img, 6, y, opt.title, Rgb{0, 0, 0}, 2);
    y += 26;
  }
  std::string axes = "box +-" + format_number(f.extent);
  if (d > 2) axes += ", projection on x1, x2 of d = " + std::to_string(d);
  draw_text(img, 6, y, axes, grey, 1);
}

}  // namespace

double fit_extent(const double* x, index_t n, index_t d, const ScatterOptions& opt) {
  if (opt.extent > 0) return opt.extent;
  const double cx = opt.centre.size() > 0 ? opt.centre[0] : 0;
  const double cy = opt.centre.size() > 1 ? opt.centre[1] : 0;
  double extent = 0;
  for (index_t i = 0; i < n; ++i) {
    const double px = x[i * d], py = d > 1 ? x[i * d + 1] : 0.0;
    if (std::isfinite(px) && std::isfinite(py)) {
      extent = std::max({extent, std::fabs(px - cx), std::fabs(py - cy)});
    }
  }
  for (double c : opt.circles) extent = std::max(extent, c);
  return extent > 0 ? 1.1 * extent : 1.0;
}

Image render_scatter(const double* x, index_t n, index_t d, const ScatterOptions& opt) {
  const Frame f(x, n, d, opt);
  Image img(f.size, f.size);
  // Dots: 2x2 pixels, fainter when there are many.
  const double alpha = std::clamp(3000.0 / double(std::max<index_t>(n, 1)), 0.15, 0.8);
  const Rgb blue{31, 119, 180};
  for (index_t i = 0; i < n; ++i) {
    const double u = f.u(x[i * d]), v = f.v(d > 1 ? x[i * d + 1] : 0.0);
    if (!std::isfinite(u) || !std::isfinite(v)) continue;
    const int iu = int(std::floor(u)), iv = f.size - 1 - int(std::floor(v));
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) img.blend(iu + a, iv + b, blue, alpha);
    }
  }
  draw_overlay(img, f, d, opt);
  return img;
}

Image render_weighted_scatter(const double* x, const double* w, index_t n, index_t d,
                              const ScatterOptions& opt) {
  const Frame f(x, n, d, opt);
  Image img(f.size, f.size);
  double top = 0;
  for (index_t i = 0; i < n; ++i) top = std::max(top, w[i]);
  const Rgb ink{214, 39, 40}, hollow{110, 110, 110};
  const int radius = std::max(2, f.size / 128);
  for (index_t i = 0; i < n; ++i) {
    const double u = f.u(x[i * d]), v = f.v(d > 1 ? x[i * d + 1] : 0.0);
    if (!std::isfinite(u) || !std::isfinite(v)) continue;
    const double cu = u, cv = f.size - 1 - v;
    if (!(w[i] > 0)) {
      draw_circle(img, cu, cv, radius, hollow);
      continue;
    }
    const double alpha = 0.15 + 0.85 * w[i] / top;
    for (int a = -radius; a <= radius; ++a) {
      for (int b = -radius; b <= radius; ++b) {
        if (a * a + b * b <= radius * radius) {
          img.blend(int(std::floor(cu)) + a, int(std::floor(cv)) + b, ink, alpha);
        }
      }
    }
  }
  draw_overlay(img, f, d, opt);
  return img;
}

Image render_density(const double* x, index_t n, index_t d, const ScatterOptions& opt) {
  const Frame f(x, n, d, opt);
  Image img(f.size, f.size);
  // Cells of 2x2 pixels, (cells, cells) counts; row 0 at the top like the image.
  const int cells = (f.size + 1) / 2;
  std::vector<index_t> count(std::size_t(cells) * std::size_t(cells), 0);
  for (index_t i = 0; i < n; ++i) {
    const double u = f.u(x[i * d]), v = f.v(d > 1 ? x[i * d + 1] : 0.0);
    if (!(u >= 0 && u < f.size && v >= 0 && v < f.size)) continue;  // also drops NaN
    const int cu = int(u) / 2, cv = (f.size - 1 - int(v)) / 2;
    ++count[std::size_t(cv) * std::size_t(cells) + std::size_t(cu)];
  }
  const index_t peak = *std::max_element(count.begin(), count.end());
  const double norm = peak > 0 ? 1.0 / std::log1p(double(peak)) : 0;
  const Rgb ink{8, 48, 107};
  for (int cv = 0; cv < cells; ++cv) {
    for (int cu = 0; cu < cells; ++cu) {
      const index_t c = count[std::size_t(cv) * std::size_t(cells) + std::size_t(cu)];
      if (c == 0) continue;
      // A single point stays visible (opacity >= 0.15); the peak is full ink.
      const double alpha = 0.15 + 0.85 * std::log1p(double(c)) * norm;
      for (int a = 0; a < 2; ++a) {
        for (int b = 0; b < 2; ++b) img.blend(2 * cu + a, 2 * cv + b, ink, alpha);
      }
    }
  }
  draw_overlay(img, f, d, opt);
  return img;
}

Image render_tiles(const double* x, index_t n, index_t d, const TileOptions& opt) {
  const int th = opt.tile_height, tw = opt.tile_width;
  if (th < 1 || tw < 1 || opt.columns < 1 || opt.scale < 1 || opt.gap < 0) {
    throw_bad_input("tiles: tile size, columns and scale must be positive, the gap >= 0");
  }
  if (d != index_t(th) * index_t(tw)) {
    throw_bad_input("tiles (--tile HxW): d = " + std::to_string(d) + " is not " +
                    std::to_string(th) + "x" + std::to_string(tw) + " = " +
                    std::to_string(index_t(th) * index_t(tw)));
  }
  if (n < 1) throw_bad_input("tiles: no rows to draw");
  const index_t columns = std::min<index_t>(opt.columns, n);
  const index_t rows = (n + columns - 1) / columns;
  const index_t step_x = index_t(tw) * opt.scale + opt.gap,
                step_y = index_t(th) * opt.scale + opt.gap;
  const int top = opt.title.empty() ? 0 : 26;
  const index_t width = opt.gap + columns * step_x, height = top + opt.gap + rows * step_y;
  if (width > 32768 || height > 32768) {
    throw_bad_input("tiles: a grid of " + std::to_string(width) + "x" + std::to_string(height) +
                    " pixels is too large (at most 32768 a side; fewer tiles or columns)");
  }
  Image img(int(width), int(height), Rgb{200, 200, 200});
  for (index_t k = 0; k < n; ++k) {
    const int x0 = int(opt.gap + (k % columns) * step_x);
    const int y0 = int(top + opt.gap + (k / columns) * step_y);
    const double* tile = x + k * d;  // (th, tw)
    for (int i = 0; i < th; ++i) {
      for (int j = 0; j < tw; ++j) {
        const double v = tile[i * tw + j];
        const double ink = std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : 0.0;
        const auto g = std::uint8_t(std::lround(255.0 * (1.0 - ink)));
        img.fill_rect(x0 + j * opt.scale, y0 + i * opt.scale, x0 + (j + 1) * opt.scale - 1,
                      y0 + (i + 1) * opt.scale - 1, Rgb{g, g, g});
      }
    }
  }
  if (top > 0) {
    img.fill_rect(0, 0, int(width) - 1, top - 1, Rgb{255, 255, 255});
    draw_text(img, 6, 4, opt.title, Rgb{0, 0, 0}, 2);
  }
  return img;
}

namespace {

int text_width(const std::string& text, int scale) {
  std::vector<char> s(text.begin(), text.end());
  s.push_back('\0');
  return stb_easy_font_width(s.data()) * scale;
}

// A tick step of 1, 2 or 5 times a power of ten giving about `count` intervals over `range`.
double nice_step(double range, int count) {
  const double raw = range / count;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * p >= raw) return m * p;
  }
  return 10 * p;
}

// Tick labels with as many decimals as the step needs (scientific for tiny or huge values).
std::string tick_label(double v, double step) {
  char b[32];
  if (std::fabs(v) < 0.5 * step) v = 0;
  const double big = std::max(std::fabs(v), step);
  if (step < 1e-3 || big >= 1e6) {
    std::snprintf(b, sizeof b, "%.2g", v);
  } else {
    const int decimals = std::max(0, int(std::ceil(-std::log10(step) - 1e-9)));
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
  }
  return b;
}

}  // namespace

Image render_lines(const std::vector<Series>& series, const LinePlotOptions& opt) {
  Image img(opt.width, opt.height);
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
  if (y1 == y0) y1 = y0 + 1;
  // Ticks: decades on a log axis, 1-2-5 steps otherwise; the axes end on ticks.
  const double ystep = opt.log_y ? 1.0 : nice_step(y1 - y0, 5);
  y0 = std::floor(y0 / ystep + 1e-9) * ystep;
  y1 = std::ceil(y1 / ystep - 1e-9) * ystep;
  if (y1 <= y0) y1 = y0 + ystep;
  const double xstep = nice_step(x1 - x0, 6);
  std::vector<std::string> ylabels;
  std::vector<double> yticks;
  for (double yy = y0; yy <= y1 + 0.5 * ystep; yy += ystep) {
    yticks.push_back(yy);
    ylabels.push_back(opt.log_y ? "1e" + std::to_string(int(std::lround(yy))) : tick_label(yy, ystep));
  }
  int label_w = 0;
  for (const auto& l : ylabels) label_w = std::max(label_w, text_width(l, 2));
  const int left = label_w + 20, right = 24, top = opt.y_label.empty() ? 44 : 66, bottom = 56;
  const int w = opt.width - left - right, h = opt.height - top - bottom;
  auto X = [&](double x) { return left + (x - x0) / (x1 - x0) * w; };
  auto Y = [&](double y) { return top + h - (y - y0) / (y1 - y0) * h; };
  const Rgb black{0, 0, 0}, grid{225, 225, 225};
  for (std::size_t k = 0; k < yticks.size(); ++k) {
    draw_line(img, left, Y(yticks[k]), left + w, Y(yticks[k]), grid);
    draw_text(img, left - 10 - text_width(ylabels[k], 2), int(Y(yticks[k])) - 6, ylabels[k], black, 2);
  }
  for (double xx = std::ceil(x0 / xstep - 1e-9) * xstep; xx <= x1 + 1e-9 * xstep; xx += xstep) {
    draw_line(img, X(xx), top, X(xx), top + h, grid);
    const std::string l = tick_label(xx, xstep);
    draw_text(img, int(X(xx)) - text_width(l, 2) / 2, top + h + 8, l, black, 2);
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
  draw_text(img, 10, 10, opt.title, black, 2);
  if (!opt.y_label.empty()) draw_text(img, 10, 36, opt.y_label, black, 2);
  draw_text(img, left + w / 2 - text_width(opt.x_label, 2) / 2, opt.height - 22, opt.x_label,
            black, 2);
  // Legend in a framed white box at the top right, over the curves.
  int name_w = 0, named = 0;
  for (const auto& s : series) {
    name_w = std::max(name_w, text_width(s.name, 2));
    named += s.name.empty() ? 0 : 1;
  }
  if (named > 0) {
    const int bw = name_w + 44, bh = 22 * named + 8;
    const int bx = left + w - bw - 6, by = top + 6;
    img.fill_rect(bx, by, bx + bw, by + bh, Rgb{255, 255, 255});
    draw_line(img, bx, by, bx + bw, by, grid);
    draw_line(img, bx, by + bh, bx + bw, by + bh, grid);
    draw_line(img, bx, by, bx, by + bh, grid);
    draw_line(img, bx + bw, by, bx + bw, by + bh, grid);
    int ly = by + 6;
    for (const auto& s : series) {
      if (s.name.empty()) continue;
      img.fill_rect(bx + 8, ly + 5, bx + 28, ly + 8, s.color);
      draw_text(img, bx + 36, ly, s.name, black, 2);
      ly += 22;
    }
  }
  return img;
}

}  // namespace nwgf
