#include "nwgf/schemes/ift/ift_scheme.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/family/gaussian.hpp"
#include "nwgf/kernels/family/riesz.hpp"
#include "nwgf/schemes/ift/qp.hpp"
#include "nwgf/schemes/ift/qp_device.hpp"
#include "nwgf/schemes/ift/target_draw.hpp"
#include "nwgf/schemes/ift/weight_step.hpp"
#include "nwgf/schemes/ift/weight_step_device.hpp"
#include "nwgf/schemes/ift/weighted_mmd.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/scheme_ops.hpp"

namespace nwgf {
namespace {

// The largest n of weight_step = "qp": its Gram matrix is dense (n^2 doubles, host or device).
constexpr index_t kQpMaxParticles = 4096;

// K(x_i, x_j) = sign k(|x_i - x_j|^2) on the host (n x n), with the family's scalar functor.
std::vector<double> gram_matrix(const IftKernel& k, const std::vector<double>& x, index_t n,
                                index_t d) {
  std::vector<double> K(static_cast<std::size_t>(n * n));
  const auto gauss = GaussianPair<double>::make(k.param);
  const auto riesz = RieszPair<double, false>::make(k.param);
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j <= i; ++j) {
      double s = 0;
      for (index_t c = 0; c < d; ++c) {
        const double z = x[std::size_t(i * d + c)] - x[std::size_t(j * d + c)];
        s += z * z;
      }
      const double v =
          k.sign * (k.family == PairFamily::gaussian ? gauss.value(s) : riesz.value(s));
      K[std::size_t(i * n + j)] = K[std::size_t(j * n + i)] = v;
    }
  }
  return K;
}

template <class T>
class IftScheme final : public Scheme<T> {
 public:
  IftScheme(const Context& ctx, const FlowConfig& cfg, Functional<T>& f, index_t n, index_t d)
      : cfg_(cfg),
        ift_(cfg.ift),
        f_(f),
        n_(n),
        d_(d),
        kernel_(IftKernel::make(cfg.kernel, cfg.gamma, cfg.r)),
        target_(target_measure(cfg.target, cfg.seed, random_stream(RandomPurpose::target, 0),
                               "target", true)),
        mmd_(ctx, kernel_, d, target_),
        w_(initial_weights(cfg, n)),
        device_weights_(ctx.is_cuda() && ift_.weight_step != WeightStep::none),
        w_dev_(ctx, n),
        g_dev_(ctx, n),
        grad_(ctx, n * d),
        target_grad_(ctx, n * d) {
    if (ift_.noise > 0) noisy_ = Points<T>(ctx, n, d);
    if (ift_.weight_step == WeightStep::qp && ift_.qp_reference == QpReference::previous) {
      previous_ = Points<T>(ctx, n, d);
    }
    if (ift_.target_resample) eval_.emplace(ctx, kernel_, d, target_);
    // On CUDA the fresh samples are drawn on the device where the kind allows (capturable).
    if (ift_.target_resample && ctx.is_cuda() && device_drawable(cfg.target)) {
      draw_.emplace(ctx, cfg.target, cfg.seed);
    }
    if (device_weights_) w64_dev_ = Buffer<double>(ctx, n);
    if (device_weights_ && ift_.weight_step == WeightStep::qp) {
      gram_ = Buffer<double>(ctx, n * n);
      qp_scratch_ = Buffer<double>(ctx, 8 * n + 5);
      if (ift_.qp_reference == QpReference::previous) ref_dev_ = Buffer<T>(ctx, n);
    }
    upload_weights(ctx);
  }

  index_t iterations(index_t) const override { return 1; }

  StepResult step(const Context& ctx, Points<T>& x, index_t n, double tau,
                  const IterationCallback& progress) override {
    iterate(ctx, x, n, 0, tau);
    if (progress) progress(1, 1, std::numeric_limits<double>::quiet_NaN());
    StepResult res;
    res.iterations = 1;
    return res;
  }

  double iterate(const Context& ctx, Points<T>& x, index_t k, index_t, double tau) override {
    if (ift_.target_resample) {
      const std::uint64_t stream = random_stream(RandomPurpose::target, std::uint64_t(k));
      if (draw_) {
        draw_->draw<T>(ctx, stream, mmd_.target_rows());
        mmd_.target_rows_changed();
      } else {
        target_ = target_measure(cfg_.target, cfg_.seed, stream, "target", true);
        mmd_.set_target(ctx, target_);
      }
      target_grad_valid_ = false;
    }
    if (ift_.weight_step == WeightStep::qp && ift_.qp_reference == QpReference::previous) {
      axpby(ctx, n_ * d_, T(1), x.data(), T(0), previous_.data());
    }
    {
      TraceSpan span(Phase::push);
      position_step(ctx, x, k, tau);
    }
    TraceSpan span(Phase::weight_step);
    weight_step(ctx, x);
    return std::numeric_limits<double>::quiet_NaN();
  }

  const std::vector<double>* weights(const Context& ctx) const override {
    sync_host(ctx);
    return &w_;
  }

  void weighted_metrics(const Context& ctx, const Points<T>& x, index_t step,
                        StepInfo& s) override {
    const double m2 = (eval_ ? *eval_ : mmd_).mmd2(ctx, x.view(), w_dev_.data());
    sync_host(ctx);
    set_weight_metrics(s, step, ift_.weight_step, m2, weight_stats(w_));
  }

  // The weights, n doubles (native byte order).
  // Across ranks: the pair passes of the position and weight steps are shared (the functional's
  // particle gradient, WeightedMmd's witness passes; on CUDA, comm the run's DeviceComm, only
  // the gradient passes: the witness row sums run whole on every rank); the weight step itself
  // (host, or device on CUDA: replicated) and the metrics (rank 0) are not.
  bool set_comm(const Comm* comm) override {
    mmd_.set_comm(comm);
    return true;
  }

  std::string state(const Context& ctx) const override {
    sync_host(ctx);
    return std::string(reinterpret_cast<const char*>(w_.data()), w_.size() * sizeof(double));
  }
  void restore(const Context& ctx, const std::string& bytes, const std::string& what) override {
    if (bytes.size() != w_.size() * sizeof(double)) {
      throw_bad_input(what + ": the weights in the checkpoint do not match n = " +
                      std::to_string(n_));
    }
    std::memcpy(w_.data(), bytes.data(), bytes.size());
    target_grad_valid_ = false;
    // The weight step before the checkpoint left the next position step its target term; the
    // resumed run recomputes it from the restored positions (the same pass, the same bits), or
    // it would take the uncached path and part ways in the last bits (f32).
    target_grad_restored_ = !ift_.target_resample && ift_.weight_step != WeightStep::none;
    for (double v : w_) {
      if (!(v >= 0) || !std::isfinite(v)) throw_bad_input(what + ": bad weights in the checkpoint");
    }
    upload_weights(ctx);
  }

 private:
  // The host weights w_ are the state; on the CUDA backend (pgd, kl and qp steps) the device
  // copy w64_dev_ is, and w_ is brought back only where it is read (metrics, snapshots,
  // checkpoints).
  void upload_weights(const Context& ctx) {
    const std::vector<T> h(w_.begin(), w_.end());
    copy_from_host(ctx, w_dev_, h.data(), n_);
    if (device_weights_) copy_from_host(ctx, w64_dev_, w_.data(), n_);
    host_stale_ = false;
    uniform_ = std::all_of(w_.begin(), w_.end(), [&](double v) { return v == 1.0 / double(n_); });
  }

  void sync_host(const Context& ctx) const {
    if (!host_stale_) return;
    copy_to_host(ctx, w_.data(), w64_dev_);
    host_stale_ = false;
  }

  void position_step(const Context& ctx, Points<T>& x, index_t k, double tau) {
    const bool noise = ift_.noise > 0 && (ift_.noise_off == 0 || k <= ift_.noise_off);
    const PointsView<T> grad(grad_.data(), n_, d_, grad_.device());
    // The target's gradient term from the last weight step holds for these positions only.
    // After --resume (k > 1: a run resumed at step 0 had no weight step yet): recomputed below.
    const bool restored = target_grad_restored_ && k > 1;
    const bool cached = target_grad_valid_ || restored;
    target_grad_valid_ = target_grad_restored_ = false;
    if (!noise && !ift_.target_resample && uniform_) {
      // The particle flow's step: tau n (1/n) grad g = tau grad g in both conventions.
      f_.particle_gradient(ctx, x.view(), T(1), grad);
      axpby(ctx, n_ * d_, T(-tau), grad_.data(), T(1), x.data());
      return;
    }
    ConstPointsView<T> eval = x.view(), wit = x.view();
    if (noise) {
      // x~ = x + noise z, z from the Philox stream (noise, k).
      rng_normal<T>(ctx, cfg_.seed, random_stream(RandomPurpose::noise, std::uint64_t(k)), 0,
                    noisy_.data(), n_ * d_, T(0), T(ift_.noise));
      axpby(ctx, n_ * d_, T(1), x.data(), T(1), noisy_.data());
      eval = noisy_.view();
      if (ift_.noise_witness == NoiseWitness::noisy) wit = noisy_.view();
    }
    const bool weighted = ift_.position_step == PositionStep::weighted;
    const T scale = T(weighted ? tau * double(n_) : tau);
    if (cached && !noise) {
      if (restored) {
        const PointsView<T> tg(target_grad_.data(), n_, d_, target_grad_.device());
        mmd_.witness_and_target_gradient(ctx, x.view(), w_dev_.data(), g_dev_.data(), tg);
      }
      mmd_.witness_gradient_cached(ctx, x.view(), weighted ? w_dev_.data() : nullptr,
                                   w_dev_.data(), scale, target_grad_.data(), grad);
    } else {
      mmd_.witness_gradient(ctx, eval, weighted ? w_dev_.data() : nullptr, wit, w_dev_.data(),
                            scale, grad);
    }
    axpby(ctx, n_ * d_, T(-1), grad_.data(), T(1), x.data());
  }

  void weight_step(const Context& ctx, const Points<T>& x) {
    if (ift_.weight_step == WeightStep::none) return;
    // g at the new positions with the old weights; without resampling, the same pass over the
    // target gives the next position step its target term (kept in target_grad_).
    if (ift_.target_resample) {
      mmd_.witness(ctx, x.view(), x.view(), w_dev_.data(), g_dev_.data());
    } else {
      const PointsView<T> tg(target_grad_.data(), n_, d_, target_grad_.device());
      mmd_.witness_and_target_gradient(ctx, x.view(), w_dev_.data(), g_dev_.data(), tg);
      target_grad_valid_ = true;
    }
    if (device_weights_) {
#ifdef NWGF_HAVE_CUDA
      if (ift_.weight_step == WeightStep::qp) {
        weight_step_qp_device(ctx, x);
        host_stale_ = true;
        uniform_ = false;
        return;
      }
      detail::DeviceWeightStep ds;
      ds.kind = ift_.weight_step;
      ds.mass = ift_.mass;
      ds.normalise = ift_.kl_normalise;
      ds.eta = ift_.eta;
      detail::cuda_weight_step<T>(ctx, ds, w64_dev_.data(), g_dev_.data(), n_, w_dev_.data());
#endif
      host_stale_ = true;
      uniform_ = false;  // the particle flow's shortcut is for the initial uniform weights
      return;
    }
    const std::vector<T> gh = download(ctx, g_dev_);
    const std::vector<double> g(gh.begin(), gh.end());
    switch (ift_.weight_step) {
      case WeightStep::pgd:
        weight_step_pgd(w_, g, ift_.eta, ift_.mass);
        break;
      case WeightStep::kl:
        weight_step_kl(w_, g, ift_.eta, ift_.mass, ift_.kl_normalise);
        break;
      case WeightStep::qp:
        weight_step_qp(ctx, x, g);
        break;
      case WeightStep::none:
        break;
    }
    upload_weights(ctx);
  }

  // c = K(X', Y) b + (1/eta) K(X', X_ref) w with K(X', Y) b = K(X', X') w - g (the witness), and
  // K(X', X_ref) w = K(X', X') w for "half", a kernel pass against the old positions otherwise.
  void weight_step_qp(const Context& ctx, const Points<T>& x, const std::vector<double>& g) {
    const std::vector<T> xh = download(ctx, x.buffer());
    const std::vector<double> K =
        gram_matrix(kernel_, std::vector<double>(xh.begin(), xh.end()), n_, d_);
    std::vector<double> kw(std::size_t(n_), 0.0);
    for (index_t i = 0; i < n_; ++i) {
      for (index_t j = 0; j < n_; ++j) kw[std::size_t(i)] += K[std::size_t(i * n_ + j)] * w_[std::size_t(j)];
    }
    std::vector<double> ref = kw;
    if (ift_.qp_reference == QpReference::previous) {
      pair_row_sums<T>(ctx, kernel_.family, kernel_.param, x.view(), nullptr, previous_.view(),
                       w_dev_.data(), T(kernel_.sign), g_dev_.data(), false);
      const std::vector<T> r = download(ctx, g_dev_);
      ref.assign(r.begin(), r.end());
    }
    std::vector<double> c(static_cast<std::size_t>(n_));
    for (std::size_t i = 0; i < c.size(); ++i) c[i] = kw[i] - g[i] + ref[i] / ift_.eta;
    w_ = solve_weight_qp(K, ift_.eta, c, w_, ift_.qp_iterations, ift_.mass).b;
  }

#ifdef NWGF_HAVE_CUDA
  // weight_step_qp on the device (qp_device.hpp): the reference pass against the old positions
  // into ref_dev_ ("previous"), the Gram matrix and the FISTA solve; g_dev_ holds the witness.
  void weight_step_qp_device(const Context& ctx, const Points<T>& x) {
    const T* ref = nullptr;
    if (ift_.qp_reference == QpReference::previous) {
      pair_row_sums<T>(ctx, kernel_.family, kernel_.param, x.view(), nullptr, previous_.view(),
                       w_dev_.data(), T(kernel_.sign), ref_dev_.data(), false, &ref_ws_);
      ref = ref_dev_.data();
    }
    detail::DeviceQp q;
    q.family = kernel_.family;
    q.param = kernel_.param;
    q.sign = kernel_.sign;
    q.eta = ift_.eta;
    q.iterations = ift_.qp_iterations;
    q.mass = ift_.mass;
    q.gram = gram_.data();
    q.scratch = qp_scratch_.data();
    detail::cuda_weight_step_qp<T>(ctx, q, x.data(), n_, d_, g_dev_.data(), ref, w64_dev_.data(),
                                   w_dev_.data());
  }
#endif

  const FlowConfig& cfg_;
  IftConfig ift_;
  Functional<T>& f_;
  index_t n_, d_;
  IftKernel kernel_;
  WeightedPoints target_;
  WeightedMmd<T> mmd_;
  std::optional<WeightedMmd<T>> eval_;  // the fixed target sample when resampling
  std::optional<TargetDraw> draw_;       // the resampling's device draw (CUDA, device_drawable)
  mutable std::vector<double> w_;       // (n) the weights, host (see upload_weights)
  bool device_weights_;                 // the weight step runs on the device (CUDA: pgd, kl)
  mutable bool host_stale_ = false;     // w64_dev_ is ahead of w_
  bool uniform_ = false;                // w_ = 1/n everywhere (the particle flow's step applies)
  Buffer<double> w64_dev_;              // (n) the weights in double, device (device_weights_)
  Buffer<double> gram_, qp_scratch_;    // qp on the device: K (n, n) and FISTA's vectors (8 n + 5)
  Buffer<T> ref_dev_;                   // qp on the device, reference "previous": K(X', X_ref) w
  PairwiseWorkspace ref_ws_;            // and its pass's workspace (grown outside a capture)
  Buffer<T> w_dev_, g_dev_, grad_;
  Buffer<T> target_grad_;            // (n, d): see WeightedMmd::witness_and_target_gradient
  bool target_grad_valid_ = false;   // it holds for the current positions and target
  bool target_grad_restored_ = false;  // restored from a checkpoint: to be recomputed
  Points<T> noisy_, previous_;
};

}  // namespace

std::vector<double> initial_weights(const FlowConfig& cfg, index_t n) {
  if (cfg.initial.weights_path.empty()) return std::vector<double>(std::size_t(n), 1.0 / double(n));
  const std::string key = "initial.weights_path";
  const std::vector<double> w = read_npy_vector<double>(cfg.initial.weights_path);
  if (index_t(w.size()) != n) {
    throw_bad_input(key + ": " + cfg.initial.weights_path + " has " + std::to_string(w.size()) +
                    " weights, the initial measure has n = " + std::to_string(n) + " points");
  }
  double sum = 0;
  for (double v : w) {
    if (!(v >= 0)) throw_bad_input(key + ": weights must be >= 0");
    sum += v;
  }
  if (cfg.ift.mass == MassConstraint::simplex && std::fabs(sum - 1) > 1e-9) {
    throw_bad_input(key + ": weights must sum to 1 (ift.mass = \"simplex\"), they sum to " +
                    std::to_string(sum));
  }
  if (!(sum > 0)) throw_bad_input(key + ": weights must not all be 0");
  return w;
}

template <class T>
std::unique_ptr<Scheme<T>> make_ift_scheme(const Context& ctx, const FlowConfig& cfg,
                                           Functional<T>& f, index_t n, index_t d) {
  if (cfg.ift.weight_step == WeightStep::qp && n > kQpMaxParticles) {
    throw_bad_input("ift.weight_step: \"qp\" solves a dense n x n program on the host, n <= " +
                    std::to_string(kQpMaxParticles) + " (n = " + std::to_string(n) + ")");
  }
  return std::make_unique<IftScheme<T>>(ctx, cfg, f, n, d);
}

template std::unique_ptr<Scheme<float>> make_ift_scheme<float>(const Context&, const FlowConfig&,
                                                               Functional<float>&, index_t, index_t);
template std::unique_ptr<Scheme<double>> make_ift_scheme<double>(const Context&,
                                                                 const FlowConfig&,
                                                                 Functional<double>&, index_t,
                                                                 index_t);

}  // namespace nwgf
