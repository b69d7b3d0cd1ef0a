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
//   opt.observers.push_back(nwgf::make_run_plots());      // pictures:
//   schemes/run/viz/run_plots.hpp nwgf::RunResult r = nwgf::run_flow(cfg, opt);
//
// With out_dir the run directory (schemes/run/run_dir.hpp) holds: manifest.json, metrics.csv,
// snapshots/step_NNNNNN.npy, config.toml and checkpoint.bin (written atomically after every
// checkpointed step; resume = true continues from it); plots/ is filled by the pictures' observer
// when one is installed (`nwgf run` installs it). Numerical failure (NaN/Inf in samples or loss)
// throws nwgf::Error (numerical, exit 3) after marking the manifest failed; the last good
// checkpoint stays on disk.
//
// The run layer: schemes/run/loop.cpp (this API, the loop), run_dir (the directory's files),
// reference (the closed-form comparison), progress (stderr), observer (the reporting interface).
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/io/npy.hpp"  // HostMatrix
#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/run/observer.hpp"
#include "nwgf/schemes/run/step_info.hpp"

namespace nwgf {

// Return false to stop after this step (a clean stop: status done, final snapshot written).
using StepCallback = std::function<bool(const StepInfo&, const HostMatrix<double>& samples)>;

// One phase of a run (engine/trace.hpp's names): its time exclusive of the phases nested in it,
// and that time's share of the run's wall time.
struct PhaseSeconds {
  std::string name;
  double seconds = 0;
  double share = 0;
};

struct RunOptions {
  BackendChoice backend = BackendChoice::automatic;
  int threads = 0;       // 0: NWGF_THREADS, else all cores
  std::string out_dir;   // empty: nothing written
  bool resume = false;   // continue from out_dir/checkpoint.bin
  bool progress = true;  // progress on stderr (also needs cfg.progress)
  // The run's Chrome Trace Event / Perfetto JSON (`--trace`); empty: out_dir/trace.json when
  // cfg.trace, else none.
  std::string trace_path;
  StepCallback on_step;
  std::vector<std::shared_ptr<RunObserver>> observers;  // called in this order
  // The ranks of the run (engine/comm/comm.hpp; nullptr: this process alone). With more than one
  // rank every rank calls run_flow with the same config and options: the particle scheme's
  // gradients are shared across them (the same snapshots, bit for bit, as one process with the
  // same thread count); rank 0 alone writes files, shows progress, evaluates, calls on_step and
  // the observers. Other schemes, the sliced estimator and the CUDA backend refuse (bad input).
  const Comm* comm = nullptr;
};

struct RunResult {
  Device device = Device::cpu;
  index_t steps = 0;  // the last step done
  double time = 0;
  bool stopped = false;  // on_step asked to stop
  HostMatrix<double> samples;  // flow.memory = "sharded": this rank's own rows only
  std::vector<StepInfo> metrics;  // step 0 .. steps (resumed runs: from step 0 of the CSV)
  double wall_seconds = 0;        // of this process's part of the run
  std::vector<PhaseSeconds> phases;  // longest first (also manifest.json `phases`)
  std::vector<std::pair<std::string, double>> counters;  // pairs, gemm_flops, bytes_written
};

RunResult run_flow(const FlowConfig& cfg, const RunOptions& opt);

}  // namespace nwgf
