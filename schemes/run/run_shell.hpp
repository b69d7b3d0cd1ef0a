#pragma once
// What the two runners of run_flow share around their steps: the replicated one
// (schemes/run/loop.cpp) and the sharded one (schemes/run/sharded_loop.cpp). RunShell keeps rank
// 0's record of the run (the metrics rows, metrics.csv, manifest.json), the last checkpoint, and
// runs the steps inside the run's end: the observers' finish, the trace session's phase and
// counter summaries, the manifest "done" and the trace file; on a failure the manifest "failed"
// (with the last checkpoint's step and time) and the trace, best effort.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/run/observer.hpp"
#include "nwgf/schemes/run/run_dir.hpp"
#include "nwgf/schemes/run/step_info.hpp"
#include "nwgf/schemes/time_steps.hpp"

namespace nwgf {

// The manifest's fields fixed for a run of cfg on ctx and comm (`ranks` under an MPI launcher,
// latent_dim for the backward and forward schemes).
Manifest run_manifest(const FlowConfig& cfg, const Context& ctx, const Comm& comm, DType dtype,
                      index_t n, index_t d, bool analytic_reference);

// Set-up with more than one rank: every rank runs the same command (the resolved config and the
// options that shape the result or the files), else bad input.
void require_same_run(const Comm& comm, const FlowConfig& cfg, const Context& ctx,
                      const RunOptions& opt);
// Bad input unless there are at least as many samples (n) as ranks.
void require_rows_for_ranks(const Comm& comm, index_t n);

// After step n, at time t: the test hook output.blowup_step (this rank's samples x, count
// values, made NaN on output.blowup_rank) and the check that they are finite, agreed across ranks
// (a rank whose state went bad alone, a defect in a split pass, must not leave the others waiting
// in the next step's collectives): a numerical error naming the step and t.
template <class T>
void check_samples(const Context& ctx, const Comm& comm, const FlowConfig& cfg, index_t n, double t,
                   T* x, index_t count);

// A checkpoint of samples of type T, shape (n, d), at this step and time: the fields before the
// samples (the samples, the scheme state and the dynamics key are the caller's).
template <class T>
Checkpoint checkpoint_at(index_t step, double time, index_t n, index_t d) {
  Checkpoint c;
  c.step = step;
  c.time = time;
  c.scalar_bytes = sizeof(T);
  c.n = n;
  c.d = d;
  return c;
}

class RunShell {
 public:
  // cfg, comm, steps and dir outlive the shell (the runner's members).
  RunShell(const FlowConfig& cfg, const Comm& comm, const TimeSteps& steps, RunDirectory& dir)
      : cfg_(cfg), comm_(comm), steps_(steps), dir_(dir) {}

  // After set-up: whether the run writes a directory (on rank 0 at least), and the manifest's
  // fields fixed for the run (its status, step, time, phases and counters are filled per write).
  void set_files(bool files) { files_ = files; }
  bool files() const { return files_; }
  void set_manifest(Manifest m) { manifest_ = std::move(m); }

  // Rank 0: the rows so far (read back on --resume).
  std::vector<StepInfo>& metrics() { return metrics_; }

  // What run_flow returns but the samples (and `stopped`): the session's wall time, the
  // finished run's phases and counters, the device, the last step n and its time, the metrics
  // rows (rank 0's).
  RunResult result(const TraceSession& session, Device device, index_t n, double time) const;

  // The last checkpoint written or resumed from: what a failed run's manifest names.
  void checkpointed(index_t step, double time) {
    checkpoint_step_ = step;
    checkpoint_time_ = time;
  }

  // Rank 0, as the run starts: the run directory prepared (its config.toml), the observers
  // started.
  void start(const std::vector<std::shared_ptr<RunObserver>>& observers, const RunStart& start);

  // Rank 0: the metrics row; metrics.csv (all rows so far) is rewritten at every evaluation,
  // snapshot and checkpoint step (with the default eval.every = checkpoint_every = 1: every
  // step), so the rows up to a checkpoint are on disk and a long run with sparse evaluations does
  // not sync the file every step; the manifest says "running" after step 0's row.
  void record(const StepInfo& s, bool snapshot);

  // Rank 0: manifest.json with this status, step and time (a "done" one with the phases and
  // counters).
  void write_manifest(const std::string& status, index_t step, double time) const;

  // Runs `steps` (every rank), then the run's end: rank 0's observers finish, the session
  // stops (its summaries kept), rank 0 writes the manifest "done" (the step n and time as the
  // steps leave them) and trace_file (rank 0's; "" none). On an Error from any of it: the
  // session stops, the manifest says "failed" and the trace is written, best effort, and the
  // Error goes on.
  template <class Steps>
  void run(TraceSession& session, TraceSpan& root, const std::string& trace_file,
           const std::vector<std::shared_ptr<RunObserver>>& observers, const index_t& n,
           const double& time, Steps&& steps) {
    try {
      steps();
      finish(session, root, trace_file, observers, n, time);
    } catch (const Error&) {
      fail(session, root, trace_file);
      throw;
    }
  }

 private:
  void finish(TraceSession& session, TraceSpan& root, const std::string& trace_file,
              const std::vector<std::shared_ptr<RunObserver>>& observers, index_t n, double time);
  void fail(TraceSession& session, TraceSpan& root, const std::string& trace_file) const;

  const FlowConfig& cfg_;
  const Comm& comm_;
  const TimeSteps& steps_;
  RunDirectory& dir_;
  bool files_ = false;
  Manifest manifest_;
  index_t checkpoint_step_ = 0;
  double checkpoint_time_ = 0;
  std::vector<StepInfo> metrics_;
  std::vector<PhaseSeconds> phases_;
  std::vector<std::pair<std::string, double>> counters_;
};

}  // namespace nwgf
