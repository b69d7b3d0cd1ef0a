// RunShell (schemes/run/run_shell.hpp): the run's record and end, shared by the replicated and
// the sharded runner.
#include "nwgf/schemes/run/run_shell.hpp"

#include <algorithm>
#include <limits>

#include "nwgf/schemes/run/run_trace.hpp"
#include "nwgf/schemes/scheme_ops.hpp"

namespace nwgf {

Manifest run_manifest(const FlowConfig& cfg, const Context& ctx, const Comm& comm, DType dtype,
                      index_t n, index_t d, bool analytic_reference) {
  Manifest m;
  m.backend = to_string(ctx.device());
  m.threads = ctx.threads();
  if (std::string(comm.kind()) == "mpi") m.ranks = comm.size();
  m.dtype = to_string(dtype);
  m.seed = (long long)cfg.seed;
  m.n = (long long)n;
  m.d = (long long)d;
  if (cfg.scheme == SchemeKind::backward || cfg.scheme == SchemeKind::forward) {
    m.latent_dim = (long long)latent_dim(cfg);
  }
  m.analytic_reference = analytic_reference;
  m.config_json = to_json(cfg);
  return m;
}

void require_same_run(const Comm& comm, const FlowConfig& cfg, const Context& ctx,
                      const RunOptions& opt) {
  require_same(comm, "the config or the options (--backend, --threads, --out, --resume)",
               to_toml(cfg) + "\n" + to_string(ctx.device()) + " " + std::to_string(ctx.threads()) +
                   " " + opt.out_dir + " " + (opt.resume ? "resume" : ""));
}

void require_rows_for_ranks(const Comm& comm, index_t n) {
  if (n < comm.size()) {
    throw_bad_input("mpirun -np " + std::to_string(comm.size()) + ": more ranks than the " +
                    std::to_string(n) + " samples (initial.n); use at most " + std::to_string(n) +
                    " ranks");
  }
}

template <class T>
void check_samples(const Context& ctx, const Comm& comm, const FlowConfig& cfg, index_t n, double t,
                   T* x, index_t count) {
  if (n == cfg.blowup_step && (cfg.blowup_rank < 0 || cfg.blowup_rank == comm.rank())) {
    axpby(ctx, count, T(0), x, T(std::numeric_limits<double>::quiet_NaN()), x);
  }
  collective(comm, [&] {
    if (!all_finite(ctx, x, count)) {
      throw_numerical("the samples contain NaN or Inf after step " + std::to_string(n) +
                      " (t = " + csv_number(t) + ")");
    }
  });
}

template void check_samples<float>(const Context&, const Comm&, const FlowConfig&, index_t, double,
                                   float*, index_t);
template void check_samples<double>(const Context&, const Comm&, const FlowConfig&, index_t, double,
                                    double*, index_t);

RunResult RunShell::result(const TraceSession& session, Device device, index_t n,
                           double time) const {
  RunResult r;
  r.wall_seconds = session.wall_seconds();
  r.phases = phases_;
  r.counters = counters_;
  r.device = device;
  r.steps = n;
  r.time = time;
  r.metrics = metrics_;
  return r;
}

void RunShell::start(const std::vector<std::shared_ptr<RunObserver>>& observers,
                     const RunStart& start) {
  if (files_) {
    TraceSpan span(Phase::setup);
    dir_.prepare(to_toml(cfg_));
  }
  if (!observers.empty()) {
    TraceSpan span(Phase::plots);
    for (const auto& o : observers) o->start(start);
  }
}

void RunShell::record(const StepInfo& s, bool snapshot) {
  metrics_.push_back(s);
  const bool due = snapshot || s.step % cfg_.eval_every == 0 ||
                   s.step % cfg_.checkpoint_every == 0 || !steps_.more(s.step + 1, s.time);
  if (files_ && due) {
    {
      TraceSpan span(Phase::metrics_write);
      dir_.write_metrics(metrics_);
    }
    if (s.step == 0) write_manifest("running", 0, 0);
  }
}

void RunShell::write_manifest(const std::string& status, index_t step, double time) const {
  Manifest m = manifest_;
  m.status = status;
  m.step = (long long)step;
  m.time = time;
  if (status == "done") {
    m.phases_json = phases_json(phases_);
    m.counters_json = counters_json(counters_);
  }
  TraceSpan span(Phase::manifest_write);
  dir_.write_manifest(m);
}

void RunShell::finish(TraceSession& session, TraceSpan& root, const std::string& trace_file,
                      const std::vector<std::shared_ptr<RunObserver>>& observers, index_t n,
                      double time) {
  on_root(comm_, [&] {
    if (!observers.empty()) {
      TraceSpan span(Phase::plots);
      for (const auto& o : observers) o->finish(metrics_);
    }
  });
  root.close();
  session.stop();
  phases_ = phase_summary(session);
  counters_ = counter_summary(session);
  on_root(comm_, [&] {
    if (files_) write_manifest("done", n, time);
    if (!trace_file.empty()) write_run_trace(session, trace_file);
  });
}

void RunShell::fail(TraceSession& session, TraceSpan& root, const std::string& trace_file) const {
  root.close();
  session.stop();
  // Best effort: the manifest says failed, with the step and time of the last good checkpoint
  // (it must never be left claiming success, or running after the run has stopped); a second
  // failure (the disk is still full) is ignored; so is a failing write of the failed run's trace.
  if (comm_.root() && files_) {
    try {
      write_manifest("failed", std::max<index_t>(checkpoint_step_, 0),
                     std::max(checkpoint_time_, 0.0));
    } catch (const Error&) {
    }
  }
  try {
    if (!trace_file.empty()) write_run_trace(session, trace_file);
  } catch (const Error&) {
  }
}

}  // namespace nwgf
