#include "nwgf/engine/viz/render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "nwgf/engine/error.hpp"
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

RenderStyle resolve_style(const RenderOptions& opt, index_t n, index_t d) {
  if (opt.style != RenderStyle::automatic) return opt.style;
  if (is_tile_data(opt.tiles, d)) return RenderStyle::tiles;
  return n > 20000 ? RenderStyle::density : RenderStyle::scatter;
}

Image render_points(const double* x, index_t n, index_t d, const RenderOptions& opt) {
  switch (resolve_style(opt, n, d)) {
    case RenderStyle::tiles:
      return render_tiles(x, std::min(n, std::max<index_t>(opt.max_tiles, 1)), d, opt.tiles);
    case RenderStyle::density:
      return render_density(x, n, d, opt.scatter);
    default:
      return render_scatter(x, n, d, opt.scatter);
  }
}

Image render_trajectories(const std::vector<HostMatrix<double>>& snapshots,
                          const std::vector<index_t>& rows, const RenderOptions& opt) {
  if (snapshots.empty()) throw_bad_input("trajectories: no snapshots");
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
    // Grid (K, S): row k is sample rows[k] at each of at most `columns` evenly spaced snapshots.
    const std::vector<index_t> shown =
        evenly_spaced(index_t(snapshots.size()), std::max(opt.tiles.columns, 1));
    const auto S = index_t(shown.size());
    std::vector<double> grid(std::size_t(K * S * d));  // (K * S, d)
    for (index_t k = 0; k < K; ++k) {
      for (index_t s = 0; s < S; ++s) {
        const double* src =
            snapshots[std::size_t(shown[std::size_t(s)])].data.data() + rows[std::size_t(k)] * d;
        std::copy(src, src + d, grid.begin() + std::ptrdiff_t((k * S + s) * d));
      }
    }
    TileOptions t = opt.tiles;
    t.columns = int(S);
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
  Image img = render_points(snapshots.back().data.data(), n, d, o);
  const int size = o.scatter.size;
  const double cx = o.scatter.centre.size() > 0 ? o.scatter.centre[0] : 0;
  const double cy = o.scatter.centre.size() > 1 ? o.scatter.centre[1] : 0;
  const double scale = 0.5 * size / o.scatter.extent;
  // Pixel centre of a 2x2 scatter dot at x (render_scatter's mapping).
  auto at = [&](const HostMatrix<double>& s, index_t r) {
    const double* p = s.data.data() + r * d;
    const double u = 0.5 * size + (p[0] - cx) * scale;
    const double v = 0.5 * size + ((d > 1 ? p[1] : 0.0) - cy) * scale;
    return std::pair<double, double>{std::floor(u) + 0.5, size - 1 - std::floor(v) + 0.5};
  };
  const Rgb colors[] = {{214, 39, 40},   {255, 127, 14}, {44, 160, 44},
                        {148, 103, 189}, {140, 86, 75},  {227, 119, 194},
                        {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  for (index_t k = 0; k < K; ++k) {
    const Rgb c = colors[k % index_t(std::size(colors))];
    const index_t r = rows[std::size_t(k)];
    for (std::size_t s = 0; s + 1 < snapshots.size(); ++s) {
      const auto [x0, y0] = at(snapshots[s], r);
      const auto [x1, y1] = at(snapshots[s + 1], r);
      draw_line(img, x0, y0, x1, y1, c);
    }
    // Start: hollow square; end: filled square.
    const auto [sx, sy] = at(snapshots.front(), r);
    const auto [ex, ey] = at(snapshots.back(), r);
    for (int a = -2; a <= 2; ++a) {
      img.set(int(sx) + a, int(sy) - 2, c), img.set(int(sx) + a, int(sy) + 2, c);
      img.set(int(sx) - 2, int(sy) + a, c), img.set(int(sx) + 2, int(sy) + a, c);
    }
    img.fill_rect(int(ex) - 2, int(ey) - 2, int(ex) + 2, int(ey) + 2, c);
  }
  return img;
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
    return render_points(m.data.data(), n, d, opt);
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
