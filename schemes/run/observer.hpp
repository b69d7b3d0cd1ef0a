#pragma once
// What a run reports to those watching it besides the per-step callback (RunOptions::observers):
// the start, every snapshot, the end. The run's pictures (schemes/run/viz/run_plots.hpp) are one
// such observer, installed by `nwgf run`; the loop itself draws nothing.
//
// Order within a run: start, then for each snapshot step (step 0 unless resumed, every
// output.every steps, the last) snapshot(...) right after snapshots/step_NNNNNN.npy is written
// (flow.memory = "sharded": with the samples and weights rank 0 reads back from those files),
// then finish(...) after the last step and before the manifest says done. An Error thrown by an
// observer fails the run like any other (manifest status failed).
#include <string>
#include <vector>

#include "nwgf/analytic/references.hpp"
#include "nwgf/engine/io/npy.hpp"  // HostMatrix
#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/run/step_info.hpp"

namespace nwgf {

struct RunStart {
  const FlowConfig& cfg;
  const std::string& out_dir;         // empty: the run writes no files
  index_t n, d;                       // the samples' shape
  double end_time;                    // the time the run is planned to end at (steps or t_end)
  const HostMatrix<double>& initial;  // (n, d): the initial samples as drawn from the config
  const std::vector<WeightedPoints>& targets;  // the target measures (mmd, barycenter)
  const ReferenceProblem& reference;           // the closed form the run is compared with, if any
  // Where no rank holds all samples (flow.memory = "sharded"): initial and targets are empty and
  // bounds (2, d) holds, per coordinate, the minimum (row 0) and maximum (row 1) over the
  // initial samples and the target points (null where there are no target measures); else null.
  const HostMatrix<double>* bounds = nullptr;
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void start(const RunStart&) {}
  // samples: (n, d) at this step, converted to double.
  virtual void snapshot(const StepInfo&, const HostMatrix<double>& /*samples*/) {}
  // The same with the particles' weights (n) of a weighted-particle scheme (ift), nullptr for
  // equally weighted samples. The run calls this one; by default it forwards to the above.
  virtual void weighted_snapshot(const StepInfo& s, const HostMatrix<double>& samples,
                                 const std::vector<double>* /*weights*/) {
    snapshot(s, samples);
  }
  // metrics: every row of metrics.csv (a resumed run: from step 0 of the directory).
  virtual void finish(const std::vector<StepInfo>& /*metrics*/) {}
};

}  // namespace nwgf
