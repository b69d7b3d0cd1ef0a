#pragma once
// Pictures of point sets and of whole runs: the one place where `nwgf render` and the run's
// pictures (schemes/run/viz/run_plots.cpp) decide how a point set is drawn (scatter, density, or
// 28x28 image tiles for MNIST-like data, the paper's Fig. 5), how trajectories are laid out, and
// how a run's snapshots become an animated GIF.
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/engine/viz/picture.hpp"
#include "nwgf/engine/viz/plot.hpp"
#include "nwgf/engine/viz/png.hpp"

namespace nwgf {

enum class RenderStyle { automatic, scatter, density, tiles };

// What the rows of a tile trajectory grid are: the samples (one per row, the snapshots across)
// or the snapshots (one per row, from the start at the top; the samples across).
enum class TrajectoryRows { samples, time };

struct RenderOptions {
  RenderStyle style = RenderStyle::automatic;
  ScatterOptions scatter;  // scatter and density
  TileOptions tiles;
  index_t max_tiles = 100;  // tiles: only the first max_tiles rows are drawn
  TrajectoryRows trajectory_rows = TrajectoryRows::samples;  // render_trajectories, tiles only
};

// "auto" | "scatter" | "density" | "tiles"; anything else is bad input naming `flag`.
RenderStyle parse_render_style(const std::string& name, const std::string& flag = "--style");

// "samples" | "time"; anything else is bad input naming `flag`.
TrajectoryRows parse_trajectory_rows(const std::string& name, const std::string& flag = "--rows");

// "histogram" | "kde"; anything else is bad input naming `flag`.
DensityEstimate parse_density_estimate(const std::string& name,
                                       const std::string& flag = "--density");

// The style `automatic` resolves to for n points in R^d: tiles when d = tile_height * tile_width,
// else density when n > 20000, else scatter. Other styles are returned unchanged.
RenderStyle resolve_style(const RenderOptions& opt, index_t n, index_t d);

// One picture of the point set x (n, d), row-major.
Picture render_points(const double* x, index_t n, index_t d, const RenderOptions& opt);

// Paths of samples `rows` through the snapshots (each (n, d), same shape). Tiles: row k of the
// grid shows sample rows[k] at every snapshot, left to right (the paper's Fig. 5 layout); given
// `snapshot_labels` (one per snapshot, e.g. "t = 25"), each column is labelled with its
// snapshot's and each row with its sample ("#12"). With opt.trajectory_rows = time the grid is
// transposed: row s is snapshot s (labelled with its label), column k sample rows[k] ("#12").
// At most opt.tiles.columns evenly spaced snapshots are shown (the first and last included),
// whichever way they run. Labels must be none or one per snapshot.
// Scatter/density: the picture of the last snapshot with each chosen sample's path drawn as a
// polyline through all snapshots (first two coordinates), fading in from the start (a hollow
// circle) to the end (a filled one). Bad input: no snapshots, shapes that
// differ, a row out of range.
Picture render_trajectories(const std::vector<HostMatrix<double>>& snapshots,
                            const std::vector<index_t>& rows, const RenderOptions& opt,
                            const std::vector<std::string>& snapshot_labels = {});

// Frames are held in memory until encoded: a GIF has at most this many, and at most this many
// bytes of RGB frames (at least 2 frames); longer runs are shown at evenly spaced snapshots.
inline constexpr index_t max_gif_frames = 400;
inline constexpr std::size_t max_gif_bytes = std::size_t(1) << 30;

// One snapshot file of an animation: its step, the .npy (n, d), its time (NaN: not known).
struct SnapshotFrame {
  index_t step = 0;
  std::string path;
  double time = std::numeric_limits<double>::quiet_NaN();
};

// One frame per snapshot, in the order given (within the limits above; the first and last
// always), written to gif_path. All frames share one extent (the union of all snapshots'
// extents, unless opt.scatter.extent > 0) so the animation does not jump; each frame is titled
// "step N" (and "t = ..." when the time is known) after opt's title. Tiles: the first max_tiles
// samples. No snapshots, or a snapshot whose shape differs from the first, is bad input naming it.
// (A run directory's snapshots: schemes/run/viz/run_plots.hpp render_run_gif.)
void render_snapshot_gif(const std::vector<SnapshotFrame>& snapshots, const std::string& gif_path,
                         RenderOptions opt, int delay_cs = 10);

}  // namespace nwgf
