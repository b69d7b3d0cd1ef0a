// The run loop behind run_flow (schemes/flow.hpp): draw the initial samples, step the scheme,
// evaluate, record through the run directory (schemes/run/run_dir.hpp) and the observers, and
// checkpoint; resume from a checkpoint.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/threads.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/run/aggregation_metrics.hpp"
#include "nwgf/schemes/run/dynamics_key.hpp"
#include "nwgf/schemes/run/progress.hpp"
#include "nwgf/schemes/run/reference.hpp"
#include "nwgf/schemes/run/run_dir.hpp"
#include "nwgf/schemes/run/run_shell.hpp"
#include "nwgf/schemes/run/run_trace.hpp"
#include "nwgf/schemes/run/sharded_loop.hpp"
#include "nwgf/schemes/scheme_ops.hpp"
#include "nwgf/schemes/schemes.hpp"
#include "nwgf/schemes/time_steps.hpp"
#include "nwgf/schemes/variational/closed_form_metrics.hpp"
#include "nwgf/schemes/variational/mixture_metrics.hpp"

namespace nwgf {
namespace {

using clock_type = std::chrono::steady_clock;

template <class T>
std::vector<T> download_points(const Context& ctx, const Points<T>& x) {
  std::vector<T> h(std::size_t(x.n() * x.d()));
  copy_to_host(ctx, h.data(), x.buffer());
  return h;
}

template <class T>
HostMatrix<double> to_host(const Context& ctx, const Points<T>& x) {
  const std::vector<T> h = download_points(ctx, x);
  HostMatrix<double> m;
  m.rows = x.n();
  m.cols = x.d();
  m.data.assign(h.begin(), h.end());
  return m;
}

// The GPU of this rank: one rank per GPU, the node-local rank picking among the node's devices
// (collective over comm); device 0 in one process or on the CPU backend.
int rank_cuda_device(const Comm& comm, BackendChoice backend) {
  if (comm.size() == 1 || backend == BackendChoice::cpu) return 0;
  const int local = node_local_rank(comm);
  const CudaStatus s = cuda_status();
  return s.devices.empty() ? 0 : local % int(s.devices.size());
}

template <class T>
class Runner {
 public:
  Runner(const FlowConfig& cfg, const RunOptions& opt)
      : cfg_(cfg),
        opt_(opt),
        comm_(opt.comm ? *opt.comm : single_process_comm()),
        root_(comm_.root()),
        ctx_(opt.backend, opt.threads, rank_cuda_device(comm_, opt.backend)),
        steps_(cfg),
        dir_(opt.out_dir) {
    if (root_) observers_ = opt.observers;
  }

  RunResult run() {
    const std::string trace_file = run_trace_file(cfg_, opt_);
    TraceSession session(!trace_file.empty());
    TraceSpan root(Phase::run);
    TraceSpan setup(Phase::setup);
    set_threads(ctx_.threads());
    // Every rank sets up the same run (replicated, from the same config and seed); any rank's
    // failure is every rank's (engine/comm/comm.hpp).
    HostMatrix<double> x0;
    std::vector<WeightedPoints> targets;
    collective(comm_, [&] { set_up(x0, targets); });
    // CUDA across ranks: the pair gradients' rows and the pushed rows of the neural and
    // variational schemes are gathered on the GPUs over NCCL (the bootstrap is collective, so it
    // runs after set_up's agreed outcome).
    if (ctx_.is_cuda() && comm_.size() > 1) {
      device_comm_ = make_nccl_comm(ctx_, comm_);
      functional_->set_comm(device_comm_.get());
      // The ift witness gradient passes, the pushes, the variational scheme's own terms.
      scheme_->set_comm(device_comm_.get());
    }
    index_t n = 0;
    double time = 0;
    if (opt_.resume) {
      // Checked before anything is written: a refused resume leaves the directory as it was.
      // Rank 0 reads the checkpoint and sends the state to the others.
      on_root(comm_, [&] { std::tie(n, time) = load_checkpoint(); });
      share_state(n, time);
    }
    setup.close();
    run_steps(session, root, x0, targets, n, time);
    RunResult r = shell_.result(session, ctx_.device(), n, time);
    r.stopped = stopped_;
    r.samples = to_host(ctx_, x_);
    return r;
  }

 private:
  void set_up(HostMatrix<double>& x0_out, std::vector<WeightedPoints>& targets) {
    if (comm_.size() > 1) {
      require_same_run(comm_, cfg_, ctx_, opt_);
      if (ctx_.is_cuda() && !nccl_available()) {
        throw_bad_input(
            "--backend: the CUDA backend across MPI ranks needs NCCL, and this nwgf was built "
            "without it; use --backend cpu or one process");
      }
    }
    HostMatrix<double> x0 = sample_measure(cfg_.initial, cfg_.seed,
                                           random_stream(RandomPurpose::initial, 0), "initial");
    n_ = x0.rows;
    d_ = x0.cols;
    if (cfg_.scheme == SchemeKind::forward && cfg_.r < 1 && has_atoms(x0)) {
      refuse_forward_at_atoms(cfg_.r, "the initial samples repeat points");
    }
    // Atoms stay atoms (with their masses) for the exact estimators; the sliced one needs
    // equally weighted samples.
    const bool atoms = cfg_.estimator == Estimator::exact;
    if (cfg_.functional == FunctionalKind::mmd) {
      targets.push_back(target_measure(cfg_.target, cfg_.seed,
                                       random_stream(RandomPurpose::target, 0), "target", atoms));
    }
    for (std::size_t k = 0; k < cfg_.targets.size(); ++k) {
      targets.push_back(target_measure(cfg_.targets[k], cfg_.seed,
                                       random_stream(RandomPurpose::target, k),
                                       "target.measures[" + std::to_string(k) + "]", atoms));
    }
    const index_t max_rows = std::max<index_t>(
        n_, 2 * std::max(cfg_.batch, cfg_.rescale_batch > 0 ? cfg_.rescale_batch : cfg_.batch));
    functional_ = make_functional<T>(ctx_, cfg_, d_, max_rows, targets);
    if (comm_.size() > 1) {
      require_rows_for_ranks(comm_, n_);
      // The variational scheme builds its own terms (and shares them, set_comm below); it
      // never steps with this one.
      if (!variational() && !functional_->set_comm(&comm_)) {
        throw_bad_input("functional: this functional (kind \"" +
                        std::string(to_text(cfg_.functional)) + "\", estimator \"" +
                        std::string(to_text(cfg_.estimator)) + "\", kernel \"" +
                        std::string(to_text(cfg_.kernel)) +
                        "\") does not run across MPI ranks yet; the Riesz functionals (exact "
                        "and sliced), the Gaussian kernel, energy33, the potential and the "
                        "interaction kernels do");
      }
    }
    scheme_ = make_scheme<T>(ctx_, cfg_, *functional_, n_, d_);
    if (comm_.size() > 1 && !scheme_->set_comm(&comm_)) {
      throw_runtime("flow.scheme: the scheme refused the MPI ranks");
    }
    x_ = Points<T>(ctx_, n_, d_);
    {
      std::vector<T> h(x0.data.begin(), x0.data.end());
      copy_from_host(ctx_, x_.buffer(), h.data(), index_t(h.size()));
    }
    reference_.emplace(cfg_, n_);
    if (cfg_.eval_mmd) ou_ = ou_problem(cfg_);
    if (cfg_.eval_mmd) porous_ = porous_problem(cfg_);
    if (cfg_.eval_mmd) mixture_ = mixture_problem(cfg_);
    files_ = !opt_.out_dir.empty() && root_;
    shell_.set_files(files_);
    shell_.set_manifest(run_manifest(cfg_, ctx_, comm_, dtype_of<T>(), n_, d_,
                                     reference_->problem().kind != AnalyticReference::none));
    x0_out = std::move(x0);
  }

  // After a resume on rank 0: the step, time, samples and scheme state to every rank.
  void share_state(index_t& n, double& time) {
    if (comm_.size() == 1) return;
    comm_.broadcast(&n, sizeof(n), 0);
    comm_.broadcast(&time, sizeof(time), 0);
    std::vector<T> h = download_points(ctx_, x_);
    comm_.broadcast(h.data(), h.size() * sizeof(T), 0);
    collective(comm_, [&] { copy_from_host(ctx_, x_.buffer(), h.data(), index_t(h.size())); });
    std::string state = root_ ? scheme_->state(ctx_) : std::string();
    broadcast_string(comm_, state, 0);
    collective(comm_, [&] {
      if (!root_) scheme_->restore(ctx_, state, dir_.path("checkpoint.bin"));
    });
    shell_.checkpointed(n, time);
  }

  void run_steps(TraceSession& session, TraceSpan& root, const HostMatrix<double>& x0,
                 const std::vector<WeightedPoints>& targets, index_t& n, double& time) {
    const std::string trace_file = root_ ? run_trace_file(cfg_, opt_) : std::string();
    bool stopped = false;
    // From here on any failure (a numerical fault, a write that fails on a full disk, bad input
    // found during a step) leaves the manifest saying failed, never running or done.
    // With ranks: the steps run on every rank (the same samples on each); what rank 0 alone does
    // (files, evaluation, observers, progress) runs in on_root, so that its failure reaches every
    // rank; a failure on every rank at once (a numerical fault: the samples are the same) needs
    // no agreement.
    shell_.run(session, root, trace_file, observers_, n, time, [&] {
      const double f0 = !opt_.resume ? shared_value(true) : StepInfo::none;
      on_root(comm_, [&] {
        shell_.start(observers_, RunStart{cfg_, opt_.out_dir, n_, d_, steps_.end_time(), x0,
                                          targets, reference_->problem()});
        if (!opt_.resume) {
          StepInfo s0;
          {
            TraceSpan span(Phase::evaluation);
            if (value_evaluated()) {
              s0.functional = comm_.size() > 1 ? f0 : functional_->value(ctx_, x_.view());
            }
            scheme_->weighted_metrics(ctx_, x_, 0, s0);
          }
          evaluate(s0, 0);
          record(s0, true);
          if (files_) write_checkpoint(0, 0);
        }
      });
      if (comm_.size() > 1) write_shared(false);
      Progress progress(root_ && opt_.progress && cfg_.progress, steps_.total_steps());
      while (!stopped && steps_.more(n + 1, time)) {
        ++n;
        const double tau = steps_.tau(n, time);
        progress.step_begin();
        const auto t0 = clock_type::now();
        TraceSpan step_span(Phase::step);
        const StepResult res = scheme_->step(
            ctx_, x_, n, tau,
            [&](index_t it, index_t its, double loss) { progress.iteration(n, it, its, loss); });
        step_span.close();
        session.sample_counters();
        check_samples(ctx_, comm_, cfg_, n, time + tau, x_.data(), n_ * d_);
        time += tau;
        const double f = shared_value(!steps_.more(n + 1, time) || n % cfg_.eval_every == 0);
        on_root(comm_, [&] {
          StepInfo s;
          s.step = n;
          s.time = time;
          s.tau = tau;
          s.loss = res.loss;
          const bool last = !steps_.more(n + 1, time);
          const bool eval = last || n % cfg_.eval_every == 0;
          // Weighted particles: F of the weighted measure (weighted_metrics) replaces the value
          // of the equally weighted samples; the variational scheme reports its own F.
          if (eval) {
            TraceSpan span(Phase::evaluation);
            if (variational()) {
              s.functional = res.functional;
            } else if (!scheme_->weights(ctx_)) {
              s.functional = comm_.size() > 1 ? f : functional_->value(ctx_, x_.view());
            }
            scheme_->weighted_metrics(ctx_, x_, n, s);
          }
          if (eval) evaluate(s, n);
          s.wall_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
          HostMatrix<double> host;
          if (opt_.on_step) {
            host = to_host(ctx_, x_);
            stopped = !opt_.on_step(s, host);
          }
          const bool snap = last || stopped || (cfg_.every > 0 && n % cfg_.every == 0);
          record(s, snap);
          if (files_ && (last || stopped || n % cfg_.checkpoint_every == 0))
            write_checkpoint(n, time);
          progress.step_end(s);
        });
        if (comm_.size() > 1) stopped = write_shared(stopped);
      }
    });
    stopped_ = stopped;
  }

 private:
  // The metrics row (RunShell::record: metrics.csv when due); at snapshot steps the snapshot
  // and the observers.
  void record(const StepInfo& s, bool snapshot) {
    shell_.record(s, snapshot);
    if (!snapshot || (!files_ && observers_.empty())) return;
    if (files_ && comm_.size() > 1) {
      pending_.snapshot = 1;  // written by every rank together after rank 0's part (write_shared)
      pending_.step = s.step;
      if (observers_.empty()) return;
    }
    const std::vector<T> h = download_points(ctx_, x_);
    if (files_ && comm_.size() == 1) {
      TraceSpan span(Phase::snapshot_write);
      dir_.write_snapshot<T>(s.step, h.data(), n_, d_);
      if (scheme_->weights(ctx_)) dir_.write_weights(s.step, *scheme_->weights(ctx_));
    }
    if (observers_.empty()) return;
    TraceSpan span(Phase::plots);
    HostMatrix<double> hd;
    hd.rows = n_;
    hd.cols = d_;
    hd.data.assign(h.begin(), h.end());
    for (const auto& o : observers_) o->weighted_snapshot(s, hd, scheme_->weights(ctx_));
  }

  bool variational() const { return cfg_.scheme == SchemeKind::variational; }

  // Whether StepInfo::functional is F(samples) from Functional::value (not for the weighted
  // particles, whose weighted_metrics report it, nor the variational scheme).
  bool value_evaluated() const { return !scheme_->weights(ctx_) && !variational(); }

  // Across ranks, at an evaluation step (`due`): F(samples) computed by every rank before rank
  // 0's on_root part, so that the functional splits its pair passes across them (the same bits
  // as one process; metrics.csv compared by the mpi tests). One process: none (rank 0's part
  // calls value() as before).
  double shared_value(bool due) {
    if (comm_.size() == 1 || !due || !value_evaluated()) return StepInfo::none;
    TraceSpan span(Phase::evaluation);
    return functional_->value(ctx_, x_.view());
  }

  // mmd2_analytic / mmd2_iterate of StepInfo (when a closed form exists); the OU metrics.
  void evaluate(StepInfo& s, index_t n) {
    TraceSpan span(Phase::evaluation);
    if (ou_) evaluate_ou(*ou_, cfg_.tau, steps_.constant(), s, n, to_host(ctx_, x_));
    if (porous_) evaluate_porous(*porous_, cfg_.initial.t0, s, to_host(ctx_, x_));
    if (mixture_) evaluate_mixture(*mixture_, s, to_host(ctx_, x_));
    if (has_aggregation_metrics(cfg_)) evaluate_aggregation(cfg_, s, to_host(ctx_, x_));
    if (!reference_->active()) return;
    reference_->evaluate(ctx_, s, n, to_host(ctx_, x_), steps_.constant());
  }

  // Across ranks (on rank 0, in its on_root part of a step): what write_shared then writes with
  // every rank, collectively (MPI-IO), and whether rank 0 stopped the run.
  struct SharedWrites {
    std::int64_t step = 0;
    double time = 0;
    std::uint8_t snapshot = 0, checkpoint = 0, stopped = 0;
  };

  // Every rank, after rank 0's on_root part of a step (more than one rank): rank 0's pending
  // snapshot (and weights) and checkpoint written by all ranks, each its rows of the 64-row grid
  // (RunDirectory's Comm overloads), and `stopped` from rank 0, which it returns. The order of
  // one process: the snapshot, then the checkpoint.
  bool write_shared(bool stopped) {
    SharedWrites w = pending_;
    pending_ = {};
    w.stopped = stopped ? 1 : 0;
    comm_.broadcast(&w, sizeof(w), 0);
    if (!w.snapshot && !w.checkpoint) return w.stopped != 0;
    std::vector<T> h;
    collective(comm_, [&] { h = download_points(ctx_, x_); });
    if (w.snapshot) {
      TraceSpan span(Phase::snapshot_write);
      dir_.write_snapshot<T>(comm_, index_t(w.step), h.data(), n_, d_);
      const std::vector<double>* weights = scheme_->weights(ctx_);
      if (weights) dir_.write_weights(comm_, index_t(w.step), *weights);
    }
    if (w.checkpoint) {
      TraceSpan span(Phase::checkpoint_write);
      Checkpoint c = checkpoint_at<T>(index_t(w.step), w.time, n_, d_);
      // The scheme's state and the key go in the trailer, which rank 0 writes.
      on_root(comm_, [&] {
        c.scheme_state = scheme_->state(ctx_);
        c.dynamics_key = dynamics_key(cfg_);
      });
      dir_.write_checkpoint(comm_, c, h.data());
      shell_.checkpointed(c.step, c.time);
    }
    return w.stopped != 0;
  }

  void write_checkpoint(index_t step, double time) {
    if (comm_.size() > 1) {
      pending_.checkpoint = 1;  // written by every rank together (write_shared)
      pending_.step = step;
      pending_.time = time;
      return;
    }
    TraceSpan span(Phase::checkpoint_write);
    Checkpoint c = checkpoint_at<T>(step, time, n_, d_);
    const std::vector<T> h = download_points(ctx_, x_);
    c.samples.assign(reinterpret_cast<const char*>(h.data()), h.size() * sizeof(T));
    c.scheme_state = scheme_->state(ctx_);
    c.dynamics_key = dynamics_key(cfg_);
    dir_.write_checkpoint(c);
    shell_.checkpointed(step, time);
  }

  std::pair<index_t, double> load_checkpoint() {
    const Checkpoint c = dir_.read_checkpoint(sizeof(T), n_, d_);
    std::vector<T> h(std::size_t(n_ * d_));
    std::memcpy(h.data(), c.samples.data(), c.samples.size());
    copy_from_host(ctx_, x_.buffer(), h.data(), index_t(h.size()));
    if (c.dynamics_key != dynamics_key(cfg_)) {
      throw_bad_input("--resume: the config differs from the run in " + opt_.out_dir +
                      " (only flow.steps, flow.t_end, [output] and [eval] may change)");
    }
    scheme_->restore(ctx_, c.scheme_state, dir_.path("checkpoint.bin"));
    if (dir_.has_metrics()) shell_.metrics() = dir_.read_steps(c.step);
    shell_.checkpointed(c.step, c.time);
    return {c.step, c.time};
  }

  const FlowConfig& cfg_;
  const RunOptions& opt_;
  const Comm& comm_;
  bool root_;
  std::vector<std::shared_ptr<RunObserver>> observers_;  // rank 0's
  bool stopped_ = false;
  Context ctx_;
  std::unique_ptr<DeviceComm> device_comm_;  // CUDA across ranks (after ctx_: uses its stream)
  TimeSteps steps_;
  RunDirectory dir_;
  RunShell shell_{cfg_, comm_, steps_, dir_};  // the metrics, the manifest, the run's end
  index_t n_ = 0, d_ = 0;
  std::unique_ptr<Functional<T>> functional_;
  std::unique_ptr<Scheme<T>> scheme_;
  Points<T> x_;
  std::optional<ReferenceMetrics> reference_;
  std::optional<OuProblem> ou_;
  std::optional<Barenblatt> porous_;
  std::optional<MixtureProblem> mixture_;
  bool files_ = false;
  SharedWrites pending_;  // rank 0's, across ranks
};

}  // namespace

RunResult run_flow(const FlowConfig& cfg, const RunOptions& opt) {
  validate(cfg);
  if (cfg.memory == MemoryLayout::sharded) return run_flow_sharded(cfg, opt);
  if (resolved_dtype(cfg) == DType::f64) return Runner<double>(cfg, opt).run();
  return Runner<float>(cfg, opt).run();
}

}  // namespace nwgf
