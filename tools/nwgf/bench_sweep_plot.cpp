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
                         const SweepRoofs& roofs) {
  // The classic roofline (achieved GFLOP/s against log10 FLOPs per byte under
  // min(FMA roof, intensity x bandwidth)) where every counted point has its bytes and the
  // bandwidth was measured; otherwise achieved GFLOP/s against log10 N under the FMA roof.
  bool classic = roofs.gbytes_per_s > 0;
  for (const SweepPoint& p : points) {
    if (p.flops > 0 && !(p.bytes > 0)) classic = false;
  }
  std::vector<Series> series;
  double lo = 0, hi = 0;
  bool any = false;
  for (std::size_t k = 0; k < ds.size(); ++k) {
    Series s;
    s.name = series_name(ds[k]) + " achieved";
    s.color = colours[k % 6];
    for (const SweepPoint& p : points) {
      if (p.d != ds[k] || !(p.flops > 0) || !(p.seconds > 0)) continue;
      const double x = classic ? std::log10(p.flops / p.bytes) : std::log10(double(p.n));
      s.x.push_back(x);
      s.y.push_back(p.flops / p.seconds * 1e-9);
      lo = any ? std::min(lo, x) : x;
      hi = any ? std::max(hi, x) : x;
      any = true;
    }
    series.push_back(s);
  }
  LinePlotOptions opt;
  opt.title = "nwgf bench sweep --kernel " + kernel + ": achieved vs peak";
  opt.y_label = "GFLOP/s";
  opt.log_y = true;
  if (any && classic) {
    // The roof from a decade left of the lower of the points and the ridge point (FMA roof /
    // bandwidth, where the two roofs meet) to a decade right of the higher.
    const double ridge = std::log10(roofs.gflops / roofs.gbytes_per_s);
    const double x0 = std::min(lo, ridge) - 1, x1 = std::max(hi, ridge) + 1;
    Series roof{"roof min(FMA, intensity x bandwidth)", {}, {}, Rgb{70, 70, 70}};
    const int steps = 64;
    for (int i = 0; i <= steps; ++i) {
      const double x = x0 + (x1 - x0) * i / steps;
      roof.x.push_back(x);
      roof.y.push_back(roofs.attainable(std::pow(10.0, x)));
    }
    series.push_back(roof);
    opt.x_label = "log10 FLOPs per byte (arithmetic intensity)";
  } else {
    if (any) {
      series.push_back(Series{"FMA roof (devices --peak)", {lo, hi}, {roofs.gflops, roofs.gflops},
                              Rgb{70, 70, 70}});
    }
    opt.x_label = "log10 N";
  }
  write_picture(path, render_lines(series, opt));
}

}  // namespace nwgf::cli
