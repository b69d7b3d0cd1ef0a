// run_flow_sharded (schemes/run/sharded_loop.hpp): the particle, backward and forward schemes
// with each rank holding only its own rows of the samples and of the target.
#include "nwgf/schemes/run/sharded_loop.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nwgf/analytic/barenblatt.hpp"
#include "nwgf/analytic/gaussian_mixture.hpp"
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/threads.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/pairwise_sharded.hpp"
#include "nwgf/kernels/reduce.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "nwgf/kernels/sliced_sharded.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/functional_interaction.hpp"
#include "nwgf/schemes/functional_potential.hpp"
#include "nwgf/schemes/ift/ift_scheme.hpp"
#include "nwgf/schemes/ift/weight_ranks.hpp"
#include "nwgf/schemes/ift/weighted_mmd.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/run/aggregation_metrics.hpp"
#include "nwgf/schemes/run/dynamics_key.hpp"
#include "nwgf/schemes/run/progress.hpp"
#include "nwgf/schemes/run/reference.hpp"
#include "nwgf/schemes/run/run_dir.hpp"
#include "nwgf/schemes/run/run_shell.hpp"
#include "nwgf/schemes/run/run_trace.hpp"
#include "nwgf/schemes/scheme_ops.hpp"
#include "nwgf/schemes/schemes.hpp"
#include "nwgf/schemes/time_steps.hpp"
#include "nwgf/schemes/variational/closed_form_metrics.hpp"
#include "nwgf/schemes/variational/gamma.hpp"
#include "nwgf/schemes/variational/mixture_metrics.hpp"
#include "nwgf/schemes/variational/variational_scheme.hpp"

namespace nwgf {
namespace {

using clock_type = std::chrono::steady_clock;

// The functionals the sharded runner sums term by term (ShardedRunner::kernel_terms): the
// particle scheme's interaction kernels W (KernelInteraction), the potential, kind = "sum" of
// both (SumFunctional), and energy33 in every scheme (Energy33: its rows and the masked Riesz sum
// of the y coordinates; in the neural schemes for F over all samples). The Riesz and Gaussian
// MMD flows (mmd, barycenter, interaction with the Riesz kernel) keep their own path.
bool term_by_term(const FlowConfig& cfg) {
  if (cfg.functional == FunctionalKind::energy33) return true;
  if (cfg.scheme != SchemeKind::particle) return false;
  return cfg.functional == FunctionalKind::sum || cfg.functional == FunctionalKind::potential ||
         (cfg.functional == FunctionalKind::interaction && cfg.kernel != KernelKind::riesz);
}

// --backend cuda: the particle scheme's exact estimator (every functional it takes, the
// term-by-term ones included) and the ift scheme run their pair passes on the GPUs
// (kernels/pairwise_sharded.hpp's CUDA path), the particle scheme's sliced estimator its
// sliced_gradient_sharded (kernels/sliced_sharded.hpp's CUDA path); the backward, forward and
// variational schemes train, push and meet the target on each rank's GPU too (set_up_scheme):
// every scheme runs. What the sharded layout refuses on the CPU (config_validate.cpp
// check_memory: sliced outside the particle scheme) is refused here too, naming the key. Any
// other choice: the CPU backend (auto included).
bool sharded_cuda(const FlowConfig& cfg, BackendChoice b) {
  if (b != BackendChoice::cuda) return false;
  const std::string why =
      " with flow.memory = \"sharded\" on the CUDA backend; use --backend cpu or "
      "flow.memory = \"replicated\"";
  // The sliced estimator: the particle scheme's (sliced_gradient_sharded on the GPUs).
  if (cfg.estimator != Estimator::exact && cfg.scheme != SchemeKind::particle) {
    throw_bad_input(
        "functional.estimator: only \"exact\" (and \"sliced\" with the particle scheme) runs" +
        why);
  }
  // The term-by-term functionals (particle scheme only: the ift scheme flows the MMD) run on the
  // GPUs too (term_gradient_gpu, term_value_gpu).
  return true;
}

template <class T>
class ShardedRunner {
 public:
  ShardedRunner(const FlowConfig& cfg, const RunOptions& opt)
      : cfg_(cfg),
        opt_(opt),
        comm_(opt.comm ? *opt.comm : single_process_comm()),
        root_(comm_.root()),
        cuda_(sharded_cuda(cfg, opt.backend)),
        ctx_(BackendChoice::cpu, opt.threads),
        steps_(cfg),
        dir_(opt.out_dir) {
    if (root_) observers_ = opt.observers;
  }
  // The scheme and functional first: their buffers live on gpu_'s device (--backend cuda).
  ~ShardedRunner() {
    scheme_.reset();
    functional_.reset();
  }

  RunResult run() {
    const std::string trace_file = root_ ? run_trace_file(cfg_, opt_) : std::string();
    TraceSession session(!trace_file.empty());
    TraceSpan root(Phase::run);
    TraceSpan setup(Phase::setup);
    set_threads(ctx_.threads());
    // Each rank draws or reads its own rows; a failure on any rank is every rank's, agreed
    // before the first pair pass (a collective) starts.
    collective(comm_, [&] { set_up(); });
    if (cfg_.scheme == SchemeKind::forward && cfg_.r < 1) {
      collective(comm_, [&] { refuse_repeated_start(); });
    }
    if (cuda_) set_up_gpu();
    target_energy();
    if (neural()) collective(comm_, [&] { set_up_scheme(); });
    if (mixture_) mixture_self_term();
    index_t n = 0;
    double time = 0;
    if (opt_.resume) {
      // Every rank reads its rows of the checkpoint (and checks it); rank 0 the metrics.
      collective(comm_, [&] { std::tie(n, time) = load_checkpoint(); });
    }
    if (ift()) weights_changed();
    // Resumed after an iteration with a weight step: its target term at the restored positions
    // (the pass that step ran), so the next step adds the same bits as an unbroken run.
    if (ift() && cache_target_ && n > 0) target_term();
    setup.close();
    run_steps(session, root, trace_file, n, time);
    RunResult r = shell_.result(session, gpu_ ? gpu_->ctx.device() : ctx_.device(), n, time);
    r.samples.rows = rows_;
    r.samples.cols = d_;
    r.samples.data.assign(x_.data(), x_.data() + rows_ * d_);
    return r;
  }

 private:
  void set_up() {
    if (comm_.size() > 1) {
      require_same_run(comm_, cfg_, ctx_, opt_);
      require_same(comm_, "--backend", cuda_ ? "cuda" : "cpu");
    }
    if (opt_.on_step) {
      throw_bad_input(
          "flow.memory: a step callback (on_step) needs all samples on one rank; "
          "use flow.memory = \"replicated\"");
    }
    n_ = measure_size(cfg_.initial, "initial");
    d_ = initial_dim(cfg_);
    require_rows_for_ranks(comm_, n_);
    reference_.emplace(cfg_, n_);
    std::tie(r0_, r1_) = owned_rows(n_, comm_.rank(), comm_.size());
    rows_ = r1_ - r0_;
    const HostMatrix<double> x0 = sample_measure_rows(
        cfg_.initial, cfg_.seed, random_stream(RandomPurpose::initial, 0), "initial", r0_, r1_);
    x_ = to_points(x0);
    // The forward scheme at r < 1 refuses a start with atoms (loop.cpp): checked across ranks
    // after set-up (refuse_repeated_start), on these rows as drawn.
    if (cfg_.scheme == SchemeKind::forward && cfg_.r < 1) start_rows_ = x0;
    box_lo_.assign(std::size_t(d_), std::numeric_limits<double>::infinity());
    box_hi_.assign(std::size_t(d_), -std::numeric_limits<double>::infinity());
    add_to_box(x0);
    grad_ = Points<T>(ctx_, rows_, d_);
    set_up_target();
    set_up_terms();
    if (cfg_.eval_mmd) porous_ = porous_problem(cfg_);
    if (ift()) set_up_ift();
    if (sliced() && !cuda_) {
      // The workspace of the gradient and of F's sums (X against the target), sized as the
      // replicated functional's (the same chunks of directions), projections for this rank's
      // share of a chunk's directions (--backend cuda: on the GPU, set_up_gpu).
      sliced_.emplace(ctx_, n_, m_, d_, int(cfg_.directions), comm_.size());
    }
    files_ = !opt_.out_dir.empty();
    shell_.set_files(files_);
    Manifest manifest = run_manifest(cfg_, ctx_, comm_, dtype_of<T>(), n_, d_,
                                     reference_->problem().kind != AnalyticReference::none);
    if (cuda_) manifest.backend = to_string(Device::cuda);
    shell_.set_manifest(manifest);
  }

  // The CUDA backend: this rank's GPU, the NCCL communicator of the ranks' GPUs (P > 1), the own
  // target rows and weights uploaded once (collective: every rank reaches it after set_up).
  void set_up_gpu() {
    const int device = rank_cuda_device(comm_);
    collective(comm_, [&] {
      gpu_.emplace(device, ctx_.threads());
      // The potential's packed density and row scratch on the device (term_gradient_gpu).
      if (potential_) {
        gpu_->potential.emplace(gpu_->ctx, target_density(cfg_.target, d_, "target"), rows_);
      }
      if (sliced()) sliced_.emplace(gpu_->ctx, n_, m_, d_, int(cfg_.directions), comm_.size());
    });
    if (comm_.size() > 1) gpu_->comm = make_nccl_comm(gpu_->ctx, comm_);
  }

  // The run's pair passes (kernels/pairwise_sharded.hpp) over host rows: on the CPU directly, or
  // (--backend cuda) on this rank's GPU with the arguments uploaded and the outputs downloaded
  // (accumulating outputs uploaded first). Every rank calls them in the same order.
  void pairs_gradient(PairFamily f, double prm, ConstPointsView<T> x, const T* a, index_t n,
                      ConstPointsView<T> y, const T* b, index_t m, T scale, PointsView<T> grad,
                      bool accumulate) {
    if (!gpu_) {
      pair_gradient_sharded<T>(ctx_, comm_, f, prm, x, a, n, y, b, m, scale, grad, accumulate);
      return;
    }
    Gpu& g = *gpu_;
    PassArgs d;
    T* dg = nullptr;
    staging([&] {
      d = g.upload(x, a, y, b);
      dg = g.stage(g.grad, grad.data, x.rows * x.cols, accumulate);
    });
    pair_gradient_sharded<T>(g.ctx, g.pass_comm(comm_), f, prm, d.x, d.a, n, d.y, d.b, m, scale,
                             PointsView<T>(dg, x.rows, x.cols, Device::cuda), accumulate);
    g.download(grad.data, dg, x.rows * x.cols);
  }
  void pairs_row_sums_gradient(PairFamily f, double prm, ConstPointsView<T> x, const T* a,
                               index_t n, ConstPointsView<T> y, const T* b, index_t m, T scale,
                               T* values, PointsView<T> grad, bool accumulate) {
    if (!gpu_) {
      pair_row_sums_gradient_sharded<T>(ctx_, comm_, f, prm, x, a, n, y, b, m, scale, values, grad,
                                        accumulate);
      return;
    }
    Gpu& g = *gpu_;
    PassArgs d;
    T *dg = nullptr, *dv = nullptr;
    staging([&] {
      d = g.upload(x, a, y, b);
      dg = g.stage(g.grad, grad.data, x.rows * x.cols, accumulate);
      dv = g.stage(g.values, values, x.rows, accumulate);
    });
    pair_row_sums_gradient_sharded<T>(g.ctx, g.pass_comm(comm_), f, prm, d.x, d.a, n, d.y, d.b, m,
                                      scale, dv, PointsView<T>(dg, x.rows, x.cols, Device::cuda),
                                      accumulate);
    g.download(grad.data, dg, x.rows * x.cols);
    g.download(values, dv, x.rows);
  }
  void pairs_energy(PairFamily f, double prm, ConstPointsView<T> x, const T* a, index_t n,
                    ConstPointsView<T> y, const T* b, index_t m, double* out, T scale = T(1),
                    T* values = nullptr, bool accumulate = false) {
    if (!gpu_) {
      pair_energy_sharded<T>(ctx_, comm_, f, prm, x, a, n, y, b, m, out, scale, values, accumulate);
      return;
    }
    Gpu& g = *gpu_;
    PassArgs d;
    T* dv = nullptr;
    staging([&] {
      d = g.upload(x, a, y, b);
      if (values) dv = g.stage(g.values, values, x.rows, accumulate);
    });
    pair_energy_sharded<T>(g.ctx, g.pass_comm(comm_), f, prm, d.x, d.a, n, d.y, d.b, m, out, scale,
                           dv, accumulate);
    if (values) g.download(values, dv, x.rows);
  }

  // The forward scheme at r < 1 is undefined at a start with atoms (refuse_forward_at_atoms), as
  // the replicated run refuses it (has_atoms of all N rows): across ranks each row goes to the
  // rank of its hash (bits of the row, -0 as 0, so rows equal as has_atoms compares them meet),
  // one all-to-all, then has_atoms of what each rank received and a count across ranks. O(N/P)
  // rows per rank for rows spread by the hash; every rank reaches both collectives.
  void refuse_repeated_start() {
    const HostMatrix<double> x = std::move(start_rows_);
    start_rows_ = HostMatrix<double>();
    bool repeats = false;
    if (comm_.size() == 1) {
      repeats = has_atoms(x);
    } else {
      const std::size_t p = std::size_t(comm_.size()), row_bytes = std::size_t(d_) * sizeof(double);
      std::vector<std::size_t> owner(std::size_t(x.rows)), send_counts(p, 0), send_offsets(p, 0);
      for (index_t i = 0; i < x.rows; ++i) {
        std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the row's bits
        for (index_t j = 0; j < d_; ++j) {
          const double v = x.data[std::size_t(i * d_ + j)];
          std::uint64_t bits = 0;
          const double w = v == 0 ? 0.0 : v;
          std::memcpy(&bits, &w, sizeof bits);
          h = (h ^ bits) * 1099511628211ull;
        }
        owner[std::size_t(i)] = std::size_t(h % p);
        send_counts[owner[std::size_t(i)]] += row_bytes;
      }
      for (std::size_t q = 1; q < p; ++q) send_offsets[q] = send_offsets[q - 1] + send_counts[q - 1];
      std::vector<double> send(std::size_t(x.rows * d_));
      std::vector<std::size_t> at = send_offsets;
      for (index_t i = 0; i < x.rows; ++i) {
        std::memcpy(reinterpret_cast<char*>(send.data()) + at[owner[std::size_t(i)]],
                    x.data.data() + i * d_, row_bytes);
        at[owner[std::size_t(i)]] += row_bytes;
      }
      // The byte counts first (one 8-byte count per pair of ranks), then the rows.
      std::vector<std::size_t> recv_counts(p), unit(p, sizeof(std::size_t)), unit_offsets(p);
      for (std::size_t q = 0; q < p; ++q) unit_offsets[q] = q * sizeof(std::size_t);
      comm_.alltoallv(send_counts.data(), unit, unit_offsets, recv_counts.data(), unit,
                      unit_offsets);
      std::vector<std::size_t> recv_offsets(p, 0);
      for (std::size_t q = 1; q < p; ++q) recv_offsets[q] = recv_offsets[q - 1] + recv_counts[q - 1];
      HostMatrix<double> mine;
      mine.cols = d_;
      mine.rows = index_t((recv_offsets[p - 1] + recv_counts[p - 1]) / row_bytes);
      mine.data.resize(std::size_t(mine.rows * d_));
      comm_.alltoallv(send.data(), send_counts, send_offsets, mine.data.data(), recv_counts,
                      recv_offsets);
      repeats = count_across(comm_, has_atoms(mine) ? 1 : 0) > 0;
    }
    if (repeats) refuse_forward_at_atoms(cfg_.r, "the initial samples repeat points");
  }

  // The box around the initial samples and the target points (the plots' frame): this rank's
  // rows in set_up, every rank's in plot_bounds.
  void add_to_box(const HostMatrix<double>& h) {
    for (index_t i = 0; i < h.rows; ++i) {
      for (index_t j = 0; j < d_; ++j) {
        const double v = h.data[std::size_t(i * d_ + j)];
        box_lo_[std::size_t(j)] = std::min(box_lo_[std::size_t(j)], v);
        box_hi_[std::size_t(j)] = std::max(box_hi_[std::size_t(j)], v);
      }
    }
  }
  // RunStart::bounds (every rank calls it: one allgather of 2 d doubles per rank; exact).
  HostMatrix<double> plot_bounds() const {
    const std::size_t p = std::size_t(comm_.size()), dd = std::size_t(d_);
    std::vector<double> all(2 * dd * p);
    const std::size_t me = std::size_t(comm_.rank());
    std::copy(box_lo_.begin(), box_lo_.end(), all.begin() + std::ptrdiff_t(2 * dd * me));
    std::copy(box_hi_.begin(), box_hi_.end(), all.begin() + std::ptrdiff_t(2 * dd * me + dd));
    if (p > 1) {
      std::vector<std::size_t> counts(p, 2 * dd * sizeof(double)), offsets(p);
      for (std::size_t q = 0; q < p; ++q) offsets[q] = q * 2 * dd * sizeof(double);
      comm_.allgather(all.data(), counts, offsets);
    }
    HostMatrix<double> b;
    b.rows = 2;
    b.cols = d_;
    b.data.assign(2 * dd, 0.0);
    for (std::size_t j = 0; j < dd; ++j) {
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (std::size_t q = 0; q < p; ++q) {
        lo = std::min(lo, all[2 * dd * q + j]);
        hi = std::max(hi, all[2 * dd * q + dd + j]);
      }
      b.data[j] = lo;
      b.data[dd + j] = hi;
    }
    return b;
  }

  Points<T> to_points(const HostMatrix<double>& h) {
    Points<T> p(ctx_, h.rows, d_);
    for (std::size_t k = 0; k < h.data.size(); ++k) p.data()[k] = T(h.data[k]);
    return p;
  }

  // The functional is summed term by term (term_by_term: kernels W, the potential, sums,
  // energy33); the Riesz and Gaussian MMD flows keep their own path (gradient, value).
  bool kernel_terms() const { return term_by_term(cfg_); }
  void set_up_terms() {
    if (!kernel_terms()) return;
    for (const FunctionalTerm& t : functional_terms(cfg_)) {
      Term term;
      term.weight = t.weight;
      if (t.kind == FunctionalKind::energy33) {  // d = 2 (config validation)
        term.energy33 = true;
        mask_ = Buffer<T>(ctx_, rows_);
      } else if (t.kind == FunctionalKind::potential) {
        term.potential = true;
        if (!potential_) potential_.emplace(ctx_, target_density(cfg_.target, d_, "target"), rows_);
      } else {
        // The single functional's KernelInteraction takes r = 1 (make_functional): only a term
        // of a sum gives the Riesz kernel, with its own r.
        term.pairs =
            interaction_pairs(t.kernel, cfg_.functional == FunctionalKind::sum ? t.r : 1.0);
      }
      terms_.push_back(term);
    }
    if (terms_.size() > 1) term_grad_ = Points<T>(ctx_, rows_, d_);
  }

  // This rank's rows of the target the one-process functional holds: the measures of mmd (one)
  // or barycenter (several) one after another, atoms as atoms with their masses, weights
  // b_j = alpha_k w_j (w_j the atom's mass or 1 / M_k), as RieszFunctional and GaussianMmd
  // build them.
  void set_up_target() {
    std::vector<const MeasureConfig*> measures;
    if (cfg_.functional == FunctionalKind::mmd) measures.push_back(&cfg_.target);
    for (const auto& m : cfg_.targets) measures.push_back(&m);
    if (measures.empty()) return;
    has_targets_ = true;
    const std::size_t kk = measures.size();
    std::vector<double> alpha = cfg_.weights;
    if (alpha.empty()) alpha.assign(kk, 1.0 / double(kk));
    std::vector<std::string> keys(kk);
    std::vector<std::optional<WeightedPoints>> atoms(kk);
    std::vector<index_t> size(kk), offset(kk + 1, 0);
    for (std::size_t k = 0; k < kk; ++k) {
      const MeasureConfig& m = *measures[k];
      keys[k] = cfg_.functional == FunctionalKind::mmd
                    ? std::string("target")
                    : "target.measures[" + std::to_string(k) + "]";
      // Atoms stay atoms (with their masses) for the exact estimator; the sliced one takes the
      // n equally weighted samples, as the replicated run (loop.cpp).
      if (!sliced() && (m.kind == MeasureKind::dirac || m.kind == MeasureKind::diracs)) {
        // The atoms (from the config, a few points) on every rank; each keeps its own.
        atoms[k] =
            target_measure(m, cfg_.seed, random_stream(RandomPurpose::target, k), keys[k], true);
        size[k] = atoms[k]->x.rows;
      } else {
        size[k] = measure_size(m, keys[k]);
        if (m.kind == MeasureKind::npy && read_npy_info(m.path).cols != d_) {
          throw_bad_input(keys[k] + ": the target points have d = " +
                          std::to_string(read_npy_info(m.path).cols) +
                          ", the samples d = " + std::to_string(d_));
        }
      }
      offset[k + 1] = offset[k] + size[k];
    }
    m_ = offset[kk];
    if (sliced()) {
      // The sliced sums take equal weights (RieszFunctional's check): b_j = alpha_k / M_k or
      // alpha_k w_j alike for every point of every measure, as T.
      std::optional<T> first;
      bool uniform = true;
      for (std::size_t k = 0; k < kk; ++k) {
        const bool weighted = atoms[k] && !atoms[k]->w.empty();
        const index_t count = weighted ? size[k] : 1;
        for (index_t j = 0; j < count; ++j) {
          const T b =
              T(alpha[k] * (weighted ? atoms[k]->w[std::size_t(j)] : 1.0 / double(size[k])));
          if (!first) first = b;
          uniform = uniform && b == *first;
        }
      }
      if (!uniform) {
        throw_bad_input("functional.estimator: sliced needs equal weights on all target points");
      }
    }
    std::tie(t0_, t1_) = owned_rows(m_, comm_.rank(), comm_.size());
    target_ = Points<T>(ctx_, t1_ - t0_, d_);
    b_ = Buffer<T>(ctx_, t1_ - t0_);
    for (std::size_t k = 0; k < kk; ++k) {
      const index_t a = std::max(t0_, offset[k]), e = std::min(t1_, offset[k + 1]);
      if (a >= e) continue;
      const index_t la = a - offset[k], le = e - offset[k];
      HostMatrix<double> rows;
      if (atoms[k]) {
        rows.rows = le - la;
        rows.cols = d_;
        rows.data.assign(atoms[k]->x.data.begin() + la * d_, atoms[k]->x.data.begin() + le * d_);
      } else {
        rows = sample_measure_rows(*measures[k], cfg_.seed, random_stream(RandomPurpose::target, k),
                                   keys[k], la, le);
      }
      add_to_box(rows);
      for (index_t i = 0; i < le - la; ++i) {
        for (index_t j = 0; j < d_; ++j) {
          target_.data()[(a - t0_ + i) * d_ + j] = T(rows.data[std::size_t(i * d_ + j)]);
        }
        const bool weighted = atoms[k] && !atoms[k]->w.empty();
        b_.data()[a - t0_ + i] =
            T(alpha[k] * (weighted ? atoms[k]->w[std::size_t(la + i)] : 1.0 / double(size[k])));
      }
    }
  }

  // The schemes that train a network (replicated on every rank) and push the samples.
  bool neural() const {
    return cfg_.scheme == SchemeKind::backward || cfg_.scheme == SchemeKind::forward ||
           variational();
  }
  bool variational() const { return cfg_.scheme == SchemeKind::variational; }
  // The scheme's Context: this rank's GPU for the neural schemes on --backend cuda, else the
  // host's.
  const Context& scheme_ctx() const { return gpu_ && neural() ? gpu_->ctx : ctx_; }

  // The neural schemes: the network trains replicated on every rank (schemes/schemes.cpp,
  // set_sharded); its batch terms against the target through the sharded passes
  // (make_sharded_target_functional), with this rank's target rows and E_K(nu) from
  // target_energy(). --backend cuda (backward, forward): the network, its batches, the
  // functional's batch terms (the target rows uploaded once, the passes' CUDA paths over NCCL)
  // and the push on this rank's GPU; the host keeps the samples between steps (run_steps).
  void set_up_scheme() {
    if (variational()) {
      // Its own terms (no pair terms against a target): the scheme alone; its closed-form
      // metrics from sums over the own rows (evaluate_variational). --backend cuda: on this
      // rank's GPU (its networks, batches, push and estimate of F; its pair passes over NCCL).
      scheme_ = make_variational_scheme<T>(scheme_ctx(), cfg_, n_, d_);
      if (gpu_) gpu_->samples = Points<T>(gpu_->ctx, rows_, d_);
      if (!scheme_->set_sharded(scheme_ctx(), gpu_ ? gpu_->pass_comm(comm_) : comm_)) {
        throw_runtime("flow.memory: the scheme refused sharded samples");
      }
      if (cfg_.eval_mmd) ou_ = ou_problem(cfg_);
      if (cfg_.eval_mmd && cfg_.functional == FunctionalKind::kl &&
          cfg_.target.kind == MeasureKind::mixture && cfg_.initial.n == n_) {
        // mixture_problem's i.i.d. sample of the target (n = initial.n rows): this rank's rows.
        mixture_.emplace(mixture_of(cfg_.target, "target"));
        mixture_sample_ = Points<double>(ctx_, rows_, d_);
        mixture_->sample_rows(n_, r0_, r1_, cfg_.seed, mixture_sample_stream(),
                              mixture_sample_.data());
      }
      return;
    }
    const index_t max_rows =
        2 * std::max(cfg_.batch, cfg_.rescale_batch > 0 ? cfg_.rescale_batch : cfg_.batch);
    const Context& ctx = scheme_ctx();
    const Comm& comm = gpu_ ? gpu_->pass_comm(comm_) : comm_;
    if (cfg_.functional == FunctionalKind::energy33) {
      // No target: its batch terms need only the batch, which every rank holds whole (the
      // pair passes split across ranks as in the replicated layout: the same bits).
      functional_ = make_functional<T>(ctx, cfg_, d_, max_rows, std::vector<WeightedPoints>{});
    } else {
      functional_ = make_sharded_target_functional<T>(ctx, cfg_.r, d_, max_rows, comm, tview(),
                                                      b_.data(), m_, energy_nu_);
    }
    if (comm_.size() > 1 && !functional_->set_comm(&comm)) {
      throw_runtime("flow.memory: the functional refused the MPI ranks");
    }
    scheme_ = make_scheme<T>(ctx, cfg_, *functional_, n_, d_);
    if (gpu_) gpu_->samples = Points<T>(ctx, rows_, d_);
    if (!scheme_->set_sharded(ctx, comm)) {
      throw_runtime("flow.memory: the scheme refused sharded samples");
    }
  }

  bool gaussian() const { return cfg_.kernel == KernelKind::gaussian; }
  bool sliced() const { return cfg_.estimator == Estimator::sliced; }
  // F's directions (the sliced estimator): one fixed draw for every evaluation of F and for
  // E_K(nu), normals [S d, 2 S d) of the Philox stream (seed, sliced stream 0), which no step's
  // gradient draws (step n: stream n, counter 0), so F along the run is one smooth estimate.
  void draw_value_directions(SlicedRiesz<T>& sliced) {
    sliced.draw_directions(sliced_ctx(), cfg_.seed, random_stream(RandomPurpose::sliced, 0), 1);
  }
  // The sliced workspace's context: this rank's GPU with --backend cuda, else the CPU.
  const Context& sliced_ctx() const { return gpu_ ? gpu_->ctx : ctx_; }
  // The sharded sliced pass (kernels/sliced_sharded.hpp) over host rows: on the CPU directly,
  // or (--backend cuda) on this rank's GPU with the own rows uploaded and the gradient
  // downloaded (the sums come back to the host either way). Every rank calls it in the same
  // order.
  void sliced_pass(SlicedRiesz<T>& sliced, ConstPointsView<T> x, index_t n, ConstPointsView<T> y,
                   index_t m, double* out_xx, double* out_xy, T scale_xx, T scale_xy,
                   PointsView<T> grad) {
    if (!gpu_) {
      sliced_gradient_sharded<T>(ctx_, comm_, sliced, x, n, y, m, out_xx, out_xy, scale_xx,
                                 scale_xy, grad, false, sliced_buffers_);
      return;
    }
    Gpu& g = *gpu_;
    PassArgs d;
    PointsView<T> dg;
    staging([&] {
      d = g.upload(x, nullptr, y, nullptr);
      if (grad.data) {
        dg = PointsView<T>(g.stage(g.grad, nullptr, x.rows * x.cols, false), x.rows, x.cols,
                           Device::cuda);
      }
    });
    sliced_gradient_sharded<T>(g.ctx, g.pass_comm(comm_), sliced, d.x, n, d.y, m, out_xx, out_xy,
                               scale_xx, scale_xy, dg, false, sliced_buffers_);
    if (grad.data) g.download(grad.data, dg.data, x.rows * x.cols);
  }
  PairFamily family() const { return gaussian() ? PairFamily::gaussian : PairFamily::riesz; }
  // The family's parameter as the functionals pass it: r, or sigma = sqrt(1 / (2 gamma)).
  double param() const { return gaussian() ? std::sqrt(0.5 / cfg_.gamma) : cfg_.r; }
  ConstPointsView<T> xview() const { return std::as_const(x_).view(); }
  ConstPointsView<T> tview() const { return std::as_const(target_).view(); }

  // E_K(nu) of the target (a constant of F): Riesz -1/2 S_tt, Gaussian 1/2 S_tt.
  void target_energy() {
    if (m_ == 0) return;
    double s = 0;
    if (sliced()) {
      // -1/2 sum_jj' b_j b_j' |t_j - t_j'| with b_j = 1 / M: the target's own sliced S_xx, in
      // the run's workspace where M <= N, else in one of its own for this once.
      std::optional<SlicedRiesz<T>> own;
      if (m_ > n_) {
        collective(comm_, [&] {
          own.emplace(sliced_ctx(), m_, 0, d_, int(cfg_.directions), comm_.size());
        });
      }
      SlicedRiesz<T>& sliced = own ? *own : *sliced_;
      draw_value_directions(sliced);
      sliced_pass(sliced, tview(), m_, ConstPointsView<T>(), 0, &s, nullptr, T(0), T(0),
                  PointsView<T>());
      energy_nu_ = -0.5 * s / (double(m_) * double(m_));
      return;
    }
    pairs_energy(family(), param(), tview(), b_.data(), m_, tview(), b_.data(), m_, &s);
    energy_yy_ = s;
    energy_nu_ = gaussian() ? 0.5 * s : -0.5 * s;
  }

  // grad <- M grad F_M(x) on the own rows (Functional::particle_gradient with scale 1):
  //   Riesz:    -(1/N) sum_j grad_x |x_i - x_j|^r-sum + sum_j b_j grad_x |x_i - t_j|^r-sum,
  //   Gaussian: (1/N) grad of the self sum - grad of the target sum.
  void gradient(index_t step) {
    const double n = double(n_);
    if (kernel_terms()) return gpu_ ? term_gradient_gpu() : term_gradient();
    if (sliced()) {
      // The particle scheme's draw (schemes.cpp: stream (sliced, step), counter 0) and
      // RieszFunctional::particle_gradient's scales: -1/2 / N for S_xx, 1 / M for S_xt.
      sliced_->draw_directions(sliced_ctx(), cfg_.seed,
                               random_stream(RandomPurpose::sliced, std::uint64_t(step)), 0);
      sliced_pass(*sliced_, xview(), n_, tview(), m_, nullptr, nullptr, T(-0.5 / n),
                  T(m_ > 0 ? 1.0 / double(m_) : 0.0), grad_.view());
      return;
    }
    const T self = gaussian() ? T(T(1) / n) : T(-T(1) / n);
    pairs_gradient(family(), param(), xview(), nullptr, n_, xview(), nullptr, n_, self,
                   grad_.view(), false);
    if (m_ > 0) {
      pairs_gradient(family(), param(), xview(), nullptr, n_, tview(), b_.data(), m_,
                     gaussian() ? T(-T(1)) : T(1), grad_.view(), true);
    }
  }

  // grad <- M grad F_M(x) on the own rows for kernel_terms(): SumFunctional's first term writes,
  // the others add through a scratch buffer, each at the scale T(w) (a single functional: T(1));
  // an interaction term's pair sum (KernelInteraction: sign T(w) / N) through
  // pair_gradient_sharded, the potential's rows (Potential: grad V(x_i) T(w)) on the own rows.
  void term_gradient() {
    const bool sum = cfg_.functional == FunctionalKind::sum;
    for (std::size_t k = 0; k < terms_.size(); ++k) {
      const Term& t = terms_[k];
      const T scale = sum ? T(double(T(1)) * t.weight) : T(1);
      Points<T>& out = k == 0 ? grad_ : term_grad_;
      if (t.energy33) {
        // Energy33::particle_gradient: the rows write grad and the mask (x < 0), then grad_y +=
        // -scale / N dS/dy of the masked Riesz sum S of the y column (a strided view, ld 2).
        (void)reduce_rows(ctx_, Energy33Row<T>{x_.data(), nullptr, scale, out.data(), mask_.data()},
                          rows_);
        pair_gradient_sharded<T>(ctx_, comm_, PairFamily::riesz, cfg_.r, y_column(), mask_.data(),
                                 n_, y_column(), mask_.data(), n_, T(-scale / double(n_)),
                                 PointsView<T>(out.data() + 1, rows_, 1, 2, out.buffer().device()),
                                 true);
      } else if (t.potential) {
        (void)reduce_rows(ctx_,
                          PotentialRow<T>{potential_->rows(), x_.data(), out.data(), d_, 0.0,
                                          double(scale), false},
                          rows_);
      } else {
        pair_gradient_sharded<T>(ctx_, comm_, t.pairs.family, t.pairs.param, xview(), nullptr, n_,
                                 xview(), nullptr, n_, T(t.pairs.sign * double(scale) / double(n_)),
                                 out.view(), false);
      }
      if (k > 0) axpby(ctx_, rows_ * d_, T(1), term_grad_.data(), T(1), grad_.data());
    }
  }

  // F = sum_k w_k F_k for kernel_terms() (SumFunctional::value; a single functional: w = 1):
  // KernelInteraction's sign 1/(2 N^2) sum_ij k(x_i - x_j) through pair_energy_sharded, the
  // potential's (1/N) sum_i V(x_i) as reduce_rows sums it (rows_sum), energy33's as Energy33.
  double term_value() {
    const double n = double(n_);
    double f = 0;
    for (const Term& t : terms_) {
      double v = 0;
      if (t.energy33) {
        // Energy33::value: p / N - 1/2 S / N^2, p the rows' sum (which also writes the mask).
        const double p = rows_sum(Energy33Row<T>{x_.data(), nullptr, T(0), nullptr, mask_.data()});
        double sum = 0;
        pair_energy_sharded<T>(ctx_, comm_, PairFamily::riesz, cfg_.r, y_column(), mask_.data(), n_,
                               y_column(), mask_.data(), n_, &sum);
        v = p / n - 0.5 * sum / (n * n);
      } else if (t.potential) {
        v = rows_sum(
            PotentialRow<T>{potential_->rows(), x_.data(), nullptr, d_, 1.0 / n, 0.0, false});
      } else {
        pair_energy_sharded<T>(ctx_, comm_, t.pairs.family, t.pairs.param, xview(), nullptr, n_,
                               xview(), nullptr, n_, &v);
        v = t.pairs.sign * 0.5 * v / (n * n);
      }
      f += t.weight * v;
    }
    return f;
  }

  // This rank's device staging (allocations of the Gpu buffers, uploads) inside a collective:
  // a rank that fails (out of GPU memory) fails every rank, instead of leaving the others in the
  // next pass's first collective. Every rank reaches each call (the passes are called by every
  // rank in the same order); inside, nothing communicates.
  void staging(const std::function<void()>& f) const { collective(comm_, f); }
  // The per-row buffers the terms' loops grow (row_values' output, energy33's mask and y
  // column), grown to the own rows beforehand, inside the staging collective.
  void reserve_term_rows(auto& g) const {
    g.row_terms(rows_);
    for (const Term& t : terms_) {
      if (!t.energy33) continue;
      g.stage(g.mask, nullptr, rows_, false);
      g.stage(g.column, nullptr, rows_, false);
    }
  }

  // term_gradient on this rank's GPU: the positions uploaded once, every term on the device (the
  // pair passes streamed over NCCL, pair_gradient_sharded's CUDA path; the potential's and
  // energy33's rows by row_values, no communication), the terms added there in term_gradient's
  // order, the gradient downloaded once. energy33's y column goes up packed (ld 1), its gradient
  // lands in the strided column (ld 2) of the device gradient.
  void term_gradient_gpu() {
    Gpu& g = *gpu_;
    const Comm& comm = g.pass_comm(comm_);
    const bool sum = cfg_.functional == FunctionalKind::sum;
    const index_t count = rows_ * d_;
    const T* dx = nullptr;
    T *dgrad = nullptr, *dterm = nullptr;
    staging([&] {
      dx = g.stage(g.x, x_.data(), count, true);
      dgrad = g.stage(g.grad, nullptr, count, false);
      if (terms_.size() > 1) dterm = g.stage(g.term, nullptr, count, false);
      reserve_term_rows(g);
    });
    const ConstPointsView<T> xv(dx, rows_, d_, Device::cuda);
    for (std::size_t k = 0; k < terms_.size(); ++k) {
      const Term& t = terms_[k];
      const T scale = sum ? T(double(T(1)) * t.weight) : T(1);
      T* out = k == 0 ? dgrad : dterm;
      if (t.energy33) {
        T* mask = g.stage(g.mask, nullptr, rows_, false);
        row_values(g.ctx, Energy33Row<T>{dx, nullptr, scale, out, mask}, rows_, g.row_terms(rows_));
        const ConstPointsView<T> y = g.y_column(x_.data(), rows_);
        pair_gradient_sharded<T>(g.ctx, comm, PairFamily::riesz, cfg_.r, y, mask, n_, y, mask, n_,
                                 T(-scale / double(n_)),
                                 PointsView<T>(out + 1, rows_, 1, 2, Device::cuda), true);
      } else if (t.potential) {
        row_values(g.ctx,
                   PotentialRow<T>{g.potential->rows(), dx, out, d_, 0.0, double(scale), false},
                   rows_, g.row_terms(rows_));
      } else {
        pair_gradient_sharded<T>(g.ctx, comm, t.pairs.family, t.pairs.param, xv, nullptr, n_, xv,
                                 nullptr, n_, T(t.pairs.sign * double(scale) / double(n_)),
                                 PointsView<T>(out, rows_, d_, Device::cuda), false);
      }
      if (k > 0) axpby(g.ctx, count, T(1), dterm, T(1), dgrad);
    }
    g.download(grad_.data(), dgrad, count);
  }

  // term_value on this rank's GPU: the pair energies by pair_energy_sharded's CUDA path (the same
  // bits at any rank count), the rows' values by row_values on the device, downloaded and summed
  // as rows_sum sums them (rank to rank in row order).
  double term_value_gpu() {
    Gpu& g = *gpu_;
    const Comm& comm = g.pass_comm(comm_);
    const double n = double(n_);
    const T* dx = nullptr;
    staging([&] {
      dx = g.stage(g.x, x_.data(), rows_ * d_, true);
      reserve_term_rows(g);
    });
    const ConstPointsView<T> xv(dx, rows_, d_, Device::cuda);
    double f = 0;
    for (const Term& t : terms_) {
      double v = 0;
      if (t.energy33) {
        T* mask = g.stage(g.mask, nullptr, rows_, false);
        const std::vector<double> rows =
            g.row_values_of(Energy33Row<T>{dx, nullptr, T(0), nullptr, mask}, rows_);
        const double p = rows_sum([&](index_t i) { return rows[std::size_t(i)]; });
        const ConstPointsView<T> y = g.y_column(x_.data(), rows_);
        double sum = 0;
        pair_energy_sharded<T>(g.ctx, comm, PairFamily::riesz, cfg_.r, y, mask, n_, y, mask, n_,
                               &sum);
        v = p / n - 0.5 * sum / (n * n);
      } else if (t.potential) {
        const std::vector<double> rows = g.row_values_of(
            PotentialRow<T>{g.potential->rows(), dx, nullptr, d_, 1.0 / n, 0.0, false}, rows_);
        v = rows_sum([&](index_t i) { return rows[std::size_t(i)]; });
      } else {
        pair_energy_sharded<T>(g.ctx, comm, t.pairs.family, t.pairs.param, xv, nullptr, n_, xv,
                               nullptr, n_, &v);
        v = t.pairs.sign * 0.5 * v / (n * n);
      }
      f += t.weight * v;
    }
    return f;
  }

  // sum_i row(i) over all N rows as reduce_rows sums it in one process (chunks of
  // ReducePolicy::chunk rows, each chunk's partial continued rank to rank in row order, the
  // partials added in order), on every rank; row(i) of the own rows, i local.
  template <class Row>
  double rows_sum(const Row& row) const {
    std::vector<double> partial(std::size_t(chunks_of(n_)), 0.0);
    sum_in_row_order(comm_, partial.data(), int(partial.size()), [&](double* acc) {
      for (index_t i = 0; i < rows_; ++i) acc[(r0_ + i) / ReducePolicy::chunk] += row(i);
    });
    return sum_in_order(partial.data(), index_t(partial.size()));
  }
  // energy33's y coordinates of the own rows: an (rows, 1) view with ld 2.
  ConstPointsView<T> y_column() const {
    return ConstPointsView<T>(x_.data() + 1, rows_, 1, 2, x_.buffer().device());
  }

  // F(mu_N) on every rank, in the functionals' value() order.
  double value() {
    TraceSpan span(Phase::evaluation);
    if (kernel_terms()) return gpu_ ? term_value_gpu() : term_value();
    const double n = double(n_);
    double sxx = 0, sxt = 0;
    if (sliced()) {
      // The V-statistic with the sliced sums: -1/2 S_xx / N^2 + S_xt / (N M) + E_K(nu).
      draw_value_directions(*sliced_);
      sliced_pass(*sliced_, xview(), n_, tview(), m_, &sxx, m_ > 0 ? &sxt : nullptr, T(0), T(0),
                  PointsView<T>());
      double f = -0.5 * sxx / (n * n) + energy_nu_;
      if (m_ > 0) f += sxt / (n * double(m_));
      return f;
    }
    pairs_energy(family(), param(), xview(), nullptr, n_, xview(), nullptr, n_, &sxx);
    if (m_ > 0) {
      pairs_energy(family(), param(), xview(), nullptr, n_, tview(), b_.data(), m_, &sxt);
    }
    if (gaussian()) return 0.5 * sxx / (n * n) - sxt / n + energy_nu_;
    double f = -0.5 * sxx / (n * n) + energy_nu_;
    if (m_ > 0) f += sxt / n;
    return f;
  }

  // The ift scheme (schemes/ift/ift_scheme.hpp) on the own rows: the weights w_ (double) and
  // their copy in T for the pair passes, the witness and the weight steps (weight_ranks.hpp).
  bool ift() const { return cfg_.scheme == SchemeKind::ift; }
  void set_up_ift() {
    const IftConfig& c = cfg_.ift;
    if (cfg_.initial.weights_path.empty()) {
      w_.assign(std::size_t(rows_), 1.0 / double(n_));
    } else {
      // The file's checks need all weights (their sum): read whole once, keep the own rows.
      const std::vector<double> all = initial_weights(cfg_, n_);
      w_.assign(all.begin() + r0_, all.begin() + r1_);
    }
    w_t_ = Buffer<T>(ctx_, rows_);
    g_ = Buffer<T>(ctx_, rows_);
    if (c.noise > 0) noisy_ = Points<T>(ctx_, rows_, d_);
    // Atoms (dirac, diracs) are the same in every draw: a fresh sample only of a sampled target.
    fresh_target_ = c.target_resample && cfg_.target.kind != MeasureKind::dirac &&
                    cfg_.target.kind != MeasureKind::diracs;
    if (fresh_target_) fresh_ = Points<T>(ctx_, t1_ - t0_, d_);
    // Without resampling the weight step's pass over the target also gives the next position
    // step's target term (IftScheme's cache).
    cache_target_ = c.weight_step != WeightStep::none && !c.target_resample;
    if (cache_target_) target_grad_ = Points<T>(ctx_, rows_, d_);
    if (c.weight_step == WeightStep::qp) {
      v_t_ = Buffer<T>(ctx_, rows_);
      kv_t_ = Buffer<T>(ctx_, rows_);
      if (c.qp_reference == QpReference::previous) previous_ = Points<T>(ctx_, rows_, d_);
    }
    kernel_ = IftKernel::make(cfg_.kernel, cfg_.gamma, cfg_.r);
  }

  // After the weights changed: their copy in T, and whether all are 1/n (on every rank).
  void weights_changed() {
    index_t other = 0;
    for (std::size_t i = 0; i < w_.size(); ++i) {
      w_t_.data()[i] = T(w_[i]);
      other += w_[i] == 1.0 / double(n_) ? 0 : 1;
    }
    uniform_ = count_across(comm_, other) == 0;
  }

  // The target rows of the ift passes: a fresh sample's (target_resample) or the fixed one's.
  ConstPointsView<T> ift_target() const {
    return fresh_target_ ? std::as_const(fresh_).view() : tview();
  }

  // One iteration (IftScheme::iterate): the position step, then the weight step.
  void ift_iteration(index_t k, double tau) {
    if (fresh_target_) {
      // The rows of the fresh sample of stream (target, k) this rank owns (atoms never change);
      // a failure (an npy file read again) agreed before the passes.
      collective(comm_, [&] {
        const HostMatrix<double> rows = sample_measure_rows(
            cfg_.target, cfg_.seed, random_stream(RandomPurpose::target, std::uint64_t(k)),
            "target", t0_, t1_);
        for (std::size_t j = 0; j < rows.data.size(); ++j) fresh_.data()[j] = T(rows.data[j]);
      });
    }
    if (cfg_.ift.weight_step == WeightStep::qp && cfg_.ift.qp_reference == QpReference::previous) {
      axpby(ctx_, rows_ * d_, T(1), x_.data(), T(0), previous_.data());
    }
    {
      TraceSpan span(Phase::push);
      ift_position_step(k, tau);
    }
    TraceSpan span(Phase::weight_step);
    ift_weight_step();
  }

  void ift_position_step(index_t k, double tau) {
    const IftConfig& c = cfg_.ift;
    const bool noise = c.noise > 0 && (c.noise_off == 0 || k <= c.noise_off);
    // The target's gradient term from the last weight step holds for these positions only.
    const bool cached = target_grad_valid_;
    target_grad_valid_ = false;
    if (!noise && !c.target_resample && uniform_) {
      // The particle flow's step: tau n (1/n) grad g = tau grad g in both conventions.
      gradient(k);
      axpby(ctx_, rows_ * d_, T(-tau), grad_.data(), T(1), x_.data());
      return;
    }
    ConstPointsView<T> eval = xview(), wit = xview();
    if (noise) {
      // x~ = x + noise z, z the own rows' entries of the Philox stream (noise, k).
      rng_normal<T>(ctx_, cfg_.seed, random_stream(RandomPurpose::noise, std::uint64_t(k)),
                    std::uint64_t(r0_ * d_), noisy_.data(), rows_ * d_, T(0), T(c.noise));
      axpby(ctx_, rows_ * d_, T(1), x_.data(), T(1), noisy_.data());
      eval = std::as_const(noisy_).view();
      if (c.noise_witness == NoiseWitness::noisy) wit = eval;
    }
    // grad_i = scale a_i grad g(x~_i), g the witness of (wit, w) against the target.
    const bool weighted = c.position_step == PositionStep::weighted;
    const T scale = T(weighted ? tau * double(n_) : tau);
    const T s = T(double(scale) * kernel_.sign);
    const T* a = weighted ? w_t_.data() : nullptr;
    pairs_gradient(kernel_.family, kernel_.param, eval, a, n_, wit, w_t_.data(), n_, s,
                   grad_.view(), false);
    if (cached && !noise) {
      // grad_i += scale a_i target_grad_i, target_grad_i = -sum_j b_j grad K(x_i, y_j).
      row_scaled_add<T>(ctx_, rows_, d_, scale, a, target_grad_.data(), grad_.data());
    } else {
      pairs_gradient(kernel_.family, kernel_.param, eval, a, n_, ift_target(), b_.data(), m_, T(-s),
                     grad_.view(), true);
    }
    axpby(ctx_, rows_ * d_, T(-1), grad_.data(), T(1), x_.data());
  }

  // g(x'_i) = sum_j w_j K(x'_i, x'_j) - sum_j b_j K(x'_i, y_j) at the new positions with the old
  // weights (the own rows' row sums of two passes), then the step on the own weights.
  void ift_weight_step() {
    const IftConfig& c = cfg_.ift;
    if (c.weight_step == WeightStep::none) return;
    if (cache_target_) {
      // The target's part first (overwriting, with its gradient), then the particles'
      // (accumulating): the same sums as below, added in the other order (IEEE addition
      // commutes).
      target_term();
      pairs_energy(kernel_.family, kernel_.param, xview(), nullptr, n_, xview(), w_t_.data(), n_,
                   nullptr, T(kernel_.sign), g_.data(), true);
    } else {
      pairs_energy(kernel_.family, kernel_.param, xview(), nullptr, n_, xview(), w_t_.data(), n_,
                   nullptr, T(kernel_.sign), g_.data(), false);
      pairs_energy(kernel_.family, kernel_.param, xview(), nullptr, n_, ift_target(), b_.data(), m_,
                   nullptr, T(-kernel_.sign), g_.data(), true);
    }
    const std::vector<double> g(g_.data(), g_.data() + rows_);
    if (c.weight_step == WeightStep::pgd) {
      weight_step_pgd_ranks(comm_, w_, g, c.eta, c.mass);
    } else if (c.weight_step == WeightStep::kl) {
      weight_step_kl_ranks(comm_, w_, g, c.eta, c.mass, c.kl_normalise);
    } else {
      ift_weight_step_qp(g);
    }
    weights_changed();
  }

  // g_ <- -K-sign sum_j b_j k(x_i, y_j) and target_grad_ <- its gradient at the current
  // positions (WeightedMmd::witness_and_target_gradient's target part), in one pass.
  void target_term() {
    pairs_row_sums_gradient(kernel_.family, kernel_.param, xview(), nullptr, n_, tview(), b_.data(),
                            m_, T(-kernel_.sign), g_.data(), target_grad_.view(), false);
    target_grad_valid_ = true;
  }

  // IftScheme::weight_step_qp with K(X', X') v as a pair pass (the own rows' row sums of
  // pair_energy_sharded with b = v in T): c = K w - g + (1/eta) K(X', X_ref) w, X_ref = X' for
  // "half", the positions before the step for "previous"; then FISTA (weight_ranks.hpp).
  void ift_weight_step_qp(const std::vector<double>& g) {
    const IftConfig& c = cfg_.ift;
    const RowsMatvec matvec = [&](const std::vector<double>& v, std::vector<double>& kv) {
      for (index_t i = 0; i < rows_; ++i) v_t_.data()[i] = T(v[std::size_t(i)]);
      pairs_energy(kernel_.family, kernel_.param, xview(), nullptr, n_, xview(), v_t_.data(), n_,
                   nullptr, T(kernel_.sign), kv_t_.data(), false);
      kv.assign(kv_t_.data(), kv_t_.data() + rows_);
    };
    std::vector<double> kw(static_cast<std::size_t>(rows_)), ref;
    matvec(w_, kw);
    if (c.qp_reference == QpReference::previous) {
      pairs_energy(kernel_.family, kernel_.param, xview(), nullptr, n_,
                   std::as_const(previous_).view(), w_t_.data(), n_, nullptr, T(kernel_.sign),
                   kv_t_.data(), false);
      ref.assign(kv_t_.data(), kv_t_.data() + rows_);
    } else {
      ref = kw;
    }
    std::vector<double> lin(static_cast<std::size_t>(rows_));
    for (std::size_t i = 0; i < lin.size(); ++i) lin[i] = kw[i] - g[i] + ref[i] / c.eta;
    w_ = solve_weight_qp_ranks(comm_, matvec, r0_, c.eta, lin, w_, c.qp_iterations, c.mass).b;
  }

  // IftScheme::weighted_metrics: MMD^2 = K-sign (w'K_XX w - 2 w'K_XY b + b'K_YY b) against the
  // fixed target sample, F = 1/2 MMD^2, and the weights' metrics, on every rank.
  void ift_metrics(StepInfo& s, index_t step) {
    TraceSpan span(Phase::evaluation);
    double xx = 0, xy = 0;
    pairs_energy(kernel_.family, kernel_.param, xview(), w_t_.data(), n_, xview(), w_t_.data(), n_,
                 &xx);
    pairs_energy(kernel_.family, kernel_.param, xview(), w_t_.data(), n_, tview(), b_.data(), m_,
                 &xy);
    const double m2 = kernel_.sign * (xx - 2 * xy + energy_yy_);
    set_weight_metrics(s, step, cfg_.ift.weight_step, m2, weight_stats_ranks(comm_, w_));
  }

  void run_steps(TraceSession& session, TraceSpan& root, const std::string& trace_file, index_t& n,
                 double& time) {
    // Every rank runs every step and every write (each its rows); rank 0 alone writes
    // metrics.csv and the manifest and shows progress, in on_root (its failure is every
    // rank's). Whether a step writes a snapshot or a checkpoint follows from the config and the
    // step on every rank alike.
    shell_.run(session, root, trace_file, observers_, n, time, [&] {
      StepInfo s0;
      if (!opt_.resume) evaluate(s0, 0);
      const HostMatrix<double> bounds = plot_bounds();
      on_root(comm_, [&] {
        const HostMatrix<double> none{{}, 0, d_};
        const std::vector<WeightedPoints> no_targets;
        shell_.start(observers_, RunStart{cfg_, opt_.out_dir, n_, d_, steps_.end_time(), none,
                                          no_targets, reference_->problem(),
                                          has_targets_ ? &bounds : nullptr});
        if (!opt_.resume) shell_.record(s0, true);
      });
      if (!opt_.resume) write_files(0, 0, true, true);
      Progress progress(root_ && opt_.progress && cfg_.progress, steps_.total_steps());
      while (steps_.more(n + 1, time)) {
        ++n;
        const double tau = steps_.tau(n, time);
        progress.step_begin();
        const auto t0 = clock_type::now();
        double loss = StepInfo::none;
        if (neural()) {
          TraceSpan step_span(Phase::step);
          const IterationCallback shown = [&](index_t it, index_t its, double l) {
            if (root_) progress.iteration(n, it, its, l);
          };
          StepResult res;
          if (gpu_) {
            // The own rows up, the step on the GPU, the moved rows down (the host keeps the
            // samples between steps: snapshots, checkpoints, metrics as on the CPU).
            Gpu& g = *gpu_;
            staging([&] { g.stage(g.samples.buffer(), x_.data(), rows_ * d_, true); });
            res = scheme_->step(g.ctx, g.samples, n, tau, shown);
            g.download(x_.data(), g.samples.data(), rows_ * d_);
          } else {
            res = scheme_->step(ctx_, x_, n, tau, shown);
          }
          loss = res.loss;
          step_functional_ = res.functional;
        } else if (ift()) {
          TraceSpan step_span(Phase::step);
          ift_iteration(n, tau);
        } else {
          TraceSpan step_span(Phase::step);
          {
            TraceSpan span(Phase::functional);
            gradient(n);
          }
          TraceSpan span(Phase::push);
          axpby(ctx_, rows_ * d_, T(-tau), grad_.data(), T(1), x_.data());
        }
        session.sample_counters();
        if (root_ && !neural()) {
          progress.iteration(n, 1, 1, std::numeric_limits<double>::quiet_NaN());
        }
        check_samples(ctx_, comm_, cfg_, n, time + tau, x_.data(), rows_ * d_);
        time += tau;
        const bool last = !steps_.more(n + 1, time);
        const bool eval = last || n % cfg_.eval_every == 0;
        StepInfo s;
        if (eval) {
          s.time = time;
          evaluate(s, n);
        }
        const bool snap = last || (cfg_.every > 0 && n % cfg_.every == 0);
        const bool checkpoint = last || n % cfg_.checkpoint_every == 0;
        on_root(comm_, [&] {
          s.step = n;
          s.time = time;
          s.tau = tau;
          s.loss = loss;
          s.wall_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
          shell_.record(s, snap);
          progress.step_end(s);
        });
        write_files(n, time, snap, checkpoint);
      }
    });
  }

  // The metrics of an evaluation step on every rank (s.functional: F, or the weighted
  // particles' 1/2 MMD^2 with their weight metrics), and mmd2_analytic / mmd2_iterate against
  // the closed form where one exists and eval.mmd is on (collective: the sharded pair passes;
  // s.time must be set).
  void evaluate(StepInfo& s, index_t step) {
    if (ift()) {
      ift_metrics(s, step);
    } else if (variational()) {
      // The scheme's estimate of F(P_k) (none at step 0: no critic yet), its closed-form metrics.
      if (step > 0) s.functional = step_functional_;
      evaluate_closed_form(s, step);
    } else {
      s.functional = value();
      evaluate_closed_form(s, step);
    }
    if (!reference_->active()) return;
    TraceSpan span(Phase::evaluation);
    HostMatrix<double> own;
    own.rows = rows_;
    own.cols = d_;
    own.data.assign(x_.data(), x_.data() + rows_ * d_);
    // --backend cuda: the reference's sums on this rank's GPU, as the run's pair passes.
    if (gpu_) {
      reference_->evaluate_sharded(gpu_->ctx, gpu_->pass_comm(comm_), s, step, own,
                                   steps_.constant());
    } else {
      reference_->evaluate_sharded(ctx_, comm_, s, step, own, steps_.constant());
    }
  }

  // The mixture sample's E|Y - Y'| (V-statistic), once: a sharded pair pass of k = |z|.
  void mixture_self_term() {
    const ConstPointsView<double> y = std::as_const(mixture_sample_).view();
    mixture_self_ = distance_sum(y, y) / (double(n_) * double(n_));
  }
  // sum_ij |x_i - y_j| over every rank's rows of x and y (n_ each, in double; energy_distance's
  // sums): a sharded pair pass on the host, or (--backend cuda) on this rank's GPU, the own rows
  // uploaded per call (the same bits at every rank count either way).
  double distance_sum(ConstPointsView<double> x, ConstPointsView<double> y) {
    double s = 0;
    if (!gpu_) {
      pair_energy_sharded<double>(ctx_, comm_, PairFamily::riesz, 1.0, x, nullptr, n_, y, nullptr,
                                  n_, &s);
      return s;
    }
    Gpu& g = *gpu_;
    const double *hx = nullptr, *hy = nullptr;
    staging([&] {
      hx = g.stage_double(g.dx, x.data, x.rows * x.cols);
      hy = g.stage_double(g.dy, y.data, y.rows * y.cols);
    });
    const ConstPointsView<double> dx(hx, x.rows, x.cols, Device::cuda);
    const ConstPointsView<double> dy(hy, y.rows, y.cols, Device::cuda);
    pair_energy_sharded<double>(g.ctx, g.pass_comm(comm_), PairFamily::riesz, 1.0, dx, nullptr, n_,
                                dy, nullptr, n_, &s);
    return s;
  }

  // The variational scheme's metrics.csv columns from the own rows (closed_form_metrics,
  // mixture_metrics, aggregation_metrics): the OU flow's symkl_* from the moment fit summed in
  // row order, mixture_tv from exact counts, ring_radius from sums in row order (one process's
  // values, bit for bit); energy_distance from sharded pair passes (in double, against this
  // rank's rows of the target sample; one process sums the same pairs by threads: the same value
  // to rounding; --backend cuda: on the GPUs, distance_sum); w1_semicircle (d = 1) on rank 0 alone
  // from all n samples gathered there (the quantile coupling sorts them; n doubles), one process's
  // value bit for bit. The porous medium's w1_radial from the n radii gathered on rank 0 (n
  // doubles, the radii of radial_w1), second_moment from the sum of squares in row order: one
  // process's values. (The particle scheme's interaction kernels: ring_radius, w1_semicircle, as
  // above.)
  void evaluate_closed_form(StepInfo& s, index_t step) {
    if (!ou_ && !mixture_ && !porous_ && !has_aggregation_metrics(cfg_)) return;
    TraceSpan span(Phase::evaluation);
    HostMatrix<double> own;
    own.rows = rows_;
    own.cols = d_;
    own.data.assign(x_.data(), x_.data() + rows_ * d_);
    if (ou_) {
      evaluate_ou_fit(*ou_, cfg_.tau, steps_.constant(), s, step,
                      moment_fit_rows(comm_, own.data.data(), rows_, n_, d_));
    }
    if (mixture_) {
      Points<double> x(ctx_, rows_, d_);
      std::copy(own.data.begin(), own.data.end(), x.data());
      const ConstPointsView<double> xv = std::as_const(x).view(),
                                    yv = std::as_const(mixture_sample_).view();
      const double sxy = distance_sum(xv, yv), sxx = distance_sum(xv, xv);
      const double nn = double(n_) * double(n_);
      s.energy_distance = 2 * sxy / nn - sxx / nn - mixture_self_;
      std::vector<index_t> counts = mixture_counts(*mixture_, own);
      for (index_t& c : counts) c = count_across(comm_, c);
      s.mixture_tv = mixture_tv_of_counts(*mixture_, counts, n_);
    }
    if (porous_) {
      const double t = cfg_.initial.t0 + s.time;
      std::vector<double> radii(static_cast<std::size_t>(rows_));
      row_radii(own.data.data(), rows_, d_, radii.data());
      std::vector<double> all = gather_on_root(radii.data());
      if (root_) s.w1_radial = radial_w1_of_radii(*porous_, t, std::move(all));
      double m2 = 0;
      sum_in_row_order(comm_, &m2, 1, [&](double* acc) {
        for (double v : own.data) *acc += v * v;
      });
      s.second_moment = m2 / double(n_);
      s.second_moment_exact = porous_->second_moment(t);
    }
    if (cfg_.functional == FunctionalKind::interaction &&
        cfg_.kernel == KernelKind::quartic_quadratic) {
      s.ring_radius = mean_radius_rows(comm_, own, n_);
    }
    if (cfg_.functional == FunctionalKind::interaction &&
        cfg_.kernel == KernelKind::log_quadratic && d_ == 1) {
      std::vector<double> all = gather_on_root(own.data.data());
      if (root_) s.w1_semicircle = w1_to_semicircle(std::move(all));
    }
  }

  // One value per own row to rank 0, all n in row order there (the other ranks send theirs;
  // empty on them).
  std::vector<double> gather_on_root(const double* own) const {
    if (!root_) {
      if (rows_ > 0) comm_.send(own, std::size_t(rows_) * sizeof(double), 0);
      return {};
    }
    std::vector<double> all(static_cast<std::size_t>(n_));
    std::copy(own, own + rows_, all.begin());
    for (int q = 1; q < comm_.size(); ++q) {
      const auto [a, e] = owned_rows(n_, q, comm_.size());
      if (e > a) comm_.recv(all.data() + a, std::size_t(e - a) * sizeof(double), q);
    }
    return all;
  }

  // Every rank: the snapshot (with the weights), then the checkpoint (the one-process order),
  // each rank its rows.
  void write_files(index_t step, double time, bool snapshot, bool checkpoint) {
    if (!files_) return;
    if (snapshot) {
      {
        TraceSpan span(Phase::snapshot_write);
        dir_.write_snapshot_rows<T>(comm_, step, x_.data(), n_, d_);
        if (ift()) dir_.write_weights_rows(comm_, step, w_, n_);
      }
      // The pictures (output.plots): no rank holds all samples, so rank 0 reads the files just
      // written (complete: every rank's writes have returned, rank 0 renamed them into place)
      // and hands them to the observers, as the replicated run hands its samples; the N d
      // values (and N weights) live on rank 0 only while it draws.
      if (cfg_.plots) on_root(comm_, [&] { draw_snapshot(step, time); });
    }
    if (checkpoint) {
      TraceSpan span(Phase::checkpoint_write);
      Checkpoint c = checkpoint_at<T>(step, time, n_, d_);
      c.dynamics_key = dynamics_key(cfg_);
      if (ift()) {
        dir_.write_weighted_checkpoint_rows(comm_, c, x_.data(), w_);
      } else {
        if (scheme_) c.scheme_state = scheme_->state(scheme_ctx());  // the particle scheme has none
        dir_.write_checkpoint_rows(comm_, c, x_.data());
      }
      shell_.checkpointed(step, time);
    }
  }

  void draw_snapshot(index_t step, double time) {
    if (observers_.empty()) return;
    TraceSpan span(Phase::plots);
    const HostMatrix<double> x =
        read_npy<double>(dir_.path("snapshots/" + RunDirectory::step_name(step) + ".npy"));
    std::vector<double> w;
    if (ift()) w = dir_.read_weights(step);
    StepInfo s;
    s.step = step;
    s.time = time;
    for (const auto& o : observers_) o->weighted_snapshot(s, x, ift() ? &w : nullptr);
  }

  std::pair<index_t, double> load_checkpoint() {
    // The ift scheme's state is the n weights (IftScheme::state): each rank reads its rows.
    const Checkpoint c =
        dir_.read_checkpoint_rows(sizeof(T), n_, d_, r0_, r1_, ift() ? sizeof(double) : 0);
    if (c.dynamics_key != dynamics_key(cfg_)) {
      throw_bad_input("--resume: the config differs from the run in " + opt_.out_dir +
                      " (only flow.steps, flow.t_end, flow.memory, [output] and [eval] may "
                      "change)");
    }
    std::memcpy(x_.data(), c.samples.data(), c.samples.size());
    if (scheme_) scheme_->restore(scheme_ctx(), c.scheme_state, dir_.path("checkpoint.bin"));
    if (ift()) {
      std::memcpy(w_.data(), c.scheme_state.data(), c.scheme_state.size());
      for (double v : w_) {
        if (!(v >= 0) || !std::isfinite(v)) {
          throw_bad_input(dir_.path("checkpoint.bin") + ": bad weights in the checkpoint");
        }
      }
    }
    if (root_ && dir_.has_metrics()) shell_.metrics() = dir_.read_steps(c.step);
    shell_.checkpointed(c.step, c.time);
    return {c.step, c.time};
  }

  const FlowConfig& cfg_;
  const RunOptions& opt_;
  const Comm& comm_;
  bool root_;
  std::vector<std::shared_ptr<RunObserver>> observers_;  // rank 0's
  bool cuda_ = false;  // --backend cuda: the pair passes on the GPU (gpu_)
  // The host: the own rows and everything per row (the steps, snapshots, checkpoints, metrics).
  Context ctx_;
  TimeSteps steps_;
  RunDirectory dir_;
  RunShell shell_{cfg_, comm_, steps_, dir_};  // the metrics, the manifest, the run's end
  index_t n_ = 0, d_ = 0, m_ = 0;
  index_t r0_ = 0, r1_ = 0, rows_ = 0;  // own rows of the samples
  index_t t0_ = 0, t1_ = 0;             // and of the target
  Points<T> x_, grad_, target_;
  Buffer<T> b_;
  std::unique_ptr<Functional<T>> functional_;  // the neural schemes'
  std::unique_ptr<Scheme<T>> scheme_;
  double step_functional_ = StepInfo::none;  // the variational scheme's F of the last step
  std::optional<OuProblem> ou_;              // its closed-form metrics (eval.mmd)
  std::optional<Barenblatt> porous_;         // the porous medium's (eval.mmd)
  // kernel_terms(): the functional's terms, the potential's density, a term's gradient rows.
  struct Term {
    double weight = 1;
    bool potential = false, energy33 = false;
    InteractionPairs pairs{PairFamily::riesz, 1.0, -1.0};
  };
  std::vector<Term> terms_;
  std::optional<PackedPotential> potential_;
  Points<T> term_grad_;
  Buffer<T> mask_;  // energy33: the own rows' mask (x < 0: 0, else 1)
  HostMatrix<double> start_rows_;  // the forward scheme at r < 1: the own initial rows, once
  std::optional<GaussianMixture> mixture_;
  Points<double> mixture_sample_;  // this rank's rows of its i.i.d. sample (mixture_problem's)
  double mixture_self_ = 0;        // E|Y - Y'| of the whole sample
  double energy_nu_ = 0;
  double energy_yy_ = 0;  // b'k_YY b of the target (unsigned family kernel k)
  // The ift scheme's own rows: weights (double, and in T), the witness, the noisy positions, a
  // fresh target sample's rows (target_resample of a sampled target).
  IftKernel kernel_;
  std::vector<double> w_;
  Buffer<T> w_t_, g_;
  Points<T> noisy_, fresh_;
  Buffer<T> v_t_, kv_t_;  // qp: a vector of the products K v and its result, in T
  Points<T> previous_;    // qp, reference "previous": the positions before the step
  bool uniform_ = false;
  bool fresh_target_ = false;
  bool cache_target_ = false;       // the weight step keeps the target's gradient term
  bool target_grad_valid_ = false;  // target_grad_ holds for the current positions
  Points<T> target_grad_;           // (own rows, d)
  std::optional<SlicedRiesz<T>> sliced_;  // the sliced estimator's workspace (proj_parts = P)
  SlicedShardedBuffers<T> sliced_buffers_;
  std::optional<ReferenceMetrics> reference_;
  bool files_ = false;  // every rank: whether the run writes a directory
  // This rank's box around its initial rows and target rows (per coordinate); whether the run
  // has target measures.
  std::vector<double> box_lo_, box_hi_;
  bool has_targets_ = false;
  // The CUDA backend's pair passes: this rank's GPU, the NCCL communicator (P > 1), the own rows
  // of the positions (uploaded for each pass), of the target and its weights (once), and the
  // gradient rows (downloaded into grad_). Positions stay on the host between steps.
  struct PassArgs {
    ConstPointsView<T> x, y;
    const T* a = nullptr;
    const T* b = nullptr;
  };
  struct Gpu {
    Gpu(int device, int threads) : ctx(BackendChoice::cuda, threads, device) {}
    Context ctx;
    std::unique_ptr<DeviceComm> comm;    // P > 1
    Buffer<T> x, a, y, b, grad, values;  // staging of one pass's arguments (grown, never shrunk)
    // The term-by-term functionals (term_gradient_gpu): a term's gradient, energy33's mask and
    // packed y column, the rows' values; the potential's density.
    Buffer<T> term, mask, column;
    Buffer<double> rows;
    std::optional<PackedPotential> potential;
    // The neural schemes' samples, the own rows, during a step (the scheme swaps its buffer with
    // the pushed rows'); energy_distance's rows in double (distance_sum).
    Points<T> samples;
    Buffer<double> dx, dy;

    // The communicator of the GPU passes (one rank: the host's, nothing is broadcast).
    const Comm& pass_comm(const Comm& host) const { return comm ? *comm : host; }
    // count values at host into buf (grown to hold them) when upload; the device pointer.
    T* stage(Buffer<T>& buf, const T* host, index_t count, bool upload) {
      if (buf.size() < count) buf = Buffer<T>(ctx, count);
      if (upload && host && count > 0) {
        detail::copy_bytes(ctx, buf.data(), Device::cuda, host, Device::cpu,
                           std::size_t(count) * sizeof(T));
      }
      return buf.data();
    }
    PassArgs upload(ConstPointsView<T> hx, const T* ha, ConstPointsView<T> hy, const T* hb) {
      if (hx.ld != hx.cols || hy.ld != hy.cols) {
        throw_runtime("sharded run: the GPU passes take packed rows");
      }
      PassArgs p;
      p.x = ConstPointsView<T>(stage(x, hx.data, hx.rows * hx.cols, true), hx.rows, hx.cols,
                               Device::cuda);
      p.y = ConstPointsView<T>(stage(y, hy.data, hy.rows * hy.cols, true), hy.rows, hy.cols,
                               Device::cuda);
      p.a = ha ? stage(a, ha, hx.rows, true) : nullptr;
      p.b = hb ? stage(b, hb, hy.rows, true) : nullptr;
      return p;
    }
    // count doubles at host into buf (grown to hold them); the device pointer.
    double* stage_double(Buffer<double>& buf, const double* host, index_t count) {
      if (buf.size() < count) buf = Buffer<double>(ctx, count);
      if (count > 0) {
        detail::copy_bytes(ctx, buf.data(), Device::cuda, host, Device::cpu,
                           std::size_t(count) * sizeof(double));
      }
      return buf.data();
    }
    // The device's values buffer of row_values (grown to count rows).
    double* row_terms(index_t count) {
      if (rows.size() < count) rows = Buffer<double>(ctx, count);
      return rows.data();
    }
    // row_values of `row` over count rows on the device, downloaded.
    template <class Row>
    std::vector<double> row_values_of(const Row& row, index_t count) {
      double* dv = row_terms(count);
      row_values(ctx, row, count, dv);
      std::vector<double> h(static_cast<std::size_t>(count));
      if (count > 0) {
        detail::copy_bytes(ctx, h.data(), Device::cpu, dv, Device::cuda,
                           std::size_t(count) * sizeof(double));
      }
      return h;
    }
    // energy33's y coordinates of count host rows (n, 2), packed on the host and uploaded: an
    // (count, 1) device view.
    ConstPointsView<T> y_column(const T* xy, index_t count) {
      std::vector<T> h(static_cast<std::size_t>(count));
      for (index_t i = 0; i < count; ++i) h[std::size_t(i)] = xy[2 * i + 1];
      return ConstPointsView<T>(stage(column, h.data(), count, true), count, 1, Device::cuda);
    }
    void download(T* host, const T* dev, index_t count) {
      if (count > 0) {
        detail::copy_bytes(ctx, host, Device::cpu, dev, Device::cuda,
                           std::size_t(count) * sizeof(T));
      }
    }
  };
  std::optional<Gpu> gpu_;
};

}  // namespace

RunResult run_flow_sharded(const FlowConfig& cfg, const RunOptions& opt) {
  if (resolved_dtype(cfg) == DType::f64) return ShardedRunner<double>(cfg, opt).run();
  return ShardedRunner<float>(cfg, opt).run();
}

}  // namespace nwgf
