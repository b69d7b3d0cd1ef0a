#include "nwgf/engine/viz/render.hpp"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/viz/draw.hpp"
#include "nwgf/engine/viz/gif.hpp"

namespace nwgf {
namespace {

bool is_tile_data(const TileOptions& t, index_t d) {
  return d == index_t(t.tile_height) * index_t(t.tile_width);
}

// `count` indices evenly spaced over [0, total), the first and the last included.
std::vector<index_t> evenly_spaced(index_t total, index_t count) {
  std::vector<index_t> idx;
  if (count >= total) {
    for (index_t i = 0; i < total; ++i) idx.push_back(i);
    return idx;
  }
  for (index_t k = 0; k < count; ++k) {
    idx.push_back(count == 1 ? total - 1 : (k * (total - 1) + (count - 1) / 2) / (count - 1));
  }
  return idx;
}

}  // namespace

RenderStyle parse_render_style(const std::string& name, const std::string& flag) {
  if (name == "auto") return RenderStyle::automatic;
  if (name == "scatter") return RenderStyle::scatter;
  if (name == "density") return RenderStyle::density;
  if (name == "tiles") return RenderStyle::tiles;
  throw_bad_input(flag + ": '" + name + "' is not one of auto, scatter, density, tiles");
}

TrajectoryRows parse_trajectory_rows(const std::string& name, const std::string& flag) {
  if (name == "samples") return TrajectoryRows::samples;
  if (name == "time") return TrajectoryRows::time;
  throw_bad_input(flag + ": '" + name + "' is not one of samples, time");
}

DensityEstimate parse_density_estimate(const std::string& name, const std::string& flag) {
  if (name == "histogram") return DensityEstimate::histogram;
  if (name == "kde") return DensityEstimate::kde;
  throw_bad_input(flag + ": '" + name + "' is not one of histogram, kde");
}

RenderStyle resolve_style(const RenderOptions& opt, index_t n, index_t d) {
  if (opt.style != RenderStyle::automatic) return opt.style;
  if (is_tile_data(opt.tiles, d)) return RenderStyle::tiles;
  return n > 20000 ? RenderStyle::density : RenderStyle::scatter;
}

Picture render_points(const double* x, index_t n, index_t d, const RenderOptions& opt) {
  switch (resolve_style(opt, n, d)) {
    case RenderStyle::tiles:
      return render_tiles(x, std::min(n, std::max<index_t>(opt.max_tiles, 1)), d, opt.tiles);
    case RenderStyle::density:
      return render_density(x, n, d, opt.scatter);
    default:
      return render_scatter(x, n, d, opt.scatter);
  }
}

Picture render_trajectories(const std::vector<HostMatrix<double>>& snapshots,
                            const std::vector<index_t>& rows, const RenderOptions& opt,
                            const std::vector<std::string>& snapshot_labels) {
  if (snapshots.empty()) throw_bad_input("trajectories: no snapshots");
  if (!snapshot_labels.empty() && snapshot_labels.size() != snapshots.size()) {
    throw_bad_input("trajectories: " + std::to_string(snapshot_labels.size()) + " labels for " +
                    std::to_string(snapshots.size()) + " snapshots");
  }
  if (rows.empty()) throw_bad_input("trajectories: no samples chosen");
  const index_t n = snapshots[0].rows, d = snapshots[0].cols;
  for (const auto& s : snapshots) {
    if (s.rows != n || s.cols != d) {
      throw_bad_input("trajectories: snapshots differ in shape (" + std::to_string(n) + ", " +
                      std::to_string(d) + ") vs (" + std::to_string(s.rows) + ", " +
                      std::to_string(s.cols) + ")");
    }
  }
  for (index_t r : rows) {
    if (r < 0 || r >= n) {
      throw_bad_input("trajectories: sample " + std::to_string(r) + " is not in [0, " +
                      std::to_string(n) + ")");
    }
  }
  const auto K = index_t(rows.size());
  if (resolve_style(opt, n, d) == RenderStyle::tiles) {
    // Grid (K, S): row k is sample rows[k] at each of at most `columns` evenly spaced snapshots;
    // or, with time rows, its transpose (S, K).
    const std::vector<index_t> shown =
        evenly_spaced(index_t(snapshots.size()), std::max(opt.tiles.columns, 1));
    const auto S = index_t(shown.size());
    const bool time_rows = opt.trajectory_rows == TrajectoryRows::time;
    std::vector<double> grid(std::size_t(K * S * d));  // (K * S, d)
    for (index_t k = 0; k < K; ++k) {
      for (index_t s = 0; s < S; ++s) {
        const double* src =
            snapshots[std::size_t(shown[std::size_t(s)])].data.data() + rows[std::size_t(k)] * d;
        const index_t cell = time_rows ? s * K + k : k * S + s;
        std::copy(src, src + d, grid.begin() + std::ptrdiff_t(cell * d));
      }
    }
    TileOptions t = opt.tiles;
    t.columns = int(time_rows ? K : S);
    if (!snapshot_labels.empty()) {
      std::vector<std::string> times, samples;
      for (index_t s : shown) times.push_back(snapshot_labels[std::size_t(s)]);
      for (index_t r : rows) {
        char b[32];
        std::snprintf(b, sizeof b, "#%lld", static_cast<long long>(r));
        samples.emplace_back(b);
      }
      t.column_labels = time_rows ? samples : times;
      t.row_labels = time_rows ? times : samples;
    }
    return render_tiles(grid.data(), K * S, d, t);
  }
  // The last snapshot, framed so that every path fits, with the paths on top.
  RenderOptions o = opt;
  if (!(o.scatter.extent > 0)) {
    double extent = fit_extent(snapshots.back().data.data(), n, d, o.scatter);
    for (const auto& s : snapshots) {
      for (index_t r : rows)
        extent = std::max(extent, fit_extent(s.data.data() + r * d, 1, d, o.scatter));
    }
    o.scatter.extent = extent;
  }
  const Picture base = render_points(snapshots.back().data.data(), n, d, o);
  const ScatterBox box =
      scatter_box(o.scatter, o.scatter.extent, resolve_style(o, n, d) == RenderStyle::density);
  // paths: (K, S, 2) pixel positions of sample rows[k] at snapshot s.
  const auto S = index_t(snapshots.size());
  std::vector<double> paths;
  for (index_t r : rows) {
    for (const auto& s : snapshots) {
      const double* p = s.data.data() + r * d;
      paths.push_back(box.u(p[0]));
      paths.push_back(box.v(d > 1 ? p[1] : 0.0));
    }
  }
  const double lw = std::max(1.5, o.scatter.size / 300.0);
  return {base.width, base.height, [base, box, paths, K, S, lw](cairo_t* cr) {
            base.draw(cr);
            static const Rgb colors[] = {{214, 39, 40},   {255, 127, 14}, {44, 160, 44},
                                         {148, 103, 189}, {140, 86, 75},  {227, 119, 194},
                                         {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
            cairo_save(cr);
            cairo_rectangle(cr, box.left, box.top, box.side, box.side);
            cairo_clip(cr);
            cairo_set_line_width(cr, lw);
            cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
            for (index_t k = 0; k < K; ++k) {
              const Rgb c = colors[k % index_t(std::size(colors))];
              const double* p = paths.data() + 2 * k * S;
              for (index_t s = 0; s + 1 < S; ++s) {
                // Alpha from 0.25 at the start to 1 at the end.
                viz::set_colour(cr, c, 0.25 + 0.75 * double(s + 1) / double(S - 1));
                cairo_move_to(cr, p[2 * s], p[2 * s + 1]);
                cairo_line_to(cr, p[2 * s + 2], p[2 * s + 3]);
                cairo_stroke(cr);
              }
              viz::set_colour(cr, c);
              cairo_new_sub_path(cr);
              cairo_arc(cr, p[0], p[1], 2.2 * lw, 0, 2 * M_PI);
              cairo_stroke(cr);
              cairo_new_sub_path(cr);
              cairo_arc(cr, p[2 * S - 2], p[2 * S - 1], 2.2 * lw, 0, 2 * M_PI);
              cairo_fill(cr);
            }
            cairo_restore(cr);
          }};
}

void render_snapshot_gif(const std::vector<SnapshotFrame>& snapshots, const std::string& gif_path,
                         RenderOptions opt, int delay_cs) {
  if (snapshots.empty()) throw_bad_input(gif_path + ": no snapshots to animate");
  std::vector<std::string> paths;
  for (const auto& s : snapshots) paths.push_back(s.path);
  HostMatrix<double> x = read_npy<double>(paths[0]);
  const index_t n = x.rows, d = x.cols;
  opt.style = resolve_style(opt, n, d);
  auto load = [&](std::size_t i) {
    HostMatrix<double> m = read_npy<double>(paths[i]);
    if (m.rows != n || m.cols != d) {
      throw_bad_input(paths[i] + ": shape (" + std::to_string(m.rows) + ", " +
                      std::to_string(m.cols) + ") differs from the run's first snapshot (" +
                      std::to_string(n) + ", " + std::to_string(d) + ")");
    }
    return m;
  };
  if (opt.style != RenderStyle::tiles && !(opt.scatter.extent > 0)) {
    double extent = fit_extent(x.data.data(), n, d, opt.scatter);
    for (std::size_t i = 1; i < paths.size(); ++i) {
      extent = std::max(extent, fit_extent(load(i).data.data(), n, d, opt.scatter));
    }
    opt.scatter.extent = extent;
  }
  std::string& title = opt.style == RenderStyle::tiles ? opt.tiles.title : opt.scatter.title;
  const std::string prefix = title.empty() ? "" : title + "  ";
  auto frame = [&](std::size_t i, const HostMatrix<double>& m) {
    title = prefix + "step " + std::to_string(snapshots[i].step);
    if (std::isfinite(snapshots[i].time)) {
      char b[48];
      std::snprintf(b, sizeof b, "  t = %.4g", snapshots[i].time);
      title += b;
    }
    return rasterize(render_points(m.data.data(), n, d, opt));
  };
  std::vector<Image> frames{frame(0, x)};
  // All frames stay in memory until encoded: at most max_gif_frames and max_gif_bytes of them.
  const auto frame_bytes = std::size_t(frames[0].width()) * std::size_t(frames[0].height()) * 3;
  const auto count = std::clamp<index_t>(index_t(max_gif_bytes / frame_bytes), 2, max_gif_frames);
  for (index_t i : evenly_spaced(index_t(paths.size()), count)) {
    if (i > 0) frames.push_back(frame(std::size_t(i), load(std::size_t(i))));
  }
  write_gif(gif_path, frames, delay_cs);
}

}  // namespace nwgf
