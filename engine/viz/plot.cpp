#include "nwgf/engine/viz/plot.hpp"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/viz/draw.hpp"
#include "nwgf/engine/viz/kde.hpp"

namespace nwgf {
namespace {

using namespace viz;

const Rgb black{0, 0, 0}, grid_grey{225, 225, 225};
const Rgb sample_blue{31, 119, 180}, target_orange{255, 127, 14};

// Font size of a square picture of `size` pixels.
double scatter_font(int size) { return std::clamp(size / 40.0, 8.0, 20.0); }

// The first two coordinates of n points of R^d, as (n, 2) (x2 = 0 for d = 1).
std::vector<double> first_two(const double* x, index_t n, index_t d) {
  std::vector<double> p(std::size_t(2 * n));
  for (index_t i = 0; i < n; ++i) {
    p[std::size_t(2 * i)] = x[i * d];
    p[std::size_t(2 * i + 1)] = d > 1 ? x[i * d + 1] : 0.0;
  }
  return p;
}

// Ticks of the data box on one axis: about 6 intervals over [c - e, c + e].
std::vector<double> box_ticks(double c, double e, double* step) {
  *step = nice_step(2 * e, 6);
  return ticks_between(c - e, c + e, *step);
}

// Everything of a scatter or density picture but the data: frame, ticks, labels, circles, title.
struct ScatterFrame {
  ScatterBox box;
  double fs;
  int size;
  index_t d;
  ScatterOptions opt;

  void clip(cairo_t* cr) const {
    cairo_rectangle(cr, box.left, box.top, box.side, box.side);
    cairo_clip(cr);
  }

  void draw_circles(cairo_t* cr) const {
    cairo_save(cr);
    clip(cr);
    set_colour(cr, black);
    cairo_set_line_width(cr, std::max(1.0, fs / 10));
    const double scale = box.side / (2 * box.extent);
    for (double r : opt.circles) {
      cairo_new_sub_path(cr);
      cairo_arc(cr, box.u(box.cx), box.v(box.cy), r * scale, 0, 2 * M_PI);
      cairo_stroke(cr);
    }
    cairo_restore(cr);
  }

  void draw_axes(cairo_t* cr) const {
    const double tick = 0.4 * fs;
    set_colour(cr, black);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, box.left - 0.5, box.top - 0.5, box.side + 1, box.side + 1);
    cairo_stroke(cr);
    set_font(cr, fs);
    double sx = 0, sy = 0;
    const std::vector<double> tx = box_ticks(box.cx, box.extent, &sx);
    const std::vector<double> ty = box_ticks(box.cy, box.extent, &sy);
    for (double t : tx) {
      const double u = std::round(box.u(t)) + 0.5;
      cairo_move_to(cr, u, box.top + box.side + 0.5);
      cairo_line_to(cr, u, box.top + box.side + 0.5 + tick);
      cairo_stroke(cr);
      draw_text(cr, u, box.top + box.side + tick + 0.2 * fs, tick_label(t, sx), 0.5, 0);
    }
    if (d > 1) {
      for (double t : ty) {
        const double v = std::round(box.v(t)) + 0.5;
        cairo_move_to(cr, box.left - 0.5, v);
        cairo_line_to(cr, box.left - 0.5 - tick, v);
        cairo_stroke(cr);
        draw_text(cr, box.left - tick - 0.3 * fs, v, tick_label(t, sy), 1, 0.5);
      }
    }
    const double label_y = box.top + box.side + tick + 1.4 * fs;
    std::string xl = "x1";
    if (d > 2) xl += "   (first two of d = " + std::to_string(d) + " coordinates)";
    set_font(cr, fit_font(cr, xl, fs, box.side));
    draw_text(cr, box.left + box.side / 2, label_y, xl, 0.5, 0);
    set_font(cr, fs);
    if (d > 1) draw_text(cr, 0.3 * fs, box.top + box.side / 2, "x2", 0.5, 0, -M_PI / 2);
    if (!opt.title.empty()) {
      set_font(cr, 1.15 * fs);
      fit_font(cr, opt.title, 1.15 * fs, size - 0.6 * fs);
      draw_text(cr, 0.3 * fs, box.top - 0.4 * fs, opt.title, 0, 1);
    }
  }
};

ScatterFrame make_frame(const double* x, index_t n, index_t d, const ScatterOptions& opt,
                        bool colour_bar) {
  return ScatterFrame{scatter_box(opt, fit_extent(x, n, d, opt), colour_bar),
                      scatter_font(opt.size), opt.size, d, opt};
}

// Dots of n points (p: (n, 2)) in colour c. Few points: one antialiased cairo disc each. Many:
// a coverage raster at the device resolution, each point adding its disc area to the pixels
// around it (bilinear share); a pixel's opacity 1 - exp(-alpha * coverage), what compositing that
// many faint dots gives, and the raster painted once. Under a second for 1e6 points.
void draw_dots(cairo_t* cr, const ScatterBox& box, const std::vector<double>& p, Rgb c,
               DotStyle s) {
  const index_t n = index_t(p.size() / 2);
  cairo_save(cr);
  cairo_rectangle(cr, box.left, box.top, box.side, box.side);
  cairo_clip(cr);
  if (n <= 20000) {
    set_colour(cr, c, s.alpha);
    for (index_t i = 0; i < n; ++i) {
      const double u = box.u(p[std::size_t(2 * i)]), v = box.v(p[std::size_t(2 * i + 1)]);
      if (!std::isfinite(u) || !std::isfinite(v)) continue;
      cairo_new_sub_path(cr);
      cairo_arc(cr, u, v, s.radius, 0, 2 * M_PI);
      cairo_fill(cr);
    }
    cairo_restore(cr);
    return;
  }
  // Vector output embeds the raster at twice the picture's resolution.
  const bool image = cairo_surface_get_type(cairo_get_target(cr)) == CAIRO_SURFACE_TYPE_IMAGE;
  const double res = image ? 1.0 : 2.0;
  const int w = std::max(1, int(std::ceil(box.side * res)));
  std::vector<float> cover(std::size_t(w) * std::size_t(w), 0.0f);  // (w, w), row 0 at the top
  const double area = M_PI * s.radius * s.radius * res * res;
  const double k = res * box.side / (2 * box.extent);
  const double u0 = box.cx - box.extent, v0 = box.cy + box.extent;
  for (index_t i = 0; i < n; ++i) {
    const double fu = (p[std::size_t(2 * i)] - u0) * k - 0.5;
    const double fv = (v0 - p[std::size_t(2 * i + 1)]) * k - 0.5;
    if (!(fu > -1 && fv > -1 && fu < w && fv < w)) continue;  // also drops NaN
    const int iu = int(std::floor(fu)), iv = int(std::floor(fv));
    const double au = fu - iu, av = fv - iv;
    const double wt[4] = {(1 - au) * (1 - av), au * (1 - av), (1 - au) * av, au * av};
    for (int q = 0; q < 4; ++q) {
      const int uu = iu + (q & 1), vv = iv + (q >> 1);
      if (uu >= 0 && vv >= 0 && uu < w && vv < w) {
        cover[std::size_t(vv) * std::size_t(w) + std::size_t(uu)] += float(wt[q] * area);
      }
    }
  }
  cairo_surface_t* layer = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, w);
  unsigned char* data = cairo_image_surface_get_data(layer);
  const int stride = cairo_image_surface_get_stride(layer);
  for (int y = 0; y < w; ++y) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + std::ptrdiff_t(y) * stride);
    for (int x = 0; x < w; ++x) {
      const double a =
          1 - std::exp(-s.alpha * cover[std::size_t(y) * std::size_t(w) + std::size_t(x)]);
      auto pm = [a](std::uint8_t ch) { return std::uint32_t(std::lround(ch * a)); };
      row[x] =
          (std::uint32_t(std::lround(255 * a)) << 24) | (pm(c.r) << 16) | (pm(c.g) << 8) | pm(c.b);
    }
  }
  cairo_surface_mark_dirty(layer);
  cairo_translate(cr, box.left, box.top);
  cairo_scale(cr, 1 / res, 1 / res);
  cairo_set_source_surface(cr, layer, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_surface_destroy(layer);
  cairo_restore(cr);
}

}  // namespace

ScatterBox scatter_box(const ScatterOptions& opt, double extent, bool colour_bar) {
  const double fs = scatter_font(opt.size);
  ScatterBox b;
  b.cx = opt.centre.size() > 0 ? opt.centre[0] : 0;
  b.cy = opt.centre.size() > 1 ? opt.centre[1] : 0;
  b.extent = extent > 0 && std::isfinite(extent) ? extent : 1;
  Measurer m;
  set_font(m.cr, fs);
  double step = 0, label_w = 0, x_last = 0;
  for (double t : box_ticks(b.cy, b.extent, &step)) {
    label_w = std::max(label_w, measure(m.cr, tick_label(t, step)).width);
  }
  const std::vector<double> tx = box_ticks(b.cx, b.extent, &step);
  if (!tx.empty()) x_last = measure(m.cr, tick_label(tx.back(), step)).width / 2;
  const double tick = 0.4 * fs;
  const double left = std::ceil(1.6 * fs + label_w + tick + 0.3 * fs);
  const double top = std::ceil(opt.title.empty() ? 0.8 * fs : 2.2 * fs);
  const double bottom = tick + 2.8 * fs + 0.4 * fs;
  double right = std::max(0.8 * fs, x_last + 0.3 * fs);
  if (colour_bar)
    right = std::max(right, 0.8 * fs + 1.1 * fs + tick + measure(m.cr, "1e+06").width + 1.8 * fs);
  b.left = left;
  b.top = top;
  b.side = std::max(16.0, std::floor(std::min(opt.size - left - right, opt.size - top - bottom)));
  // A box narrowed by the colour bar sits in the middle of the height left (title above it).
  b.top += std::max(0.0, std::floor((opt.size - top - bottom - b.side) / 2));
  return b;
}

DotStyle dot_style(index_t n, int size) {
  const double nn = double(std::max<index_t>(n, 1));
  const double px = size / 512.0;
  return {std::clamp(3.2 * std::pow(300.0 / nn, 0.25), 0.6, 3.5) * std::max(px, 0.5),
          std::clamp(std::sqrt(2000.0 / nn), 0.04, 0.85)};
}

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

Picture render_scatter(const double* x, index_t n, index_t d, const ScatterOptions& opt) {
  const ScatterFrame f = make_frame(x, n, d, opt, false);
  auto p = std::make_shared<const std::vector<double>>(first_two(x, n, d));
  return {opt.size, opt.size, [f, p, n](cairo_t* cr) {
            if (!f.opt.target.empty()) {
              const index_t m = index_t(f.opt.target.size() / 2);
              draw_dots(cr, f.box, f.opt.target, target_orange, dot_style(m, f.size));
            }
            draw_dots(cr, f.box, *p, sample_blue, dot_style(n, f.size));
            f.draw_circles(cr);
            f.draw_axes(cr);
          }};
}

Picture render_weighted_scatter(const double* x, const double* w, index_t n, index_t d,
                                const ScatterOptions& opt) {
  const ScatterFrame f = make_frame(x, n, d, opt, false);
  auto p = std::make_shared<const std::vector<double>>(first_two(x, n, d));
  auto wt = std::make_shared<const std::vector<double>>(w, w + n);
  return {opt.size, opt.size, [f, p, wt, n](cairo_t* cr) {
            double top = 0;
            for (double v : *wt) top = std::max(top, v);
            const double radius = std::max(2.0, f.size / 128.0);
            cairo_save(cr);
            f.clip(cr);
            cairo_set_line_width(cr, 1);
            for (index_t i = 0; i < n; ++i) {
              const double u = f.box.u((*p)[std::size_t(2 * i)]);
              const double v = f.box.v((*p)[std::size_t(2 * i + 1)]);
              if (!std::isfinite(u) || !std::isfinite(v)) continue;
              const double wi = (*wt)[std::size_t(i)];
              cairo_new_sub_path(cr);
              cairo_arc(cr, u, v, radius, 0, 2 * M_PI);
              if (wi > 0) {
                set_colour(cr, Rgb{214, 39, 40}, 0.15 + 0.85 * wi / top);
                cairo_fill(cr);
              } else {
                set_colour(cr, Rgb{110, 110, 110});
                cairo_stroke(cr);
              }
            }
            cairo_restore(cr);
            f.draw_circles(cr);
            f.draw_axes(cr);
          }};
}

Rgb viridis(double t) {
  // matplotlib's viridis at t = 0, 0.1, ..., 1.
  static const Rgb stops[11] = {{68, 1, 84},    {72, 36, 117},  {65, 68, 135},  {53, 95, 141},
                                {42, 120, 142}, {33, 145, 140}, {34, 168, 132}, {68, 191, 112},
                                {122, 209, 81}, {189, 223, 38}, {253, 231, 37}};
  const double s = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 10;
  const int i = std::min(9, int(s));
  const double a = s - i;
  auto mix = [a](std::uint8_t p, std::uint8_t q) {
    return std::uint8_t(std::lround(p + a * (q - p)));
  };
  return {mix(stops[i].r, stops[i + 1].r), mix(stops[i].g, stops[i + 1].g),
          mix(stops[i].b, stops[i + 1].b)};
}

Picture render_density(const double* x, index_t n, index_t d, const ScatterOptions& opt) {
  const ScatterFrame f = make_frame(x, n, d, opt, true);
  // Cells of about 2x2 pixels: (cells, cells) values, row 0 at the top.
  const int cells = std::max(8, int(f.box.side / 2));
  const bool kde = opt.density == DensityEstimate::kde;
  std::vector<double> value;
  if (kde) {
    const double h = opt.bandwidth > 0 ? opt.bandwidth : scott_bandwidth(x, n, d);
    value = gaussian_kde(x, n, d, KdeGrid{f.box.cx, f.box.cy, f.box.extent, cells}, h);
  } else {
    if (opt.bandwidth != 0) throw_bad_input("--bandwidth: only a kde density has a bandwidth");
    value.assign(std::size_t(cells) * std::size_t(cells), 0.0);
    const double k = cells / (2 * f.box.extent);
    for (index_t i = 0; i < n; ++i) {
      const double cu = (x[i * d] - (f.box.cx - f.box.extent)) * k;
      const double cv = ((f.box.cy + f.box.extent) - (d > 1 ? x[i * d + 1] : 0.0)) * k;
      if (!(cu >= 0 && cu < cells && cv >= 0 && cv < cells)) continue;  // also drops NaN
      value[std::size_t(cv) * std::size_t(cells) + std::size_t(cu)] += 1;
    }
  }
  auto cell = std::make_shared<const std::vector<double>>(std::move(value));
  return {opt.size, opt.size, [f, cell, cells, kde](cairo_t* cr) {
            const double peak = *std::max_element(cell->begin(), cell->end());
            // The colour scale: t in [0, 1] of a value (counts: logarithmic; kde: linear).
            const double norm = !(peak > 0) ? 0 : kde ? 1.0 / peak : 1.0 / std::log1p(peak);
            auto shade = [kde, norm](double v) { return (kde ? v : std::log1p(v)) * norm; };
            // White: empty cells; for the estimate, below 1/1000 of its peak (the bottom colour
            // anyway), so the edge is a contour of the estimate, not of its truncation at 4 h.
            const double blank = kde ? 1e-3 * peak : 0;
            cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, cells, cells);
            unsigned char* data = cairo_image_surface_get_data(img);
            const int stride = cairo_image_surface_get_stride(img);
            for (int y = 0; y < cells; ++y) {
              auto* row = reinterpret_cast<std::uint32_t*>(data + std::ptrdiff_t(y) * stride);
              for (int x = 0; x < cells; ++x) {
                const double c = (*cell)[std::size_t(y) * std::size_t(cells) + std::size_t(x)];
                const Rgb v = viridis(shade(c));
                row[x] = !(c > blank) ? 0u
                                  : 0xff000000u | (std::uint32_t(v.r) << 16) |
                                        (std::uint32_t(v.g) << 8) | std::uint32_t(v.b);
              }
            }
            cairo_surface_mark_dirty(img);
            cairo_save(cr);
            f.clip(cr);
            cairo_translate(cr, f.box.left, f.box.top);
            cairo_scale(cr, f.box.side / cells, f.box.side / cells);
            cairo_set_source_surface(cr, img, 0, 0);
            // Counts are cells; the estimate is a smooth function, drawn so.
            cairo_pattern_set_filter(cairo_get_source(cr),
                                     kde ? CAIRO_FILTER_BILINEAR : CAIRO_FILTER_NEAREST);
            cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
            cairo_paint(cr);
            cairo_restore(cr);
            cairo_surface_destroy(img);
            f.draw_circles(cr);
            f.draw_axes(cr);
            // The colour bar: viridis from 0 (bottom) to the peak (top).
            const double fs = f.fs, tick = 0.4 * fs;
            const double bx = f.box.left + f.box.side + 0.8 * fs, bw = 1.1 * fs;
            const double by = f.box.top, bh = f.box.side;
            cairo_pattern_t* grad = cairo_pattern_create_linear(0, by + bh, 0, by);
            for (int s = 0; s <= 20; ++s) {
              const Rgb c = viridis(s / 20.0);
              cairo_pattern_add_color_stop_rgb(grad, s / 20.0, c.r / 255.0, c.g / 255.0,
                                               c.b / 255.0);
            }
            cairo_rectangle(cr, bx, by, bw, bh);
            cairo_set_source(cr, grad);
            cairo_fill(cr);
            cairo_pattern_destroy(grad);
            set_colour(cr, black);
            cairo_set_line_width(cr, 1);
            cairo_rectangle(cr, bx - 0.5, by - 0.5, bw + 1, bh + 1);
            cairo_stroke(cr);
            set_font(cr, fs);
            if (peak > 0) {
              // Counts: 1, 10, 100, ... and the peak; kde: 1-2-5 steps from 0 (labels %.3g).
              std::vector<double> marks;
              if (kde) {
                marks = ticks_between(0, peak, nice_step(peak, 4));
              } else {
                for (double c = 1; c <= peak * (1 + 1e-9); c *= 10) marks.push_back(c);
                if (marks.back() < peak) marks.push_back(peak);
              }
              double last_y = std::numeric_limits<double>::infinity();
              for (std::size_t i = 0; i < marks.size(); ++i) {
                const double y = by + bh - bh * shade(marks[i]);
                // The peak's label only where it does not overlap the last decade's.
                if (!kde && i + 1 == marks.size() && i > 0 && last_y - y < 1.1 * fs) continue;
                cairo_move_to(cr, bx + bw + 0.5, std::round(y) + 0.5);
                cairo_line_to(cr, bx + bw + 0.5 + tick, std::round(y) + 0.5);
                cairo_stroke(cr);
                char b[32];
                std::snprintf(b, sizeof b, kde ? "%.3g" : "%.4g", marks[i]);
                draw_text(cr, bx + bw + tick + 0.2 * fs, y, b, 0, 0.5);
                last_y = y;
              }
            }
            draw_text(cr, f.size - 0.3 * fs, by + bh / 2, kde ? "density" : "count per cell", 0.5,
                      0, M_PI / 2);
          }};
}

TileLayout tile_layout(index_t n, const TileOptions& opt) {
  const int th = opt.tile_height, tw = opt.tile_width;
  if (th < 1 || tw < 1 || opt.columns < 1 || opt.scale < 1 || opt.gap < 0) {
    throw_bad_input("tiles: tile size, columns and scale must be positive, the gap >= 0");
  }
  if (n < 1) throw_bad_input("tiles: no rows to draw");
  TileLayout L;
  const index_t columns = std::min<index_t>(opt.columns, n);
  const index_t rows = (n + columns - 1) / columns;
  if (index_t(opt.row_labels.size()) > rows || index_t(opt.column_labels.size()) > columns) {
    throw_bad_input("tiles: " + std::to_string(opt.row_labels.size()) + " row and " +
                    std::to_string(opt.column_labels.size()) + " column labels for a grid of " +
                    std::to_string(rows) + " x " + std::to_string(columns));
  }
  const index_t step_x = index_t(tw) * opt.scale + opt.gap,
                step_y = index_t(th) * opt.scale + opt.gap;
  const index_t grid_w = opt.gap + columns * step_x, grid_h = opt.gap + rows * step_y;
  // Labels: the font (at most 14 px, at least 6) shrinks until the widest column label fits a
  // column with room to spare and a row label's line fits a row.
  Measurer m;
  const double fs = std::clamp(0.3 * double(th * opt.scale), 9.0, 14.0);
  double left = 0, top = opt.title.empty() ? 0 : 26;
  if (!opt.row_labels.empty()) {
    set_font(m.cr, fs);
    L.row_fs = std::max(6.0, std::min(fs, fs * double(step_y - 1) / measure(m.cr, "Mg").height));
    set_font(m.cr, L.row_fs);
    double widest = 0;
    for (const auto& l : opt.row_labels) widest = std::max(widest, measure(m.cr, l).width);
    left = std::ceil(widest + 0.8 * L.row_fs);
  }
  if (!opt.column_labels.empty()) {
    set_font(m.cr, fs);
    double widest = 0;
    for (const auto& l : opt.column_labels) widest = std::max(widest, measure(m.cr, l).width);
    // A label at most 85% of a column wide: a space between neighbours.
    L.column_fs =
        widest > 0 ? std::max(6.0, std::min(fs, fs * 0.85 * double(step_x) / widest)) : fs;
    set_font(m.cr, L.column_fs);
    top += std::ceil(measure(m.cr, "Mg").height + 0.3 * L.column_fs);
  }
  if (!opt.title.empty()) L.title_fs = 15;
  const index_t width = index_t(left) + grid_w, height = index_t(top) + grid_h;
  if (width > 32768 || height > 32768) {
    throw_bad_input("tiles: a grid of " + std::to_string(width) + "x" + std::to_string(height) +
                    " pixels is too large (at most 32768 a side; fewer tiles or columns)");
  }
  L.width = int(width), L.height = int(height);
  L.grid_left = int(left), L.grid_top = int(top);
  L.grid_width = int(grid_w), L.grid_height = int(grid_h);
  L.step_x = int(step_x), L.step_y = int(step_y), L.gap = opt.gap;
  L.columns = int(columns), L.rows = int(rows);
  return L;
}

Picture render_tiles(const double* x, index_t n, index_t d, const TileOptions& opt) {
  const int th = opt.tile_height, tw = opt.tile_width;
  if (d != index_t(th) * index_t(tw)) {
    throw_bad_input("tiles (--tile HxW): d = " + std::to_string(d) + " is not " +
                    std::to_string(th) + "x" + std::to_string(tw) + " = " +
                    std::to_string(index_t(th) * index_t(tw)));
  }
  const TileLayout L = tile_layout(n, opt);
  // The grid's pixels (grid_height, grid_width): grey gaps, tiles 255 (1 - v).
  const int gw = L.grid_width, gh = L.grid_height;
  auto grid =
      std::make_shared<std::vector<std::uint32_t>>(std::size_t(gw) * std::size_t(gh), 0xffc8c8c8u);
  for (index_t k = 0; k < n; ++k) {
    const int x0 = L.tile_x(k) - L.grid_left, y0 = L.tile_y(k) - L.grid_top;
    const double* tile = x + k * d;  // (th, tw)
    for (int i = 0; i < th * opt.scale; ++i) {
      for (int j = 0; j < tw * opt.scale; ++j) {
        const double v = tile[(i / opt.scale) * tw + j / opt.scale];
        const double ink = std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : 0.0;
        const auto g = std::uint32_t(std::lround(255.0 * (1.0 - ink)));
        (*grid)[std::size_t(y0 + i) * std::size_t(gw) + std::size_t(x0 + j)] =
            0xff000000u | (g << 16) | (g << 8) | g;
      }
    }
  }
  return {L.width, L.height, [grid, L, opt](cairo_t* cr) {
            const int gw = L.grid_width, gh = L.grid_height;
            cairo_surface_t* img = cairo_image_surface_create_for_data(
                reinterpret_cast<unsigned char*>(grid->data()), CAIRO_FORMAT_RGB24, gw, gh, gw * 4);
            cairo_save(cr);
            cairo_set_source_surface(cr, img, L.grid_left, L.grid_top);
            cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
            cairo_rectangle(cr, L.grid_left, L.grid_top, gw, gh);
            cairo_fill(cr);
            cairo_restore(cr);
            cairo_surface_destroy(img);
            set_colour(cr, black);
            if (!opt.title.empty()) {
              set_font(cr, L.title_fs);
              fit_font(cr, opt.title, L.title_fs, L.width - 8);
              draw_text(cr, 6, 13, opt.title, 0, 0.5);
            }
            const double tile_w = opt.tile_width * opt.scale, tile_h = opt.tile_height * opt.scale;
            set_font(cr, L.row_fs);
            for (std::size_t r = 0; r < opt.row_labels.size(); ++r) {
              const index_t k = index_t(r) * L.columns;
              draw_text(cr, L.grid_left - 0.4 * L.row_fs, L.tile_y(k) + tile_h / 2,
                        opt.row_labels[r], 1, 0.5);
            }
            set_font(cr, L.column_fs);
            for (std::size_t c = 0; c < opt.column_labels.size(); ++c) {
              draw_text(cr, L.tile_x(index_t(c)) + tile_w / 2, L.grid_top - 0.15 * L.column_fs,
                        opt.column_labels[c], 0.5, 1);
            }
          }};
}

namespace {

// The layout of render_lines: data ranges (log10 of y on a log axis), ticks and the plot area.
struct LineLayout {
  double fs;
  double x0, x1, y0, y1;
  std::vector<double> xticks, yticks;
  std::vector<std::string> xlabels, ylabels;
  bool decades = false;  // y labels 10^k
  LineBox box;
  double legend_x = 0, legend_w = 0, legend_fs = 0;
  bool usable(double y, bool log_y) const { return std::isfinite(y) && (!log_y || y > 0); }
};

LineLayout line_layout(const std::vector<Series>& series, const LinePlotOptions& opt) {
  LineLayout L;
  L.fs = std::clamp(std::min(opt.width, opt.height) / 36.0, 8.0, 18.0);
  const double fs = L.fs;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  auto extend = [&](double x, double y) {
    if (!L.usable(y, opt.log_y) || !std::isfinite(x)) return;
    const double yy = opt.log_y ? std::log10(y) : y;
    x0 = std::min(x0, x);
    x1 = std::max(x1, x);
    y0 = std::min(y0, yy);
    y1 = std::max(y1, yy);
  };
  for (const auto& s : series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) extend(s.x[i], s.y[i]);
    for (std::size_t i = 0; i < s.x.size() && i < s.low.size() && i < s.high.size(); ++i) {
      extend(s.x[i], s.low[i]);
      extend(s.x[i], s.high[i]);
    }
  }
  if (!(x1 >= x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x0 -= 0.5, x1 += 0.5;
  if (y1 == y0) y0 -= opt.log_y ? 0.5 : std::max(0.5, 0.1 * std::fabs(y0)), y1 = 2 * y1 - y0;
  // y: the axis ends on ticks, so the end labels sit at the frame's corners.
  if (opt.log_y) {
    const double lo = std::floor(y0 + 1e-9), hi = std::ceil(y1 - 1e-9);
    if (hi - lo <= 2) {
      // Within two decades: 1, 2, 5 times each power of ten, axis from tick to tick.
      std::vector<double> all;
      for (double e = lo; e <= hi; ++e) {
        for (double m : {1.0, 2.0, 5.0}) all.push_back(e + std::log10(m));
      }
      std::size_t a = 0, b = all.size() - 1;
      while (a + 1 < all.size() && all[a + 1] <= y0 + 1e-9) ++a;
      while (b > a + 1 && all[b - 1] >= y1 - 1e-9) --b;
      for (std::size_t i = a; i <= b; ++i) {
        L.yticks.push_back(all[i]);
        char s[32];
        std::snprintf(s, sizeof s, "%g", std::pow(10.0, all[i]));
        L.ylabels.push_back(s);
      }
      y0 = all[a], y1 = all[b];
    } else {
      y0 = lo, y1 = hi;
      const double every = std::ceil((hi - lo) / 8);
      for (double e = lo; e <= hi + 1e-9; e += every) {
        L.yticks.push_back(e);
        L.ylabels.push_back(std::to_string(int(std::lround(e))));
      }
      L.decades = true;
    }
  } else {
    const double step = nice_step(y1 - y0, 5);
    y0 = std::floor(y0 / step + 1e-9) * step;
    y1 = std::ceil(y1 / step - 1e-9) * step;
    if (y1 <= y0) y1 = y0 + step;
    L.yticks = ticks_between(y0, y1, step);
    for (double t : L.yticks) L.ylabels.push_back(tick_label(t, step));
  }
  const double xstep = nice_step(x1 - x0, 6);
  L.xticks = ticks_between(x0, x1, xstep);
  for (double t : L.xticks) L.xlabels.push_back(tick_label(t, xstep));
  L.x0 = x0, L.x1 = x1, L.y0 = y0, L.y1 = y1;

  Measurer m;
  set_font(m.cr, fs);
  double label_w = 0;
  for (const auto& l : L.ylabels) {
    double w = measure(m.cr, L.decades ? "10" : l).width;
    if (L.decades) {
      cairo_set_font_size(m.cr, 0.7 * fs);
      w += measure(m.cr, l).width;
      cairo_set_font_size(m.cr, fs);
    }
    label_w = std::max(label_w, w);
  }
  double name_w = 0;
  int named = 0;
  for (const auto& s : series) {
    if (s.name.empty()) continue;
    name_w = std::max(name_w, measure(m.cr, s.name).width);
    ++named;
  }
  const double tick = 0.4 * fs, pad = 0.6 * fs;
  const double left =
      std::ceil(pad + (opt.y_label.empty() ? 0 : 1.5 * fs) + label_w + tick + 0.3 * fs);
  // A decade label's exponent reaches 0.9 fs above its tick.
  const double top =
      std::ceil((opt.title.empty() ? 0.9 * fs : 2.4 * fs) + (L.decades ? 0.6 * fs : 0));
  const double bottom = std::ceil(tick + 1.4 * fs + (opt.x_label.empty() ? 0 : 1.5 * fs) + pad);
  double right = pad;
  if (!L.xlabels.empty())
    right = std::max(right, measure(m.cr, L.xlabels.back()).width / 2 + 0.3 * fs);
  if (named > 0) {
    // The legend beside the data, at most 40% of the width (its font shrinks to fit).
    L.legend_fs = fs;
    L.legend_w = 3.2 * fs + name_w;
    const double most = 0.4 * opt.width;
    if (L.legend_w > most) {
      L.legend_fs = fs * (most - 3.2 * fs) / name_w;
      L.legend_w = most;
    }
    right = L.legend_w + 0.8 * fs;
  }
  L.box.left = left;
  L.box.top = top;
  L.box.width = std::max(16.0, std::floor(opt.width - left - right));
  L.box.height = std::max(16.0, std::floor(opt.height - top - bottom));
  L.legend_x = left + L.box.width + 0.8 * fs;
  return L;
}

}  // namespace

LineBox line_box(const std::vector<Series>& series, const LinePlotOptions& opt) {
  return line_layout(series, opt).box;
}

Picture render_lines(const std::vector<Series>& series, const LinePlotOptions& opt) {
  if (opt.width < 64 || opt.height < 64 || opt.width > 8192 || opt.height > 8192) {
    throw_bad_input("line plot: " + std::to_string(opt.width) + "x" + std::to_string(opt.height) +
                    " is not in [64, 8192] a side");
  }
  const LineLayout L = line_layout(series, opt);
  return {
      opt.width, opt.height, [L, series, opt](cairo_t* cr) {
        const double fs = L.fs, tick = 0.4 * fs;
        const LineBox& b = L.box;
        auto X = [&](double x) { return b.left + (x - L.x0) / (L.x1 - L.x0) * b.width; };
        auto Y = [&](double y) { return b.top + b.height - (y - L.y0) / (L.y1 - L.y0) * b.height; };
        cairo_set_line_width(cr, 1);
        set_colour(cr, grid_grey);
        for (double t : L.yticks) {
          cairo_move_to(cr, b.left, std::round(Y(t)) + 0.5);
          cairo_line_to(cr, b.left + b.width, std::round(Y(t)) + 0.5);
        }
        for (double t : L.xticks) {
          cairo_move_to(cr, std::round(X(t)) + 0.5, b.top);
          cairo_line_to(cr, std::round(X(t)) + 0.5, b.top + b.height);
        }
        cairo_stroke(cr);
        // The curves, clipped to the plot area.
        cairo_save(cr);
        cairo_rectangle(cr, b.left, b.top, b.width, b.height);
        cairo_clip(cr);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        cairo_set_line_width(cr, std::max(1.2, fs / 7));
        for (const auto& s : series) {
          // The band: low left to right, then high right to left, filled.
          std::vector<std::pair<double, double>> lo, hi;
          for (std::size_t i = 0; i < s.x.size() && i < s.low.size() && i < s.high.size(); ++i) {
            if (!L.usable(s.low[i], opt.log_y) || !L.usable(s.high[i], opt.log_y) ||
                !std::isfinite(s.x[i]))
              continue;
            lo.emplace_back(X(s.x[i]), Y(opt.log_y ? std::log10(s.low[i]) : s.low[i]));
            hi.emplace_back(X(s.x[i]), Y(opt.log_y ? std::log10(s.high[i]) : s.high[i]));
          }
          if (lo.size() > 1) {
            cairo_move_to(cr, lo[0].first, lo[0].second);
            for (const auto& [px, py] : lo) cairo_line_to(cr, px, py);
            for (auto it = hi.rbegin(); it != hi.rend(); ++it)
              cairo_line_to(cr, it->first, it->second);
            cairo_close_path(cr);
            set_colour(cr, s.color, 0.25);
            cairo_fill(cr);
          }
          set_colour(cr, s.color);
          std::vector<std::pair<double, double>> pts;
          for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!L.usable(s.y[i], opt.log_y) || !std::isfinite(s.x[i])) continue;
            pts.emplace_back(X(s.x[i]), Y(opt.log_y ? std::log10(s.y[i]) : s.y[i]));
          }
          for (std::size_t i = 0; i < pts.size(); ++i) {
            if (i == 0)
              cairo_move_to(cr, pts[i].first, pts[i].second);
            else
              cairo_line_to(cr, pts[i].first, pts[i].second);
          }
          cairo_stroke(cr);
          if (pts.size() <= 60) {
            for (const auto& [px, py] : pts) {
              cairo_new_sub_path(cr);
              cairo_arc(cr, px, py, std::max(1.5, fs / 5), 0, 2 * M_PI);
            }
            cairo_fill(cr);
          }
        }
        cairo_restore(cr);
        // Frame, ticks and labels.
        set_colour(cr, black);
        cairo_set_line_width(cr, 1);
        cairo_rectangle(cr, b.left - 0.5, b.top - 0.5, b.width + 1, b.height + 1);
        cairo_stroke(cr);
        set_font(cr, fs);
        for (std::size_t k = 0; k < L.yticks.size(); ++k) {
          const double y = std::round(Y(L.yticks[k])) + 0.5;
          cairo_move_to(cr, b.left - 0.5, y);
          cairo_line_to(cr, b.left - 0.5 - tick, y);
          cairo_stroke(cr);
          const double right = b.left - tick - 0.3 * fs;
          if (L.decades) {
            cairo_set_font_size(cr, 0.7 * fs);
            const double ew = measure(cr, L.ylabels[k]).width;
            draw_text(cr, right, y - 0.1 * fs, L.ylabels[k], 1, 1);
            cairo_set_font_size(cr, fs);
            draw_text(cr, right - ew, y, "10", 1, 0.35);
          } else {
            draw_text(cr, right, y, L.ylabels[k], 1, 0.5);
          }
        }
        for (std::size_t k = 0; k < L.xticks.size(); ++k) {
          const double x = std::round(X(L.xticks[k])) + 0.5;
          cairo_move_to(cr, x, b.top + b.height + 0.5);
          cairo_line_to(cr, x, b.top + b.height + 0.5 + tick);
          cairo_stroke(cr);
          draw_text(cr, x, b.top + b.height + tick + 0.2 * fs, L.xlabels[k], 0.5, 0);
        }
        if (!opt.x_label.empty()) {
          fit_font(cr, opt.x_label, fs, b.width);
          draw_text(cr, b.left + b.width / 2, b.top + b.height + tick + 1.5 * fs, opt.x_label, 0.5,
                    0);
        }
        if (!opt.y_label.empty()) {
          fit_font(cr, opt.y_label, fs, b.height);
          draw_text(cr, 0.5 * fs, b.top + b.height / 2, opt.y_label, 0.5, 0, -M_PI / 2);
        }
        if (!opt.title.empty()) {
          set_font(cr, 1.15 * fs);
          fit_font(cr, opt.title, 1.15 * fs, opt.width - 1.2 * fs);
          draw_text(cr, 0.6 * fs, 0.5 * fs, opt.title, 0, 0);
        }
        // The legend, outside the data, top-aligned with it.
        if (L.legend_w > 0) {
          set_font(cr, L.legend_fs);
          double y = b.top + 0.2 * fs;
          for (const auto& s : series) {
            if (s.name.empty()) continue;
            set_colour(cr, s.color);
            cairo_set_line_width(cr, std::max(1.2, fs / 7));
            cairo_move_to(cr, L.legend_x, y + 0.6 * fs);
            cairo_line_to(cr, L.legend_x + 2 * fs, y + 0.6 * fs);
            cairo_stroke(cr);
            set_colour(cr, black);
            draw_text(cr, L.legend_x + 2.5 * fs, y + 0.6 * fs, s.name, 0, 0.5);
            y += 1.5 * fs;
          }
        }
      }};
}

Picture render_text_page(const std::string& title, const std::vector<std::string>& lines, int width,
                         int height) {
  return {
      width, height, [title, lines, width, height](cairo_t* cr) {
        const double margin = 36, title_fs = 16;
        set_colour(cr, black);
        set_font(cr, title_fs, true);
        fit_font(cr, title, title_fs, width - 2 * margin);
        draw_text(cr, margin, margin, title, 0, 0);
        const double top = margin + 2 * title_fs, avail_h = height - top - margin;
        // The largest font (<= 9) at which the lines fit in 1, 2 or 3 columns.
        cairo_select_font_face(cr, "DejaVu Sans Mono", CAIRO_FONT_SLANT_NORMAL,
                               CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, 1);
        double widest = 0;
        for (const auto& l : lines) widest = std::max(widest, measure(cr, l).width);
        const double line_h = 1.25;  // per unit of font size
        double fs = 0;
        int cols = 1;
        for (int c = 1; c <= 3; ++c) {
          const double rows = std::ceil(double(lines.size()) / c);
          const double gap = 18;
          const double by_w = widest > 0 ? (width - 2 * margin - (c - 1) * gap) / c / widest : 9;
          const double by_h = rows > 0 ? avail_h / (rows * line_h) : 9;
          const double f = std::min({9.0, by_w, by_h});
          if (f > fs + 0.25) fs = f, cols = c;
        }
        cairo_set_font_size(cr, fs);
        const auto rows = std::size_t(std::ceil(double(lines.size()) / cols));
        const double col_w = (width - 2 * margin) / cols;
        for (std::size_t i = 0; i < lines.size(); ++i) {
          const std::size_t c = rows > 0 ? i / rows : 0, r = rows > 0 ? i % rows : 0;
          draw_text(cr, margin + double(c) * col_w, top + double(r) * fs * line_h, lines[i], 0, 0);
        }
      }};
}

}  // namespace nwgf
