#pragma once
// The run's pictures, apart from the run loop (the core library draws nothing): an observer
// (schemes/run/observer.hpp) that `nwgf run` installs, writing into the run directory
//   plots/step_NNNNNN.png   the samples at every snapshot       (output.plots, output.plot_size)
//   plots/metrics.png       MMD^2 to the closed form over time, else F (or MMD^2 to the target)
//   plots/flow.gif          the snapshots animated               (output.plots and output.gif)
// All pictures of a run share one frame: the support of gamma(t) for the interaction energy
// from a Dirac, the unit circle's box for the barycenter, else the box around the initial and
// target points (d <= 2). Lives in the viz layer: links engine/plot, render, png, gif.
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/viz/render.hpp"
#include "nwgf/schemes/run/observer.hpp"
#include "nwgf/schemes/run/run_dir.hpp"

namespace nwgf {

// opt.observers.push_back(make_run_plots()) before run_flow; does nothing for a run without a
// directory.
std::shared_ptr<RunObserver> make_run_plots();

// A run directory's snapshots in step order, each with metrics.csv's time where it has one (NaN
// otherwise). Bad input: no snapshots, a damaged metrics.csv.
std::vector<SnapshotFrame> run_snapshot_frames(const RunDirectory& run);
// "t = 12.5" where the time is known, else "step 25": a snapshot's label in pictures.
std::string snapshot_label(const SnapshotFrame& frame);

// A run directory's snapshots as one GIF, titled with metrics.csv's times where it has them
// (engine/render.hpp render_snapshot_gif). Bad input: no snapshots, a damaged metrics.csv.
void render_run_gif(const RunDirectory& run, const std::string& gif_path, const RenderOptions& opt,
                    int delay_cs = 10);

}  // namespace nwgf
