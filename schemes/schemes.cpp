#include "nwgf/schemes/schemes.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/nn/adam.hpp"
#include "nwgf/nn/mlp.hpp"
#include "nwgf/nn/serialize.hpp"
#include "nwgf/schemes/ift/ift_scheme.hpp"
#include "nwgf/schemes/rank_chunks.hpp"
#include "nwgf/schemes/scheme_ops.hpp"
#include "nwgf/schemes/sharded_rows.hpp"
#include "nwgf/schemes/variational/variational_scheme.hpp"

namespace nwgf {
namespace {

// Backward and forward: a network T_theta(x, z) trained by Adam, warm-started across steps.
template <class T>
class NeuralScheme final : public Scheme<T> {
 public:
  NeuralScheme(const Context& ctx, const FlowConfig& cfg, Functional<T>& f, index_t n, index_t d)
      : forward_(cfg.scheme == SchemeKind::forward),
        r_(cfg.r),
        f_(f),
        seed_(cfg.seed),
        n_(n),
        d_(d),
        l_(latent_dim(cfg)),
        batch_(std::min(cfg.batch, n)),
        rescale_batch_(std::min(cfg.rescale_batch > 0 ? cfg.rescale_batch : cfg.batch, n)),
        max_rows_(2 * std::max(batch_, rescale_batch_)),
        iterations_(cfg.iterations),
        iterations_first_(cfg.iterations_first > 0 ? cfg.iterations_first : cfg.iterations),
        first_steps_(cfg.first_steps),
        lr_(cfg.lr),
        mlp_(ctx, widths(cfg, d), max_rows_, MlpOptions{cfg.activation, false, 0.25}),
        adam_(ctx, mlp_.num_params()),
        in_(ctx, max_rows_ * (d + l_)),
        xb_(ctx, max_rows_ * d),
        out_(ctx, max_rows_ * d),
        grad_(ctx, max_rows_ * d),
        grad2_(ctx, max_rows_ * d),
        next_(ctx, n * d),
        t_(ctx, max_rows_ * d),
        centre_(ctx, d),
        transport_rows_(ctx, max_rows_ * d),
        norm_rows_(ctx, max_rows_ * d),
        forward_coef_(ctx, 3) {
    mlp_.init(ctx, seed_, random_stream(RandomPurpose::network, 0));
    fill_zero(ctx, centre_);
  }

  index_t iterations(index_t n) const override {
    return n <= first_steps_ ? iterations_first_ : iterations_;
  }

  StepResult step(const Context& ctx, Points<T>& x, index_t n, double tau,
                  const IterationCallback& progress) override {
    StepResult res;
    res.iterations = iterations(n);
    standardise(ctx, x, tau);
    for (index_t it = 0; it < res.iterations; ++it) {
      res.loss = iterate(ctx, x, n, it, tau);
      if (!std::isfinite(res.loss)) {
        throw_numerical("training loss is " + std::to_string(res.loss) + " at step " +
                        std::to_string(n) + ", iteration " + std::to_string(it));
      }
      if (progress) progress(it + 1, res.iterations, res.loss);
    }
    TraceSpan span(Phase::push);
    if (forward_) {
      res.rescale = rescale(ctx, x, n);
      push(ctx, x, n, T(tau * res.rescale));
    } else {
      push(ctx, x, n, T(out_scale_));
    }
    return res;
  }

  double iterate(const Context& ctx, Points<T>& x, index_t n, index_t it, double tau) override {
    return train(ctx, x, n, it, tau)(ctx);
  }
  void iterate_on_device(const Context& ctx, Points<T>& x, index_t n, index_t it,
                         double tau) override {
    loss_ = train(ctx, x, n, it, tau);
  }
  double loss(const Context& ctx) override { return loss_ ? loss_(ctx) : Scheme<T>::loss(ctx); }

  // Across ranks: training is replicated (every rank runs the same Adam steps on the same
  // batches; the functional shares the batch's pair terms), the push splits its row chunks.
  bool set_comm(const Comm* comm) override {
    comm_ = comm;
    return true;
  }

  // Sharded: x holds this rank's rows of the 64-row grid (ShardedRows,
  // schemes/sharded_rows.hpp). The training stays replicated; what reads the samples gathers or
  // chains them so that every rank gets one process's bits: the centre and scale (standardise:
  // the sums pass rank to rank in row order), the batch rows (ShardedRows::gather: from their
  // owners, in batch order) and the push (the rows of one process's chunks moved to the ranks
  // that push them and back). On a CUDA Context (x, the network and its batches on this rank's
  // GPU; comm the host's or, P > 1, the DeviceComm whose host collectives these are) the rows
  // move through the host: standardise downloads the own rows once a step (own_host_), the
  // gathers and the push's all-to-alls run on that copy (bytes over MPI, as on the CPU), and
  // what the network reads goes up once per call (2 x batch rows, or a rank's chunk span).
  bool set_sharded(const Context& ctx, const Comm& comm) override {
    comm_ = &comm;
    sharded_ = true;
    shard_ = ShardedRows<T>(comm, n_);
    next_ = Buffer<T>(ctx, shard_.rows() * d_);  // the constructor's N rows were never touched
    return true;
  }

  std::string state(const Context& ctx) const override { return serialize_mlp(ctx, mlp_, &adam_); }
  void restore(const Context& ctx, const std::string& bytes, const std::string& what) override {
    deserialize_mlp(ctx, bytes, what, mlp_, &adam_);
  }

 private:
  // One training iteration; the loss deferred (the backward loss stays on the device).
  DeferredValue train(const Context& ctx, Points<T>& x, index_t n, index_t it, double tau) {
    index_t rows = 0;
    {
      TraceSpan span(Phase::batch);
      rows = draw_batch(ctx, x, n, std::uint64_t(it), batch_, RandomPurpose::batch,
                        RandomPurpose::latent);
      f_.draw(ctx, seed_, random_stream(RandomPurpose::sliced, std::uint64_t(n)),
              std::uint64_t(it));
    }
    mlp_.forward(ctx, cview(in_, rows, d_ + l_), view(out_, rows, d_));
    DeferredValue loss;
    {
      TraceSpan span(Phase::functional);
      if (forward_) {
        loss = forward_loss(ctx, rows);
      } else {
        loss = backward_loss(ctx, rows, tau);
      }
    }
    mlp_.backward(ctx, cview(grad_, rows, d_), PointsView<T>(), false);
    adam_.step(ctx, mlp_.params(), mlp_.grads(), lr_);
    return loss;
  }

  static std::vector<index_t> widths(const FlowConfig& cfg, index_t d) {
    std::vector<index_t> w{d + latent_dim(cfg)};
    w.insert(w.end(), cfg.hidden.begin(), cfg.hidden.end());
    w.push_back(d);
    return w;
  }
  static PointsView<T> view(Buffer<T>& b, index_t rows, index_t cols) {
    return PointsView<T>(b.data(), rows, cols, b.device());
  }
  static ConstPointsView<T> cview(const Buffer<T>& b, index_t rows, index_t cols) {
    return ConstPointsView<T>(b.data(), rows, cols, b.device());
  }

  // Two independent batches of `batch` rows into in_/xb_ (rows [0, B) and [B, 2B)): uniform
  // rows drawn with replacement, or, when batch = N, all rows twice with independent z.
  index_t draw_batch(const Context& ctx, const Points<T>& x, index_t n, std::uint64_t counter,
                     index_t batch, RandomPurpose rows_purpose, RandomPurpose z_purpose) {
    BatchRows b;
    b.seed = seed_;
    b.stream = random_stream(rows_purpose, std::uint64_t(n));
    b.z_stream = random_stream(z_purpose, std::uint64_t(n));
    b.counter = counter << 32;
    b.z_counter = counter << 32;
    b.centre = centre_.data();
    b.inv_scale = 1 / scale_;
    if (batch >= n_) {
      // Sharded: all N rows gathered (the batch buffers hold 2N rows anyway).
      const T* all = x.data();
      if (sharded_) {
        std::vector<index_t> every(static_cast<std::size_t>(n_));
        for (index_t i = 0; i < n_; ++i) every[std::size_t(i)] = i;
        all = on_device(ctx, shard_.gather(own_rows(x), d_, every), n_ * d_);
      }
      for (int half = 0; half < 2; ++half) {
        b.random = false;
        b.first = 0;
        b.z_counter = (counter << 32) + std::uint64_t(half * n_ * l_);
        network_input(ctx, all, n_, d_, l_, b, n_, in_.data() + half * n_ * (d_ + l_),
                      xb_.data() + half * n_ * d_);
      }
      return 2 * n_;
    }
    b.random = true;
    if (sharded_) {
      // The rows batch_row draws, gathered in batch order: then the k-th input row reads the
      // k-th gathered row (sequential rows from 0), with the same z.
      std::vector<index_t> drawn(static_cast<std::size_t>(2 * batch));
      for (index_t k = 0; k < 2 * batch; ++k) {
        drawn[std::size_t(k)] = batch_row(b.seed, b.stream, b.counter, k, n_);
      }
      const T* rows = on_device(ctx, shard_.gather(own_rows(x), d_, drawn), 2 * batch * d_);
      b.random = false;
      b.first = 0;
      network_input(ctx, rows, 2 * batch, d_, l_, b, 2 * batch, in_.data(), xb_.data());
      return 2 * batch;
    }
    network_input(ctx, x.data(), n_, d_, l_, b, 2 * batch, in_.data(), xb_.data());
    return 2 * batch;
  }

  // Centre (mean) and scale (RMS distance to the mean per coordinate; 1 at a Dirac) of the
  // samples at the start of a step: the network works in these standardised coordinates. The
  // backward output scale is max(scale, tau^{1/(2-r)}): a Riesz functional spreads a Dirac to
  // the size tau^{1/(2-r)} in one JKO step (Thm 5.1), so the first steps start at the right size.
  // Sharded: each rank holds its rows and the sums run over them in row order,
  // continued rank to rank (in_row_order), so they are one process's sums, bit for bit.
  void standardise(const Context& ctx, const Points<T>& x, double tau) {
    const index_t rows = sharded_ ? shard_.rows() : n_;
    std::vector<T> h(std::size_t(rows * d_));
    copy_to_host(ctx, h.data(), x.buffer());
    std::vector<double> mean(std::size_t(d_), 0.0);
    in_row_order(mean.data(), d_, [&] {
      for (index_t i = 0; i < rows; ++i) {
        for (index_t j = 0; j < d_; ++j) mean[std::size_t(j)] += double(h[std::size_t(i * d_ + j)]);
      }
    });
    for (double& m : mean) m /= double(n_);
    double var = 0;
    in_row_order(&var, 1, [&] {
      for (index_t i = 0; i < rows; ++i) {
        for (index_t j = 0; j < d_; ++j) {
          const double c = double(h[std::size_t(i * d_ + j)]) - mean[std::size_t(j)];
          var += c * c;
        }
      }
    });
    const double sd = std::sqrt(var / double(n_ * d_));
    scale_ = sd > 1e-30 ? sd : 1.0;
    out_scale_ = std::max(sd, std::pow(tau, 1 / (2 - r_)));
    const std::vector<T> c(mean.begin(), mean.end());
    copy_from_host(ctx, centre_, c.data(), d_);
    // Sharded on a GPU: the own rows' host copy for this step's gathers and push.
    if (sharded_ && x.device() == Device::cuda) own_host_ = std::move(h);
  }

  // Sharded: the own rows on the host (x itself on the CPU; on a GPU standardise's copy, which
  // holds until the push moves the samples).
  const T* own_rows(const Points<T>& x) const {
    return x.device() == Device::cuda ? own_host_.data() : x.data();
  }
  // count host values where ctx's kernels read them: on a GPU uploaded into staged_ (grown to
  // hold them), on the CPU the host pointer itself.
  const T* on_device(const Context& ctx, const T* host, index_t count) {
    if (!ctx.is_cuda()) return host;
    if (staged_.size() < count) staged_ = Buffer<T>(ctx, count);
    detail::copy_bytes(ctx, staged_.data(), Device::cuda, host, Device::cpu,
                       std::size_t(count) * sizeof(T));
    return staged_.data();
  }

  // acc (count doubles) <- add() over the rows of every rank in rank order: rank q receives the
  // running sums from q - 1, adds its rows, passes them to q + 1; the last rank broadcasts them.
  // Replicated (or one rank): add() over all rows.
  void in_row_order(double* acc, index_t count, const std::function<void()>& add) const {
    if (!sharded_ || comm_->size() == 1) return add();
    const std::size_t bytes = std::size_t(count) * sizeof(double);
    const int me = comm_->rank(), last = comm_->size() - 1;
    if (me > 0) comm_->recv(acc, bytes, me - 1);
    add();
    if (me < last) comm_->send(acc, bytes, me + 1);
    comm_->broadcast(acc, bytes, last);
  }

  // Backward: T(x, z) = x + out_scale net((x - centre) / scale, z), a reparametrisation of the
  // Markov kernel that keeps the network's inputs and outputs O(1) at every scale of the flow.
  // L = 1/(2 tau) mean_k |x_k - T_k|^2 + F^; grad_ <- dL/dnet = out_scale dL/dT.
  DeferredValue backward_loss(const Context& ctx, index_t rows, double tau) {
    const index_t count = rows * d_;
    copy_rows(ctx, xb_, t_, count);
    axpby(ctx, count, T(out_scale_), out_.data(), T(1), t_.data());
    // The transport cost (transport_cost's row sum, kept on the device).
    transport_rows_.run(
        ctx,
        TransportRow<T>{xb_.data(), t_.data(), T(out_scale_ / (tau * double(rows))), grad2_.data()},
        count);
    DeferredValue f =
        f_.batch_value_deferred(ctx, cview(t_, rows, d_), T(out_scale_), view(grad_, rows, d_));
    axpby(ctx, count, T(1), grad2_.data(), T(1), grad_.data());
    return [this, rows, tau, f = std::move(f)](const Context& c) {
      return transport_rows_.sum(c) / (2 * tau * double(rows)) + f(c);
    };
  }
  static void copy_rows(const Context& ctx, const Buffer<T>& src, Buffer<T>& dst, index_t count) {
    axpby(ctx, count, T(1), src.data(), T(0), dst.data());
  }

  // L = D / (||v|| + eps), ||v||^2 = mean_k |v_k|^2; grad_ <- dL/dv. Where the functional leaves
  // D on the device (batch_directional_deferred), so do ||v||, the loss and its coefficients (one
  // thread's kernel: the host's arithmetic, the same bits), and the coincident-pair refusal waits
  // for the loss to be read.
  DeferredValue forward_loss(const Context& ctx, index_t rows) {
    std::optional<DeferredDirectional> dir = f_.batch_directional_deferred(
        ctx, cview(xb_, rows, d_), cview(out_, rows, d_), T(1), view(grad_, rows, d_));
    if (!dir) {
      const double l = forward_loss_host(ctx, rows);
      return [l](const Context&) { return l; };
    }
    norm_rows_.run(ctx, DotRow<T>{out_.data(), out_.data()}, rows * d_);
    ForwardLossArgs args;
    args.d = dir->value;
    args.norm2 = norm_rows_.term();
    args.rows = double(rows);
    args.eps = forward_norm_eps;
    args.coef = forward_coef_.data();
    forward_loss_device(ctx, args);
    axpby_device(ctx, rows * d_, forward_coef_.data(), out_.data(), grad_.data());
    return [this, check = std::move(dir->check)](const Context& c) {
      if (check) check(c);
      return download(c, forward_coef_)[2];
    };
  }
  double forward_loss_host(const Context& ctx, index_t rows) {
    const double dv = f_.batch_directional(ctx, cview(xb_, rows, d_), cview(out_, rows, d_), T(1),
                                           view(grad_, rows, d_));
    const double norm = std::sqrt(sum_squares(ctx, out_.data(), rows * d_) / double(rows));
    const double denom = norm + forward_norm_eps;
    // dL/dv_k = (dD/dv_k) / denom - D / denom^2 * v_k / (rows ||v||).
    const double a = norm > 0 ? -dv / (denom * denom * double(rows) * norm) : 0.0;
    axpby(ctx, rows * d_, T(a), out_.data(), T(1 / denom), grad_.data());
    return dv / denom;
  }

  // (D_v F / ||v||^2)^- on a batch drawn independently of training (15).
  double rescale(const Context& ctx, const Points<T>& x, index_t n) {
    const index_t rows = draw_batch(ctx, x, n, 0, rescale_batch_, RandomPurpose::rescale_batch,
                                    RandomPurpose::rescale_latent);
    mlp_.forward(ctx, cview(in_, rows, d_ + l_), view(out_, rows, d_));
    const double dv = f_.batch_directional(ctx, cview(xb_, rows, d_), cview(out_, rows, d_), T(1),
                                           PointsView<T>());
    const double norm2 = sum_squares(ctx, out_.data(), rows * d_) / double(rows);
    return norm2 > 0 ? std::max(-dv, 0.0) / norm2 : 0.0;
  }

  // The push's network inputs: the stored rows, standardised, with the latent draws of step n.
  BatchRows push_rows(index_t n) const {
    BatchRows b;
    b.seed = seed_;
    b.z_stream = random_stream(RandomPurpose::push, std::uint64_t(n));
    b.centre = centre_.data();
    b.inv_scale = 1 / scale_;
    return b;
  }

  // x <- x + alpha net(x, z), fresh z per sample. Backward: alpha = scale (x <- T(x, z));
  // forward: alpha = tau (D/||v||^2)^-.
  // Across ranks the chunks of max_rows_ rows (the fixed grid of one process) are split
  // (schemes/rank_chunks.hpp): rank q pushes chunks [C q / P, C (q + 1) / P) of C, and the rows
  // are allgathered.
  void push(const Context& ctx, Points<T>& x, index_t n, T alpha) {
    if (sharded_) return push_sharded(ctx, x, n, alpha);
    BatchRows b = push_rows(n);
    const RankChunks chunks(comm_, n_, max_rows_);
    chunks.each_own([&](index_t c) {
      const index_t first = chunks.first_row(c), rows = chunks.rows(c);
      b.first = first;
      b.z_counter = std::uint64_t(first * l_);
      network_input(ctx, x.data(), n_, d_, l_, b, rows, in_.data(), static_cast<T*>(nullptr));
      mlp_.forward(ctx, cview(in_, rows, d_ + l_),
                   PointsView<T>(next_.data() + first * d_, rows, d_, next_.device()));
    });
    chunks.allgather_rows(ctx, next_.data(), d_);
    axpby(ctx, n_ * d_, T(1), x.data(), alpha, next_.data());
    std::swap(x.buffer(), next_);
  }

  // Sharded: the same chunks (the network's call shapes, so each row keeps one process's bits)
  // and the same split of them; rank q's chunk rows [a_q, b_q) come from their owners and the
  // pushed rows go back to them (two all-to-alls of contiguous row ranges), so a rank holds
  // O(N / P + chunk) rows at a time. On a GPU the all-to-alls run on host copies (the span goes
  // up before the network, its pushed rows come down after it, the own pushed rows go up for
  // the update x + alpha net on the device, as one GPU process's push adds them).
  void push_sharded(const Context& ctx, Points<T>& x, index_t n, T alpha) {
    BatchRows b = push_rows(n);
    const RankChunks chunks(comm_, n_, max_rows_);
    const auto [a, e] = shard_.chunk_span(chunks);
    const bool gpu = x.device() == Device::cuda;
    Buffer<T> in_rows(ctx, (e - a) * d_), out_rows(ctx, (e - a) * d_);
    std::vector<T> span(gpu ? std::size_t((e - a) * d_) : 0);
    if (gpu) {
      shard_.to_chunks(chunks, own_rows(x), d_, span.data());
      if (e > a) copy_from_host(ctx, in_rows, span.data(), (e - a) * d_);
    } else {
      shard_.to_chunks(chunks, x.data(), d_, in_rows.data());
    }
    chunks.each_own([&](index_t c) {
      const index_t first = chunks.first_row(c), rows = chunks.rows(c);
      b.first = 0;
      b.z_counter = std::uint64_t(first * l_);
      network_input(ctx, in_rows.data() + (first - a) * d_, rows, d_, l_, b, rows, in_.data(),
                    static_cast<T*>(nullptr));
      mlp_.forward(ctx, cview(in_, rows, d_ + l_),
                   PointsView<T>(out_rows.data() + (first - a) * d_, rows, d_, out_rows.device()));
    });
    if (gpu) {
      if (e > a) copy_to_host(ctx, span.data(), out_rows);
      std::vector<T> own(static_cast<std::size_t>(shard_.rows() * d_));
      shard_.from_chunks(chunks, span.data(), d_, own.data());
      copy_from_host(ctx, next_, own.data(), shard_.rows() * d_);
      own_host_.clear();  // the samples move: the copy no longer holds
    } else {
      shard_.from_chunks(chunks, out_rows.data(), d_, next_.data());
    }
    axpby(ctx, shard_.rows() * d_, T(1), x.data(), alpha, next_.data());
    std::swap(x.buffer(), next_);
  }

  bool forward_;
  double r_;
  Functional<T>& f_;
  std::uint64_t seed_;
  index_t n_, d_, l_, batch_, rescale_batch_, max_rows_;
  index_t iterations_, iterations_first_, first_steps_;
  double lr_;
  Mlp<T> mlp_;
  Adam<T> adam_;
  Buffer<T> in_, xb_, out_, grad_, grad2_, next_, t_, centre_;
  RowPartials transport_rows_;
  RowPartials norm_rows_;        // the forward loss's |v|^2
  Buffer<double> forward_coef_;  // its coefficients and value (forward_loss_device)
  DeferredValue loss_;
  double scale_ = 1, out_scale_ = 1;
  const Comm* comm_ = nullptr;
  // Sharded: this rank's rows of the grid, and the batch gather's buffers (host); on a GPU the
  // own rows' host copy of the step and the device staging of the gathered rows.
  bool sharded_ = false;
  ShardedRows<T> shard_;
  std::vector<T> own_host_;
  Buffer<T> staged_;
};

template <class T>
class ParticleScheme final : public Scheme<T> {
 public:
  ParticleScheme(const Context& ctx, const FlowConfig& cfg, Functional<T>& f, index_t n, index_t d)
      : f_(f), seed_(cfg.seed), grad_(ctx, n * d) {}

  index_t iterations(index_t) const override { return 1; }

  StepResult step(const Context& ctx, Points<T>& x, index_t n, double tau,
                  const IterationCallback& progress) override {
    iterate(ctx, x, n, 0, tau);
    if (progress) progress(1, 1, std::numeric_limits<double>::quiet_NaN());
    StepResult res;
    res.iterations = 1;
    return res;
  }

  double iterate(const Context& ctx, Points<T>& x, index_t n, index_t, double tau) override {
    {
      TraceSpan span(Phase::functional);
      f_.draw(ctx, seed_, random_stream(RandomPurpose::sliced, std::uint64_t(n)), 0);
      f_.particle_gradient(ctx, x.view(), T(1),
                           PointsView<T>(grad_.data(), x.n(), x.d(), grad_.device()));
    }
    TraceSpan span(Phase::push);
    axpby(ctx, x.n() * x.d(), T(-tau), grad_.data(), T(1), x.data());
    return std::numeric_limits<double>::quiet_NaN();
  }

  // Across ranks the functional shares the particle gradient; the update is replicated.
  bool set_comm(const Comm*) override { return true; }

  std::string state(const Context&) const override { return {}; }
  void restore(const Context&, const std::string&, const std::string&) override {}

 private:
  Functional<T>& f_;
  std::uint64_t seed_;
  Buffer<T> grad_;
};

}  // namespace

template <class T>
std::unique_ptr<Scheme<T>> make_scheme(const Context& ctx, const FlowConfig& cfg, Functional<T>& f,
                                       index_t n, index_t d) {
  if (cfg.scheme == SchemeKind::particle) return std::make_unique<ParticleScheme<T>>(ctx, cfg, f, n, d);
  if (cfg.scheme == SchemeKind::ift) return make_ift_scheme<T>(ctx, cfg, f, n, d);
  if (cfg.scheme == SchemeKind::variational) return make_variational_scheme<T>(ctx, cfg, n, d);
  return std::make_unique<NeuralScheme<T>>(ctx, cfg, f, n, d);
}

template std::unique_ptr<Scheme<float>> make_scheme<float>(const Context&, const FlowConfig&,
                                                           Functional<float>&, index_t, index_t);
template std::unique_ptr<Scheme<double>> make_scheme<double>(const Context&, const FlowConfig&,
                                                             Functional<double>&, index_t, index_t);

}  // namespace nwgf
