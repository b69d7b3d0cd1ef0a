#include "nwgf/schemes/variational/variational_scheme.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <optional>

#include "nwgf/analytic/gaussian_mixture.hpp"
#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/pairwise_sharded.hpp"
#include "nwgf/nn/adam.hpp"
#include "nwgf/nn/mlp.hpp"
#include "nwgf/nn/serialize.hpp"
#include "nwgf/schemes/functional_interaction.hpp"
#include "nwgf/schemes/functional_potential.hpp"
#include "nwgf/schemes/functional_sum.hpp"
#include "nwgf/schemes/ift/weight_ranks.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/rank_chunks.hpp"
#include "nwgf/schemes/scheme_ops.hpp"
#include "nwgf/schemes/sharded_rows.hpp"
#include "nwgf/schemes/variational/critic_rows.hpp"
#include "nwgf/schemes/variational/gamma.hpp"
#include "nwgf/schemes/variational/transport_map.hpp"

namespace nwgf {
namespace {

constexpr char state_magic[8] = {'N', 'W', 'G', 'F', 'V', 'A', 'R', '1'};

// What the variational step does with each term of F (kind = "sum" or one kind): the density
// term (kl or entropy, at most one) through the critic, the potential terms by hand (critic-free:
// an expectation over T # P_k), the interaction terms as the forward step (12) when fb, else in
// the JKO objective as E W(T X - T Y) over the batch (by hand, critic-free).
struct Parts {
  VariationalKind density = VariationalKind::none;
  double density_weight = 1, m = 0;
  double potential_weight = 0;  // sum of the potential terms' weights (all V = -ln Q of [target])
  std::vector<FunctionalTerm> interaction;
};
Parts parts_of(const FlowConfig& cfg) {
  Parts p;
  for (const FunctionalTerm& t : functional_terms(cfg)) {
    if (t.kind == FunctionalKind::kl || t.kind == FunctionalKind::entropy) {
      p.density = t.kind == FunctionalKind::kl ? VariationalKind::kl : VariationalKind::entropy;
      p.density_weight = t.weight;
      p.m = t.m;
    } else if (t.kind == FunctionalKind::potential) {
      p.potential_weight += t.weight;
    } else if (t.kind == FunctionalKind::interaction) {
      p.interaction.push_back(t);
    } else {
      throw_bad_input("functional.kind: not a term of the variational scheme");
    }
  }
  return p;
}

// The map's and the critic's parts of a scheme state (VariationalScheme::state).
std::array<std::string, 2> state_parts(const std::string& bytes, const std::string& what) {
  std::size_t at = sizeof state_magic;
  if (bytes.size() < at || std::memcmp(bytes.data(), state_magic, at) != 0) {
    throw_bad_input(what + ": not a variational scheme state (map and critic)");
  }
  std::array<std::string, 2> parts;
  for (std::string& part : parts) {
    std::uint64_t len = 0;
    if (bytes.size() - at < sizeof len) throw_bad_input(what + ": truncated scheme state");
    std::memcpy(&len, bytes.data() + at, sizeof len);
    at += sizeof len;
    if (bytes.size() - at < len) throw_bad_input(what + ": truncated scheme state");
    part = bytes.substr(at, std::size_t(len));
    at += std::size_t(len);
  }
  return parts;
}

std::vector<index_t> widths(index_t in, const std::vector<index_t>& hidden, index_t out) {
  std::vector<index_t> w{in};
  w.insert(w.end(), hidden.begin(), hidden.end());
  w.push_back(out);
  return w;
}

template <class T>
class VariationalScheme final : public Scheme<T> {
 public:
  VariationalScheme(const Context& ctx, const FlowConfig& cfg, index_t n, index_t d)
      : parts_(parts_of(cfg)),
        sharded_layout_(cfg.memory == MemoryLayout::sharded),
        fb_(cfg.fb && !parts_.interaction.empty()),
        kl_(parts_.density == VariationalKind::kl),
        critic_on_(parts_.density != VariationalKind::none),
        seed_(cfg.seed),
        n_(n),
        d_(d),
        m_(std::min(cfg.batch, n)),
        chunk_(std::max<index_t>(2 * m_, std::min<index_t>(n, 4096))),
        iterations_(cfg.iterations),
        inner_(cfg.inner),
        pretrain_iterations_(cfg.pretrain_iterations),
        lr_(cfg.lr),
        pretrain_lr_(cfg.pretrain_lr),
        map_(ctx, cfg, d, chunk_),
        critic_(ctx, widths(d, cfg.critic_hidden, 1), chunk_,
                MlpOptions{cfg.critic_activation, false, 0.25, 0.0}),
        critic_adam_(ctx, critic_.num_params()),
        y_(ctx, m_ * d),
        hin_(ctx, chunk_ * d),
        u_(ctx, chunk_),
        du_(ctx, 2 * m_),
        dty_(ctx, m_ * d),
        gin_(ctx, chunk_ * d),
        ones_(ctx, chunk_),
        gamma_mean_(ctx, d),
        gamma_lt_(ctx, d * d),
        ratio_(ctx, 2 * d + 2 * d * d),
        next_(ctx, sharded_layout_ ? 0 : n * d),  // sharded: the own rows (set_sharded)
        critic_rows_(ctx, 2 * m_),
        map_rows_(ctx, m_),
        potential_rows_(ctx, m_) {
    terms_.kind = parts_.density;
    terms_.transform = cfg.critic_output;
    terms_.m = parts_.m;
    terms_.weight = parts_.density_weight;
    if (!critic_on_) fill_zero(ctx, u_);  // MapRow reads u; A = 0 without a critic
    if (parts_.potential_weight > 0) {
      potential_.emplace(ctx, target_density(cfg.target, d, "target"), chunk_);
    }
    if (!parts_.interaction.empty()) {
      // Over all particles: the functional (one process, replicated ranks), or its pair sums
      // through the sharded passes (sharded layout, set_sharded).
      if (sharded_layout_) {
        for (const FunctionalTerm& t : parts_.interaction) {
          pairs_.emplace_back(t.weight, interaction_pairs(t.kernel, t.r));
        }
      } else {
        std::vector<std::pair<double, std::unique_ptr<Functional<T>>>> w;
        for (const FunctionalTerm& t : parts_.interaction) {
          w.emplace_back(t.weight, make_kernel_interaction<T>(ctx, t.kernel, t.r));
        }
        interaction_ = make_sum<T>(ctx, std::move(w), d, n);
      }
      if (cfg.fb) {
        if (!sharded_layout_) forward_ = Buffer<T>(ctx, n * d);
      } else {
        std::vector<std::pair<double, std::unique_ptr<Functional<T>>>> b;
        for (const FunctionalTerm& t : parts_.interaction) {
          b.emplace_back(t.weight, make_kernel_interaction<T>(ctx, t.kernel, t.r));
        }
        batch_interaction_ = make_sum<T>(ctx, std::move(b), d, m_);
        // 1/2 sum_i w_i W_i(0) (0 for log_quadratic, whose self pairs are left out): the value of
        // one point.
        Buffer<T> origin(ctx, d);
        fill_zero(ctx, origin);
        self_half_ = batch_interaction_->value(ctx, ConstPointsView<T>(origin.data(), 1, d,
                                                                       origin.device()));
      }
    }
    map_.init(ctx, seed_, random_stream(RandomPurpose::network, 0));
    critic_.init(ctx, seed_, random_stream(RandomPurpose::network, 1));
    const std::vector<T> ones(std::size_t(chunk_), T(1));
    copy_from_host(ctx, ones_, ones.data(), chunk_);
    if (kl_ && cfg.target.kind == MeasureKind::mixture) {
      // Q's packed arrays for gaussian_math::mixture_log_density, in double on the device.
      const GaussianMixture q = mixture_of(cfg.target, "target");
      std::vector<double> packed;
      for (const std::vector<double>& v : {q.means(), q.chols(), q.log_weights(), q.half_logdets()})
        packed.insert(packed.end(), v.begin(), v.end());
      components_ = q.components();
      mixture_ = Buffer<double>(ctx, index_t(packed.size()));
      copy_from_host(ctx, mixture_, packed.data(), index_t(packed.size()));
      scratch_ = Buffer<double>(ctx, chunk_ * 3 * d);
    } else if (kl_) {
      target_ = gaussian_fit_of(kl_target(cfg.target, d));
    }
  }

  index_t iterations(index_t) const override { return iterations_; }

  StepResult step(const Context& ctx, Points<T>& x, index_t n, double tau,
                  const IterationCallback& progress) override {
    own_host_ready_ = false;  // the caller may have moved x since the last step
    if (fb_) forward_step(ctx, x, tau);
    fit_gamma(ctx, x);
    StepResult res;
    res.iterations = iterations_;
    for (index_t it = 0; it < iterations_; ++it) {
      res.loss = iterate(ctx, x, n, it, tau);
      if (!std::isfinite(res.loss)) {
        throw_numerical("training loss is " + std::to_string(res.loss) + " at step " +
                        std::to_string(n) + ", iteration " + std::to_string(it));
      }
      if (progress) progress(it + 1, iterations_, res.loss);
    }
    // Sharded: the rows of this rank's chunks of the estimate and the push, from their owners
    // (on CUDA through the host: the own rows' host copy to the span's, uploaded).
    if (sharded_ && device_rows_) {
      span_host_.resize(std::size_t(span_.size()));
      shard_.to_chunks(RankChunks(comm_, n_, chunk_), own_on_host(ctx, x), d_, span_host_.data());
      upload(ctx, span_, span_host_.data());
    } else if (sharded_) {
      shard_.to_chunks(RankChunks(comm_, n_, chunk_), x.data(), d_, span_.data());
    }
    res.functional = estimate(ctx, x, n);
    map_.record(ctx);
    push(ctx, x);
    if (!parts_.interaction.empty()) res.functional += interaction_value(ctx, x);
    return res;
  }

  double iterate(const Context& ctx, Points<T>& x, index_t n, index_t it, double tau) override {
    return train(ctx, x, n, it, tau)(ctx);
  }
  // The critic's and the map's row sums keep their partials on the device (RowPartials) and the
  // batch interaction terms their pair sums (value_deferred), so the iteration is capturable.
  void iterate_on_device(const Context& ctx, Points<T>& x, index_t n, index_t it,
                         double tau) override {
    loss_ = train(ctx, x, n, it, tau);
  }
  double loss(const Context& ctx) override { return loss_ ? loss_(ctx) : Scheme<T>::loss(ctx); }

 private:
  // One training iteration; the loss deferred.
  DeferredValue train(const Context& ctx, Points<T>& x, index_t n, index_t it, double tau) {
    if (!gamma_ready_) fit_gamma(ctx, x);
    if (map_.needs_pretraining()) pretrain(ctx, x);
    const index_t M = m_;
    const std::uint64_t counter = std::uint64_t(it) << 32;
    {
      TraceSpan span(Phase::batch);
      gather(ctx, x, random_stream(RandomPurpose::batch, std::uint64_t(n)), counter);
      if (critic_on_) {
        sample_gamma(ctx, random_stream(RandomPurpose::latent, std::uint64_t(n)), counter, M,
                     hin_.data() + M * d_);
      }
    }
    T* ty = hin_.data();
    // The map's training forward: dropout masks of step n, iteration it (none when p = 0).
    const DropoutDraw draw{seed_, random_stream(RandomPurpose::dropout, std::uint64_t(n)),
                           std::uint64_t(it) * map_.dropout_elements()};
    map_.forward(ctx, ConstPointsView<T>(y_.data(), M, d_, y_.device()),
                 PointsView<T>(ty, M, d_, hin_.device()), &draw);
    // J_2 ascent steps of the critic on [T(Y); Z].
    TraceSpan critic_span(Phase::critic);
    for (index_t j = 0; critic_on_ && j < inner_; ++j) {
      critic_.forward(ctx, ConstPointsView<T>(hin_.data(), 2 * M, d_, hin_.device()),
                      PointsView<T>(u_.data(), 2 * M, 1, u_.device()));
      // The rows write du; their sum (the critic's objective) is not needed here.
      critic_rows_.run(ctx, CriticRow<T>{terms_, u_.data(), du_.data(), M, 1.0 / double(M)},
                       2 * M);
      critic_.backward(ctx, ConstPointsView<T>(du_.data(), 2 * M, 1, du_.device()),
                       PointsView<T>());
      critic_adam_.step(ctx, critic_.params(), critic_.grads(), lr_);
    }
    critic_span.close();
    // One descent step of the map: d/dty = MapRow's part + the critic's input gradient.
    if (critic_on_) {
      critic_.forward(ctx, ConstPointsView<T>(ty, M, d_, hin_.device()),
                      PointsView<T>(u_.data(), M, 1, u_.device()));
    }
    map_rows_.run(
        ctx, MapRow<T>{terms_, ratio(), y_.data(), ty, u_.data(), dty_.data(), du_.data(), M, d_, tau},
        M);
    if (potential_) {
      // + w_V/M sum_i V(ty_i), its gradient added to dty (hand-derived: grad V = -grad ln Q).
      const double w = parts_.potential_weight / double(M);
      potential_rows_.run(
          ctx, PotentialRow<T>{potential_->rows(), ty, dty_.data(), d_, w, w, true}, M);
    }
    // The batch interaction's term, its pair sums left on the device (value_deferred): added
    // after the row sums when the loss is read.
    DeferredValue interaction;
    if (batch_interaction_ && M > 1) {
      // + sum_i w_i 1/(2 M (M - 1)) sum_{j != l} W_i(ty_j - ty_l), the batch's U-statistic of
      // 1/2 E W(T X - T Y) (unbiased: the batch rows are iid draws of P_k), from the V-statistic
      // V = 1/(2 M^2) sum_jl as (M V - 1/2 sum_i w_i W_i(0)) / (M - 1); its gradient in ty_j is
      // sum_i w_i 1/(M (M - 1)) sum_l grad W_i(ty_j - ty_l) (W even, grad W(0) = 0), the sum's
      // particle gradient at scale 1/(M - 1). gin_ is free until the critic's input gradient.
      const ConstPointsView<T> tyv(ty, M, d_, hin_.device());
      DeferredValue v = batch_interaction_->value_deferred(ctx, tyv);
      interaction = [this, M, v = std::move(v)](const Context& c) {
        return (double(M) * v(c) - self_half_) / double(M - 1);
      };
      batch_interaction_->particle_gradient(ctx, tyv, T(1.0 / double(M - 1)),
                                            PointsView<T>(gin_.data(), M, d_, gin_.device()));
      axpby(ctx, M * d_, T(1), gin_.data(), T(1), dty_.data());
    }
    if (critic_on_) {
      critic_.backward(ctx, ConstPointsView<T>(du_.data(), M, 1, du_.device()),
                       PointsView<T>(gin_.data(), M, d_, gin_.device()));
      axpby(ctx, M * d_, T(1), gin_.data(), T(1), dty_.data());
    }
    map_.backward(ctx, ConstPointsView<T>(dty_.data(), M, d_, dty_.device()));
    map_.step(ctx, lr_);
    const bool potential = potential_.has_value();
    return [this, potential, interaction = std::move(interaction)](const Context& c) {
      double loss = map_rows_.sum(c);
      if (potential) loss += potential_rows_.sum(c);
      if (interaction) loss += interaction(c);
      return loss;
    };
  }

 public:
  // Across ranks (README, "MPI runs"): the training (batches, both networks' forward, backward
  // and Adam steps), Gamma's refit and the batch U-statistic are replicated, the same bits on
  // every rank; the push and the estimate of F split their row chunks (rank_chunks.hpp), and
  // with fb the forward step's interaction gradient is shared (kernels/pairwise_ranks.hpp).
  bool set_comm(const Comm* comm) override {
    if (sharded_layout_) return false;  // set_sharded
    if (fb_ && !interaction_->set_comm(comm)) return false;
    comm_ = comm;
    return true;
  }

  // flow.memory = "sharded": x holds this rank's rows of the fixed 64-row grid.
  // The training stays replicated, with one process's bits on every rank: the batch rows come
  // from their owners in batch order (ShardedRows::gather), Gamma's moment sums run over the
  // rows in global row order rank to rank (its box: an exact maximum), the estimate of F and
  // the push run one process's chunks (the rows of a rank's chunks from their owners and back),
  // and the interaction terms over all particles (fb's forward step, the reported value) through
  // the sharded pair passes (kernels/pairwise_sharded.hpp).
  // On a CUDA context x's own rows are on the device and the networks train there (one GPU
  // process's bits on every rank); the rows that move between ranks (the batches, the chunks'
  // rows and the pushed rows: bytes) go through the host, from a host copy of the own rows taken
  // once per change of x (own_on_host); the pair passes stream over NCCL, so with P > 1 comm
  // must be a DeviceComm (engine/comm/nccl_comm.hpp), whose host collectives serve the rest.
  bool set_sharded(const Context& ctx, const Comm& comm) override {
    if (!sharded_layout_) return false;
    if (ctx.is_cuda() && comm.size() > 1 && !dynamic_cast<const DeviceComm*>(&comm)) return false;
    comm_ = &comm;
    sharded_ = true;
    device_rows_ = ctx.is_cuda();
    shard_ = ShardedRows<T>(comm, n_);
    const index_t own = shard_.rows() * d_;
    next_ = Buffer<T>(ctx, own);
    if (fb_) {
      forward_ = Buffer<T>(ctx, own);
      if (pairs_.size() > 1) forward_term_ = Buffer<T>(ctx, own);
    }
    const auto [a, e] = shard_.chunk_span(RankChunks(comm_, n_, chunk_));
    span_ = Buffer<T>(ctx, (e - a) * d_);
    span_out_ = Buffer<T>(ctx, (e - a) * d_);
    return true;
  }

  std::string state(const Context& ctx) const override {
    const std::string a = map_.state(ctx);
    const std::string b = serialize_mlp(ctx, critic_, &critic_adam_);
    std::string s(state_magic, sizeof state_magic);
    for (const std::string* part : {&a, &b}) {
      const std::uint64_t len = part->size();
      s.append(reinterpret_cast<const char*>(&len), sizeof len);
      s += *part;
    }
    return s;
  }

  void restore(const Context& ctx, const std::string& bytes, const std::string& what) override {
    const std::array<std::string, 2> parts = state_parts(bytes, what);
    map_.restore(ctx, parts[0], what + " (map T)");
    deserialize_mlp(ctx, parts[1], what + " (critic h)", critic_, &critic_adam_);
  }

 private:
  GaussianLogRatio<T> ratio() {
    const bool mix = components_ > 0;
    return {kl_ ? ratio_.data() : nullptr, d_, ratio_c_, mix ? mixture_.data() : nullptr,
            components_, mix ? scratch_.data() : nullptr};
  }

  // The forward step (12) on the interaction terms, F_W = sum_i w_i 1/2 ∫∫ W_i (README,
  // "Interaction kernels"): x <- x - tau sum_i w_i (grad W_i * P)(x), the convolution over all
  // particles, (grad W * P)(x_j) = 1/N sum_l grad W(x_j - x_l).
  // Sharded: each term's pair gradient of the own rows against every rank's rows
  // (pair_gradient_sharded, the row pass), with the scales of SumFunctional and the kernel's
  // functional nested as they nest them.
  void forward_step(const Context& ctx, Points<T>& x, double tau) {
    TraceSpan span(Phase::batch);
    if (!sharded_) {
      interaction_->particle_gradient(ctx, x.view(), T(-tau),
                                      PointsView<T>(forward_.data(), n_, d_, forward_.device()));
      axpby(ctx, n_ * d_, T(1), forward_.data(), T(1), x.data());
      gamma_ready_ = false;
      return;
    }
    const index_t rows = shard_.rows();
    const ConstPointsView<T> own(x.data(), rows, d_, x.buffer().device());
    for (std::size_t i = 0; i < pairs_.size(); ++i) {
      const auto& [w, p] = pairs_[i];
      Buffer<T>& out = i == 0 ? forward_ : forward_term_;
      const T scale = T(p.sign * double(T(double(T(-tau)) * w)) / double(n_));
      pair_gradient_sharded<T>(ctx, *comm_, p.family, p.param, own, nullptr, n_, own, nullptr, n_,
                               scale, PointsView<T>(out.data(), rows, d_, out.device()), false);
      if (i > 0) axpby(ctx, rows * d_, T(1), forward_term_.data(), T(1), forward_.data());
    }
    axpby(ctx, rows * d_, T(1), forward_.data(), T(1), x.data());
    gamma_ready_ = false;
    own_host_ready_ = false;
  }

  // The interaction terms' value sum_i w_i 1/(2 N^2) sum_jl W_i(x_j - x_l) at the particles
  // (sharded: the pair sums through pair_energy_sharded, on every rank; KernelInteraction's
  // formula).
  double interaction_value(const Context& ctx, const Points<T>& x) {
    if (!sharded_) return interaction_->value(ctx, x.view());
    const ConstPointsView<T> own(x.data(), shard_.rows(), d_, x.buffer().device());
    const double n = double(n_);
    double f = 0;
    for (const auto& [w, p] : pairs_) {
      double v = 0;
      pair_energy_sharded<T>(ctx, *comm_, p.family, p.param, own, nullptr, n_, own, nullptr, n_,
                             &v);
      f += w * (p.sign * 0.5 * v / (n * n));
    }
    return f;
  }

  // An ICNN map's pretraining to the identity before the first step, as the paper's code
  // (id_pretrain_model): pretrain_iterations Adam steps (a fresh Adam, lr pretrain_lr) on the
  // mean squared error 1/(M d) sum |T(y) - y|^2 over batches y of the initial particles (the
  // training's batch size M; stream batch 0, which no step uses), the convex weights clamped after
  // each step, stopping early once the loss before a step is below 1e-5 (the code's loss_stop).
  // The map's own Adam state starts fresh after it. The code also uses weight decay 1e-8 here;
  // this does not. The residuals and their gradient are critic_rows.hpp's identity_fit_element:
  // on the CPU summed element by element in order, on CUDA by the row-sum kernels (the gradient
  // stays on the device; the loss is read back each iteration for the early stop, so the
  // pretraining synchronises once per iteration, before step 1 and never in a captured iteration).
  void pretrain(const Context& ctx, const Points<T>& x) {
    const index_t M = m_, count = M * d_;
    Adam<T> adam(ctx, map_.num_params());
    RowPartials rows(ctx, M);
    for (index_t it = 0; it < pretrain_iterations_; ++it) {
      gather(ctx, x, random_stream(RandomPurpose::batch, 0), std::uint64_t(it) << 32);
      map_.forward(ctx, ConstPointsView<T>(y_.data(), M, d_, y_.device()),
                   PointsView<T>(hin_.data(), M, d_, hin_.device()));
      const T* y = y_.data();
      const T* ty = hin_.data();
      T* g = dty_.data();
      double loss = 0;
      if (ctx.is_cuda()) {
        rows.run(ctx, IdentityFitRow<T>{y, ty, g, d_, double(count)}, M);
        loss = rows.sum(ctx);
      } else {
        for (index_t i = 0; i < count; ++i) loss += identity_fit_element(ty[i], y[i], double(count), &g[i]);
      }
      loss /= double(count);
      map_.backward(ctx, ConstPointsView<T>(g, M, d_, dty_.device()));
      map_.step_with(ctx, adam, pretrain_lr_);
      if (loss < 1e-5) break;
    }
    map_.set_pretrained();
  }

  // Gamma of this step from the particles (and, for KL, the ratio's parameters).
  void fit_gamma(const Context& ctx, const Points<T>& x) {
    if (!critic_on_) {
      gamma_ready_ = true;
      return;
    }
    const index_t rows = sharded_ ? shard_.rows() : n_;
    std::vector<T> h(std::size_t(rows * d_));
    copy_to_host(ctx, h.data(), x.buffer());
    const std::vector<double> xd(h.begin(), h.end());
    std::vector<double> mean(std::size_t(d_), 0.0), lt(std::size_t(d_ * d_), 0.0);
    if (kl_) {
      // Sharded: the moment sums over every rank's rows in row order (one process's bits).
      const GaussianFit g = sharded_
                                ? gaussian_fit_of(moment_fit_rows(*comm_, xd.data(), rows, n_, d_))
                                : fit_gaussian(xd, n_, d_);
      mean = g.moments.mean;
      for (index_t i = 0; i < d_; ++i)  // L^T: Z = mean + eps L^T
        for (index_t j = 0; j < d_; ++j) lt[std::size_t(j * d_ + i)] = g.cholesky[std::size_t(i * d_ + j)];
      std::vector<T> p(std::size_t(ratio_.size()), T(0));
      std::size_t at = 0;
      for (const std::vector<double>& v :
           {g.moments.mean, g.precision, target_.moments.mean, target_.precision}) {
        for (double e : v) p[at++] = T(e);
      }
      copy_from_host(ctx, ratio_, p.data(), index_t(p.size()));
      ratio_c_ = components_ > 0
                     ? -0.5 * g.log_det - 0.5 * double(d_) * gaussian_math::log_two_pi
                     : 0.5 * (target_.log_det - g.log_det);
    } else {
      // Uniform on [-R, R]^d: Z = 2R (U - 1/2), as mean + eps L^T with L = 2R Id, eps = U - 1/2.
      // Sharded: the largest |x_ij| of every rank's rows (a maximum: exact in any order).
      const double r = sharded_ ? fit_box({max_across(*comm_, largest_abs(xd))}) : fit_box(xd);
      for (index_t i = 0; i < d_; ++i) lt[std::size_t(i * d_ + i)] = 2 * r;
      terms_.q_m1 = std::pow(2 * r, -double(d_) * (terms_.m - 1));
    }
    const std::vector<T> mt(mean.begin(), mean.end()), ltt(lt.begin(), lt.end());
    copy_from_host(ctx, gamma_mean_, mt.data(), d_);
    copy_from_host(ctx, gamma_lt_, ltt.data(), d_ * d_);
    gamma_ready_ = true;
  }

  // y_ <- M rows of the particles drawn uniformly (with replacement).
  // Sharded: the drawn rows gathered from their owners in batch order, then read in order.
  void gather(const Context& ctx, const Points<T>& x, std::uint64_t stream, std::uint64_t counter) {
    BatchRows b;
    b.random = true;
    b.seed = seed_;
    b.stream = stream;
    b.counter = counter;
    if (sharded_) {
      std::vector<index_t> drawn(static_cast<std::size_t>(m_));
      for (index_t k = 0; k < m_; ++k)
        drawn[std::size_t(k)] = batch_row(seed_, stream, counter, k, n_);
      b.random = false;
      const T* rows = shard_.gather(own_on_host(ctx, x), d_, drawn);
      if (device_rows_) {
        // The gathered rows in batch order are the batch (network_input copies them as they
        // are: no centre, scale 1).
        upload(ctx, y_, rows);
        return;
      }
      network_input(ctx, rows, m_, d_, 0, b, m_, y_.data(), static_cast<T*>(nullptr));
      return;
    }
    network_input(ctx, x.data(), n_, d_, 0, b, m_, y_.data(), static_cast<T*>(nullptr));
  }

  // z (rows, d) <- samples mean + eps L^T of Gamma, eps from Philox (stream, offset...): standard
  // normals (KL) or uniforms on [-1/2, 1/2] (entropy's box). Uses gin_ as scratch.
  void sample_gamma(const Context& ctx, std::uint64_t stream, std::uint64_t offset, index_t rows,
                    T* z) {
    if (kl_) {
      rng_normal<T>(ctx, seed_, stream, offset, gin_.data(), rows * d_);
    } else {
      rng_uniform<T>(ctx, seed_, stream, offset, gin_.data(), rows * d_, T(-0.5), T(0.5));
    }
    gemm<T>(ctx, Op::N, Op::N, rows, d_, 1, T(1), ones_.data(), 1, gamma_mean_.data(), d_, T(0), z,
            d_);  // (rows, d) = 1 mean^T
    gemm<T>(ctx, Op::N, Op::N, rows, d_, d_, T(1), gin_.data(), d_, gamma_lt_.data(), d_, T(1), z,
            d_);  // += eps L^T
  }

  // F(T # P_k) without the interaction terms, over all n particles and n samples of Gamma (in
  // chunks): the density term from the trained critic, KL: 1 + E[log h + log mu - log Q](T X) -
  // E_mu[h] (Prop. 1, Q normalised); entropy: E[A] - E[B] (Prop. 2); times its weight; plus the
  // potential terms' w_V E[V(T X)].
  // With ranks each chunk's four sums are allgathered and added in chunk order as one process
  // adds them.
  // Sharded: the chunks' rows are in span_ (step()).
  double estimate(const Context& ctx, const Points<T>& x, index_t n) {
    TraceSpan span(Phase::functional);
    const double w = 1.0 / double(n_);
    const std::uint64_t stream = random_stream(RandomPurpose::rescale_latent, std::uint64_t(n));
    const RankChunks split(comm_, n_, chunk_);
    const auto [base, base_row] = chunk_rows(split, x);
    // Per chunk: the potential, ratio, critic-on-T(X) and critic-on-Gamma sums.
    constexpr index_t per = 4;
    std::vector<double> sums(std::size_t(split.chunks() * per), 0.0);
    split.each_own([&](index_t c) {
      const index_t first = split.first_row(c), rows = split.rows(c);
      double* v = sums.data() + c * per;
      map_.forward(
          ctx, ConstPointsView<T>(base + (first - base_row) * d_, rows, d_, x.buffer().device()),
          PointsView<T>(hin_.data(), rows, d_, hin_.device()));
      if (potential_) {
        v[0] = reduce_rows(ctx, PotentialRow<T>{potential_->rows(), hin_.data(), nullptr, d_,
                                                w * parts_.potential_weight, 0.0, false},
                           rows);
      }
      if (!critic_on_) return;
      if (kl_) v[1] = reduce_rows(ctx, RatioRow<T>{ratio(), hin_.data(), d_, w}, rows);
      critic_.forward(ctx, ConstPointsView<T>(hin_.data(), rows, d_, hin_.device()),
                      PointsView<T>(u_.data(), rows, 1, u_.device()));
      v[2] = reduce_rows(ctx, CriticRow<T>{terms_, u_.data(), nullptr, rows, w}, rows);
      sample_gamma(ctx, stream, std::uint64_t(first * d_), rows, hin_.data());
      critic_.forward(ctx, ConstPointsView<T>(hin_.data(), rows, d_, hin_.device()),
                      PointsView<T>(u_.data(), rows, 1, u_.device()));
      v[3] = reduce_rows(ctx, CriticRow<T>{terms_, u_.data(), nullptr, 0, w}, rows);
    });
    split.allgather_chunk_values(sums, per);
    double loss = 0, ratio_sum = 0, potential = 0;
    for (index_t c = 0; c < split.chunks(); ++c) {
      const double* v = sums.data() + c * per;
      if (potential_) potential += v[0];
      if (!critic_on_) continue;
      if (kl_) ratio_sum += v[1];
      loss += v[2];
      loss += v[3];
    }
    if (!critic_on_) return potential;
    return terms_.weight * (kl_ ? 1 - loss + ratio_sum : -loss) + potential;
  }

  // x <- T(x), in chunks of the map's max batch (with ranks: rank q's chunks, then allgathered).
  // Sharded: the chunks' rows from span_ into span_out_, then back to their owners.
  void push(const Context& ctx, Points<T>& x) {
    TraceSpan span(Phase::push);
    const RankChunks split(comm_, n_, chunk_);
    const auto [base, base_row] = chunk_rows(split, x);
    T* out = sharded_ ? span_out_.data() : next_.data();
    split.each_own([&](index_t c) {
      const index_t first = split.first_row(c), rows = split.rows(c);
      map_.forward(
          ctx, ConstPointsView<T>(base + (first - base_row) * d_, rows, d_, x.buffer().device()),
          PointsView<T>(out + (first - base_row) * d_, rows, d_, next_.device()));
    });
    if (sharded_ && device_rows_) {
      // Through the host: the pushed span down, the own rows' host copy (now x's) from their
      // pushers, up into next_.
      span_host_.resize(std::size_t(span_out_.size()));
      download(ctx, span_host_.data(), span_out_);
      own_host_.resize(std::size_t(next_.size()));
      shard_.from_chunks(split, span_host_.data(), d_, own_host_.data());
      upload(ctx, next_, own_host_.data());
    } else if (sharded_) {
      shard_.from_chunks(split, span_out_.data(), d_, next_.data());
    } else {
      split.allgather_rows(ctx, next_.data(), d_);
    }
    std::swap(x.buffer(), next_);
    gamma_ready_ = false;
    own_host_ready_ = device_rows_;  // own_host_ holds the pushed rows
  }

  // Sharded: this rank's rows of x on the host (the CPU: x itself; CUDA: a copy, downloaded once
  // after x last changed).
  const T* own_on_host(const Context& ctx, const Points<T>& x) {
    if (!device_rows_) return x.data();
    if (!own_host_ready_) {
      own_host_.resize(std::size_t(x.buffer().size()));
      download(ctx, own_host_.data(), x.buffer());
      own_host_ready_ = true;
    }
    return own_host_.data();
  }
  // A whole device buffer from / to the host (nothing for an empty one: a rank without chunks).
  static void upload(const Context& ctx, Buffer<T>& dst, const T* src) {
    if (dst.size() > 0) copy_from_host(ctx, dst, src, dst.size());
  }
  static void download(const Context& ctx, T* dst, const Buffer<T>& src) {
    if (src.size() > 0) copy_to_host(ctx, dst, src);
  }

  // Where the rows of the chunks are: (pointer, global index of its first row): all samples, or
  // (sharded) span_, this rank's chunks' rows.
  std::pair<const T*, index_t> chunk_rows(const RankChunks& split, const Points<T>& x) const {
    if (!sharded_) return {x.data(), 0};
    return {span_.data(), shard_.chunk_span(split).first};
  }

  Parts parts_;
  bool sharded_layout_, fb_, kl_, critic_on_;
  std::uint64_t seed_;
  index_t n_, d_, m_, chunk_, iterations_, inner_, pretrain_iterations_;
  double lr_, pretrain_lr_;
  CriticTerms terms_;
  GaussianFit target_;
  TransportMap<T> map_;
  Mlp<T> critic_;
  Adam<T> critic_adam_;
  Buffer<T> y_, hin_, u_, du_, dty_, gin_, ones_, gamma_mean_, gamma_lt_, ratio_, next_;
  double ratio_c_ = 0;
  index_t components_ = 0;          // a mixture target's K (0: a Gaussian target)
  Buffer<double> mixture_, scratch_;  // its packed arrays; (chunk, 3d) scratch of the ratio
  bool gamma_ready_ = false;
  std::optional<PackedPotential> potential_;      // potential terms (V = -ln Q of [target])
  std::unique_ptr<Functional<T>> interaction_;   // the interaction terms over all particles
  std::unique_ptr<Functional<T>> batch_interaction_;  // not fb: the same over a batch (M rows)
  RowPartials critic_rows_, map_rows_, potential_rows_;  // the training's row sums
  DeferredValue loss_;  // of the last iterate_on_device
  Buffer<T> forward_;                             // fb: (n, d) the forward step's displacement
  double self_half_ = 0;                          // not fb: 1/2 sum_i w_i W_i(0)
  const Comm* comm_ = nullptr;                    // the ranks (nullptr: this process alone)
  // Sharded (set_sharded): x holds this rank's rows; the interaction terms' pair sums (weight,
  // family); the rows of this rank's chunks and their pushed rows; fb's second term's gradient.
  bool sharded_ = false;
  ShardedRows<T> shard_;
  std::vector<std::pair<double, InteractionPairs>> pairs_;
  Buffer<T> span_, span_out_, forward_term_;
  // Sharded on a CUDA context: x on the device; host copies of the own rows (valid while
  // own_host_ready_) and of a span (the rows moved between ranks go through them).
  bool device_rows_ = false, own_host_ready_ = false;
  std::vector<T> own_host_, span_host_;
};

}  // namespace

template <class T>
std::unique_ptr<Scheme<T>> make_variational_scheme(const Context& ctx, const FlowConfig& cfg,
                                                   index_t n, index_t d) {
  return std::make_unique<VariationalScheme<T>>(ctx, cfg, n, d);
}

std::vector<std::unique_ptr<Icnn<double>>> variational_icnn_maps(const FlowConfig& cfg, index_t d,
                                                                 std::uint32_t scalar_bytes,
                                                                 const std::string& state,
                                                                 index_t max_batch,
                                                                 const std::string& what) {
  if (cfg.scheme != SchemeKind::variational || cfg.map != MapKind::icnn) {
    throw_bad_input(what + ": not a run of the variational scheme with network.kind = \"icnn\"");
  }
  const Context cpu(Device::cpu, 1);
  const IcnnOptions options{cfg.rank, cfg.strong_convexity};
  const index_t n = Icnn<double>(cpu, d, cfg.hidden, 1, options).num_params();
  const std::string part = state_parts(state, what)[0];
  std::vector<std::unique_ptr<Icnn<double>>> maps;
  auto build = [&](const auto& params) {
    for (const auto& p : params) {
      maps.push_back(std::make_unique<Icnn<double>>(cpu, d, cfg.hidden, max_batch, options));
      for (index_t i = 0; i < n; ++i) maps.back()->params()[i] = double(p[std::size_t(i)]);
    }
  };
  if (scalar_bytes == sizeof(float)) {
    build(icnn_maps<float>(part, n, what));
  } else if (scalar_bytes == sizeof(double)) {
    build(icnn_maps<double>(part, n, what));
  } else {
    throw_bad_input(what + ": samples of " + std::to_string(scalar_bytes) + " bytes");
  }
  return maps;
}

template std::unique_ptr<Scheme<float>> make_variational_scheme<float>(const Context&,
                                                                       const FlowConfig&, index_t,
                                                                       index_t);
template std::unique_ptr<Scheme<double>> make_variational_scheme<double>(const Context&,
                                                                         const FlowConfig&,
                                                                         index_t, index_t);

}  // namespace nwgf
