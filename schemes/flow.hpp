#pragma once
// Running a flow: the library API behind `nwgf run` (the CLI is a thin client of run_flow).
//
//   FlowConfig cfg = nwgf::load_flow_config("run.toml", {"flow.tau=0.1"});   // or fill in code
//   nwgf::RunOptions opt;
//   opt.backend = nwgf::BackendChoice::cpu;
//   opt.out_dir = "out";                                  // empty: no files at all
//   opt.on_step = [](const nwgf::StepInfo& s, const nwgf::HostMatrix<double>& x) {
//     return s.time < 0.5;                                // false stops the run after this step
//   };
//   nwgf::RunResult r = nwgf::run_flow(cfg, opt);
//
// With out_dir the run directory holds (CONTRACT.md): manifest.json, metrics.csv,
// snapshots/step_NNNNNN.npy, plots/step_NNNNNN.png, plots/metrics.png, config.toml and
// checkpoint.bin (written atomically after every step; resume = true continues from it).
// Numerical failure (NaN/Inf in samples or loss) throws nwgf::Error (numerical, exit 3) after
// marking the manifest failed; the last good checkpoint stays on disk.
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/io/npy.hpp"
#include "engine/types.hpp"
#include "schemes/config.hpp"

namespace nwgf {

// One row of metrics.csv. NaN: not applicable / not evaluated at this step.
struct StepInfo {
  static constexpr double none = std::numeric_limits<double>::quiet_NaN();
  index_t step = 0;
  double time = 0, tau = 0;
  double loss = none;        // final training loss of the step (neural schemes)
  double functional = none;  // F(mu_N), V-statistic over all samples
  double wall_seconds = 0;   // this step
  // Interaction energy from a Dirac: unbiased MMD^2 (r of the functional) against exact samples
  // of the limit curve gamma(t), and against the scheme's exact discrete iterate (JKO iterate,
  // Thm 5.2, for backward; Thm 5.4 for forward with r = 1).
  double mmd2_analytic = none;
  double mmd2_iterate = none;
};

// Return false to stop after this step (a clean stop: status done, final snapshot written).
using StepCallback = std::function<bool(const StepInfo&, const HostMatrix<double>& samples)>;

struct RunOptions {
  BackendChoice backend = BackendChoice::automatic;
  int threads = 0;          // 0: NWGF_THREADS, else all cores
  std::string out_dir;      // empty: nothing written
  bool resume = false;      // continue from out_dir/checkpoint.bin
  bool progress = true;     // progress on stderr (also needs cfg.progress)
  StepCallback on_step;
};

struct RunResult {
  Device device = Device::cpu;
  index_t steps = 0;  // the last step done
  double time = 0;
  bool stopped = false;  // on_step asked to stop
  HostMatrix<double> samples;
  std::vector<StepInfo> metrics;  // step 0 .. steps (resumed runs: from step 0 of the CSV)
};

RunResult run_flow(const FlowConfig& cfg, const RunOptions& opt);

// The closed forms a run is compared with (metrics.csv column mmd2_analytic). A cloud of radius
// <= 1e-6 around one point stands for the Dirac there (the particle flow's start).
enum class AnalyticReference {
  none,
  interaction,  // Sect. 5: the interaction energy from a Dirac (Thm 5.1/5.2/5.4)
  line,         // App. G: mmd, r = 1, d = 1, from a Dirac to a Dirac (the line flow)
  barycenter    // App. H, Ex. 4: barycenter of unit circles / boundaries of [-1, 1]^2 at 0
};
AnalyticReference analytic_reference(const FlowConfig& cfg);
bool has_analytic_reference(const FlowConfig& cfg);

// m exact samples (m, d) of the reference at time t (the barycenter does not depend on t).
void sample_reference(const FlowConfig& cfg, double t, index_t m, std::uint64_t seed,
                      std::uint64_t stream, double* out);

// Unbiased MMD^2 of two samples (U-statistics for the self terms), any r:
//   S_xy/(N M) - S_xx/(2 N (N-1)) - S_yy/(2 M (M-1)).
double mmd2_unbiased(const Context& ctx, const HostMatrix<double>& x, const HostMatrix<double>& y,
                     double r);

}  // namespace nwgf
