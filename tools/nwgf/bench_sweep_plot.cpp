// The pictures of `nwgf bench sweep` (tools/nwgf/bench_sweep.hpp), drawn with engine/viz/plot.hpp.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "nwgf/engine/viz/plot.hpp"
#include "tools/nwgf/bench_sweep.hpp"

namespace nwgf::cli {
namespace {

const Rgb colours[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},
                       {214, 39, 40},  {148, 103, 189}, {140, 86, 75}};

}  // namespace

std::string series_name(long long d) { return "d=" + std::to_string(d); }

void write_sweep_plot(const std::string& path, const std::string& kernel,
                      const std::vector<SweepPoint>& points, const std::vector<long long>& ds) {
  std::vector<Series> series;
  double x0 = 0, y0 = 0, x1 = 0;
  for (std::size_t k = 0; k < ds.size(); ++k) {
    Series s;
    s.name = series_name(ds[k]);
    s.color = colours[k % 6];
    for (const SweepPoint& p : points) {
      if (p.d != ds[k]) continue;
      s.x.push_back(std::log10(double(p.n)));
      s.y.push_back(p.seconds);
    }
    if (!s.x.empty() && series.empty()) {
      x0 = s.x.front();
      y0 = s.y.front();
      x1 = s.x.back();
    }
    if (!s.x.empty()) x1 = std::max(x1, s.x.back());
    series.push_back(s);
  }
  if (y0 > 0 && x1 > x0) {
    const Rgb grey{150, 150, 150};
    const int steps = 16;
    Series lin{"ref N", {}, {}, grey}, nlog{"ref N log N", {}, {}, {110, 110, 110}},
        quad{"ref N^2", {}, {}, {70, 70, 70}};
    const double n0 = std::pow(10.0, x0);
    for (int i = 0; i <= steps; ++i) {
      const double x = x0 + (x1 - x0) * i / steps, n = std::pow(10.0, x), ratio = n / n0;
      lin.x.push_back(x);
      lin.y.push_back(y0 * ratio);
      nlog.x.push_back(x);
      nlog.y.push_back(y0 * ratio * std::log(n) / std::log(std::max(n0, 2.0)));
      quad.x.push_back(x);
      quad.y.push_back(y0 * ratio * ratio);
    }
    series.push_back(lin);
    series.push_back(nlog);
    series.push_back(quad);
  }
  LinePlotOptions opt;
  opt.title = "nwgf bench sweep --kernel " + kernel;
  opt.x_label = "log10 N";
  opt.y_label = "seconds";
  opt.log_y = true;
  write_picture(path, render_lines(series, opt));
}

void write_roofline_plot(const std::string& path, const std::string& kernel,
                         const std::vector<SweepPoint>& points, const std::vector<long long>& ds,
                         double peak_gflops) {
  std::vector<Series> series;
  double lo = 0, hi = 0;
  bool any = false;
  for (std::size_t k = 0; k < ds.size(); ++k) {
    Series s;
    s.name = series_name(ds[k]) + " achieved";
    s.color = colours[k % 6];
    for (const SweepPoint& p : points) {
      if (p.d != ds[k] || !(p.flops > 0) || !(p.seconds > 0)) continue;
      const double x = std::log10(double(p.n));
      s.x.push_back(x);
      s.y.push_back(p.flops / p.seconds * 1e-9);
      lo = any ? std::min(lo, x) : x;
      hi = any ? std::max(hi, x) : x;
      any = true;
    }
    series.push_back(s);
  }
  if (any) {
    series.push_back(Series{"FMA roof (devices --peak)", {lo, hi}, {peak_gflops, peak_gflops},
                            Rgb{70, 70, 70}});
  }
  LinePlotOptions opt;
  opt.title = "nwgf bench sweep --kernel " + kernel + ": achieved vs peak";
  opt.x_label = "log10 N";
  opt.y_label = "GFLOP/s";
  opt.log_y = true;
  write_picture(path, render_lines(series, opt));
}

}  // namespace nwgf::cli
