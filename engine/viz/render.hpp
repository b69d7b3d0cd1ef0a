#pragma once
// Pictures of point sets and of whole runs: the one place where `nwgf render` and the run
// directory writer (schemes/flow.cpp) decide how a point set is drawn (scatter, density, or
// 28x28 image tiles for MNIST-like data, the paper's Fig. 5), how trajectories are laid out, and
// how a run's snapshots become an animated GIF.
#include <cstddef>
#include <string>
#include <vector>

#include "engine/io/npy.hpp"
#include "engine/viz/plot.hpp"
#include "engine/viz/png.hpp"
#include "engine/types.hpp"

namespace nwgf {

enum class RenderStyle { automatic, scatter, density, tiles };

struct RenderOptions {
  RenderStyle style = RenderStyle::automatic;
  ScatterOptions scatter;  // scatter and density
  TileOptions tiles;
  index_t max_tiles = 100;  // tiles: only the first max_tiles rows are drawn
};

// "auto" | "scatter" | "density" | "tiles"; anything else is bad input naming `flag`.
RenderStyle parse_render_style(const std::string& name, const std::string& flag = "--style");

// The style `automatic` resolves to for n points in R^d: tiles when d = tile_height * tile_width,
// else density when n > 20000, else scatter. Other styles are returned unchanged.
RenderStyle resolve_style(const RenderOptions& opt, index_t n, index_t d);

// One picture of the point set x (n, d), row-major.
Image render_points(const double* x, index_t n, index_t d, const RenderOptions& opt);

// Paths of samples `rows` through the snapshots (each (n, d), same shape). Tiles: row k of the
// grid shows sample rows[k] at every snapshot, left to right (the paper's Fig. 5 layout).
// Scatter/density: the picture of the last snapshot with each chosen sample's path drawn as a
// polyline through all snapshots (first two coordinates). Bad input: no snapshots, shapes that
// differ, a row out of range.
Image render_trajectories(const std::vector<HostMatrix<double>>& snapshots,
                          const std::vector<index_t>& rows, const RenderOptions& opt);

// A run directory's snapshots/step_NNNNNN.npy, sorted by step; none is bad input naming the dir.
std::vector<std::string> run_snapshots(const std::string& run_dir);

// Frames are held in memory until encoded: a GIF has at most this many, and at most this many
// bytes of RGB frames (at least 2 frames); longer runs are shown at evenly spaced snapshots.
inline constexpr index_t max_gif_frames = 400;
inline constexpr std::size_t max_gif_bytes = std::size_t(1) << 30;

// One frame per snapshot of the run (within the limits above; the first and last always),
// written to gif_path. All frames share one extent (the union of all snapshots' extents, unless
// opt.scatter.extent > 0) so the animation does not jump; each frame is titled "step N" (and
// "t = ..." when metrics.csv has the step) after opt's title. Tiles: the first max_tiles samples.
// A snapshot whose shape differs from the first is bad input naming it.
void render_run_gif(const std::string& run_dir, const std::string& gif_path, RenderOptions opt,
                    int delay_cs = 10);

}  // namespace nwgf
