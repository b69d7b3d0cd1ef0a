#include "nwgf/schemes/functional.hpp"

#include <cmath>
#include <optional>

#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/pairwise_sharded.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "nwgf/kernels/sliced_ranks.hpp"
#include "nwgf/schemes/functional_gaussian.hpp"
#include "nwgf/schemes/functional_interaction.hpp"
#include "nwgf/schemes/functional_potential.hpp"
#include "nwgf/schemes/functional_sum.hpp"
#include "nwgf/schemes/scheme_ops.hpp"

namespace nwgf {
namespace {

// The directional derivative met coincident sample pairs: undefined for r < 1.
void refuse_coincident(double r, index_t coincident) {
  if (coincident > 0) {
    refuse_forward_at_atoms(r, std::to_string(coincident) + " coincident sample pairs");
  }
}

// A double result of a kernel: written on ctx's device, read back on the host.
class Scalar {
 public:
  explicit Scalar(const Context& ctx) : buf_(ctx, 1) {}
  double* ptr() { return buf_.data(); }
  double get(const Context& ctx) const {
    double v = 0;
    copy_to_host(ctx, &v, buf_);
    return v;
  }

 private:
  Buffer<double> buf_;
};

// interaction, mmd and barycenter: E_K plus the potential of a weighted target (b sums to 1).
template <class T>
class RieszFunctional final : public Functional<T> {
 public:
  RieszFunctional(const Context& ctx, const FunctionalSpec& spec, index_t d, index_t max_rows,
                  const std::vector<WeightedPoints>& targets)
      : r_(spec.r),
        d_(d),
        scalar_(ctx),
        dot_rows_(ctx, max_rows * d),
        dir_rows_(ctx, max_rows * d),
        dir_sums_(ctx, 2),
        dir_counts_(ctx, 2) {
    std::vector<T> t, b;
    std::vector<double> alpha = spec.weights;
    if (alpha.empty()) alpha.assign(targets.size(), 1.0 / double(targets.size()));
    for (std::size_t k = 0; k < targets.size(); ++k) {
      const auto& tk = targets[k];
      for (double v : tk.x.data) t.push_back(T(v));
      for (index_t j = 0; j < tk.x.rows; ++j) {
        b.push_back(T(alpha[k] * (tk.w.empty() ? 1.0 / double(tk.x.rows) : tk.w[std::size_t(j)])));
      }
    }
    m_ = index_t(b.size());
    m_own_ = m_;
    uniform_b_ = true;
    for (T w : b) uniform_b_ = uniform_b_ && w == b.front();
    if (m_ > 0) {
      target_ = upload(ctx, t);
      b_ = upload(ctx, b);
      zero_w_ = Buffer<T>(ctx, m_ * d);
      fill_zero(ctx, zero_w_);
      // E_K(nu) = -1/2 sum_jj' b_j b_j' |t_j - t_j'|^r.
      riesz_energy<T>(ctx, tview(), b_.data(), tview(), b_.data(), r_, scalar_.ptr(), &ws_);
      energy_nu_ = -0.5 * scalar_.get(ctx);
    }
    if (spec.estimator == Estimator::sliced) {
      if (m_ > 0 && !uniform_b_) {
        throw_bad_input("functional.estimator: sliced needs equal weights on all target points");
      }
      sliced_.emplace(ctx, max_rows, m_, d, int(spec.directions));
      sliced_grad_ = Buffer<T>(ctx, max_rows * d);
      sliced_sums_ = Buffer<double>(ctx, 2);
    }
  }

  // flow.memory = "sharded" (make_sharded_target_functional): this rank's rows of the target,
  // t_own (owned_rows(m, rank, P)) with weights b_own, and E_K(nu) as the caller computed it.
  RieszFunctional(const Context& ctx, double r, index_t d, index_t max_rows, const Comm& comm,
                  ConstPointsView<T> t_own, const T* b_own, index_t m, double energy_nu)
      : r_(r),
        d_(d),
        m_(m),
        m_own_(t_own.rows),
        energy_nu_(energy_nu),
        target_(ctx, t_own.rows * d),
        b_(ctx, t_own.rows),
        scalar_(ctx),
        dot_rows_(ctx, max_rows * d),
        dir_rows_(ctx, max_rows * d),
        dir_sums_(ctx, 2),
        dir_counts_(ctx, 2),
        comm_(&comm),
        sharded_target_(true) {
    // zero_w_ on ctx's device even when this rank holds no target rows (the CUDA passes check
    // where their views live).
    zero_w_ = Buffer<T>(ctx, m_own_ * d);
    if (m_own_ == 0) return;
    copy_from_host(ctx, target_, t_own.data, t_own.rows * d);
    copy_from_host(ctx, b_, b_own, t_own.rows);
    fill_zero(ctx, zero_w_);
  }

  double batch_value(const Context& ctx, ConstPointsView<T> y, T scale,
                     PointsView<T> grad) override {
    const index_t n = y.rows, half = n / 2;
    const bool want = grad.data != nullptr;
    if (sliced_ || (want && scale != T(0))) return batch_value_deferred(ctx, y, scale, grad)(ctx);
    const auto y1 = rows(y, 0, half), y2 = rows(y, half, n - half);
    const double ce = -0.5 / (double(y1.rows) * double(y2.rows));
    double f = energy_nu_;
    energy(ctx, y1, nullptr, y2, nullptr);
    f += ce * scalar_.get(ctx);
    if (m_ > 0) {
      const double cv = 1.0 / double(n);
      target_energy(ctx, y);
      f += cv * target_sum(ctx);
      if (want) target_gradient(ctx, y, T(scale * cv), grad);
    }
    return f;
  }

  // The sliced estimate, and the exact one with its gradient: the sums stay on the device.
  DeferredValue batch_value_deferred(const Context& ctx, ConstPointsView<T> y, T scale,
                                     PointsView<T> grad) override {
    const index_t n = y.rows, half = n / 2;
    if (sliced_) {
      // E ≈ -S_xx / (2 n (n-1)) (U-statistic), V ≈ S_xy / (n M).
      const double cxx = -0.5 / (double(n) * double(n - 1));
      const double cxy = m_ > 0 ? 1.0 / (double(n) * double(m_)) : 0.0;
      double* sums = sliced_sums_.data();
      sliced_->evaluate(ctx, y, tview(), sums, m_ > 0 ? sums + 1 : nullptr, T(scale * cxx),
                        T(scale * cxy), grad, false);
      return [this, cxx, cxy](const Context& c) {
        const auto s = download(c, sliced_sums_);
        return cxx * s[0] + (m_ > 0 ? cxy * s[1] : 0.0) + energy_nu_;
      };
    }
    if (grad.data == nullptr || scale == T(0)) {
      return Functional<T>::batch_value_deferred(ctx, y, scale, grad);
    }
    const auto y1 = rows(y, 0, half), y2 = rows(y, half, n - half);
    const double ce = -0.5 / (double(y1.rows) * double(y2.rows));
    gradient(ctx, y1, nullptr, y2, nullptr, T(scale * ce), rows(grad, 0, half), false);
    gradient(ctx, y2, nullptr, y1, nullptr, T(scale * ce), rows(grad, half, n - half), false);
    // S is positively homogeneous of degree r in (y1, y2) jointly (Euler):
    // r S = sum_i <y1_i, dS/dy1_i> + sum_j <y2_j, dS/dy2_j>, so the gradients give the value
    // without another pass over the pairs.
    dot_rows_.run(ctx, DotRow<T>{y.data, grad.data}, n * y.cols);
    const double cv = 1.0 / double(n), euler = r_ * double(scale);
    if (m_ > 0) {
      target_energy(ctx, y);
      target_gradient(ctx, y, T(scale * cv), grad);
    }
    return [this, cv, euler](const Context& c) {
      double f = energy_nu_;
      f += dot_rows_.sum(c) / euler;
      if (m_ > 0) f += cv * target_sum(c);
      return f;
    };
  }

  double batch_directional(const Context& ctx, ConstPointsView<T> y, ConstPointsView<T> v, T scale,
                           PointsView<T> grad_v) override {
    if (sliced_) {
      // Away from ties the sliced estimate F^ is differentiable, so D_v F^ = <∇F^(y), v> and
      // dD/dv = ∇F^(y). (At ties it uses sign(0) = 0 and misses the right derivative |v_i - v_j|:
      // config validation keeps the sliced forward scheme away from atoms.)
      const index_t count = y.rows * y.cols;
      const PointsView<T> g(sliced_grad_.data(), y.rows, y.cols, sliced_grad_.device());
      batch_value(ctx, y, T(1), g);
      const double dv = reduce_rows(ctx, DotRow<T>{g.data, v.data}, count);
      if (grad_v.data) axpby(ctx, count, scale, g.data, T(0), grad_v.data);
      return dv;
    }
    const index_t n = y.rows, half = n / 2;
    const double ce = -0.5 / (double(half) * double(n - half));
    index_t coincident = 0;
    directional(ctx, rows(y, 0, half), rows(v, 0, half), nullptr, rows(y, half, n - half),
                rows(v, half, n - half), nullptr, rows(grad_v, 0, half),
                rows(grad_v, half, n - half), T(scale * ce), false, &coincident);
    double dv = ce * scalar_.get(ctx);
    check_coincident(coincident);
    if (m_ > 0) {
      const double cv = 1.0 / double(n);
      target_directional(ctx, y, v, grad_v, T(scale * cv), &coincident);
      dv += cv * target_sum(ctx);
      check_coincident(coincident);
    }
    return dv;
  }

  // batch_directional's passes with D's sums and the coincident-pair counts left on the device.
  std::optional<DeferredDirectional> batch_directional_deferred(const Context& ctx,
                                                                ConstPointsView<T> y,
                                                                ConstPointsView<T> v, T scale,
                                                                PointsView<T> grad_v) override {
    // Across ranks the CPU splits the passes (batch_directional); CUDA runs them whole on every
    // rank (pairwise_ranks.hpp), so it keeps this path, one GPU process's.
    if ((distributed() && !ctx.is_cuda()) || sharded_target_) return std::nullopt;
    DeferredDirectional res;
    if (sliced_) {
      const index_t count = y.rows * y.cols;
      const PointsView<T> g(sliced_grad_.data(), y.rows, y.cols, sliced_grad_.device());
      (void)batch_value_deferred(ctx, y, T(1), g);  // its gradient only
      dir_rows_.run(ctx, DotRow<T>{g.data, v.data}, count);
      if (grad_v.data) axpby(ctx, count, scale, g.data, T(0), grad_v.data);
      res.value.terms[0] = dir_rows_.term();
      res.value.count = 1;
      return res;
    }
    const index_t n = y.rows, half = n / 2;
    const double ce = -0.5 / (double(half) * double(n - half));
    // Only r < 1 refuses coincident pairs (refuse_forward_at_atoms): count them then.
    const bool count = r_ < 1;
    index_t* counts = count ? dir_counts_.data() : nullptr;
    if (count) fill_zero(ctx, dir_counts_);
    riesz_directional_device_count<T>(
        ctx, rows(y, 0, half), rows(v, 0, half), nullptr, rows(y, half, n - half),
        rows(v, half, n - half), nullptr, r_, dir_sums_.data(), rows(grad_v, 0, half),
        rows(grad_v, half, n - half), T(scale * ce), false, counts, &ws_);
    res.value.terms[0] = DeviceTerm{dir_sums_.data(), 0, ce};
    res.value.count = 1;
    if (m_ > 0) {
      const double cv = 1.0 / double(n);
      riesz_directional_device_count<T>(ctx, y, v, nullptr, tview(), zero_view(), b_.data(), r_,
                                        dir_sums_.data() + 1, grad_v, PointsView<T>(),
                                        T(scale * cv), true, count ? counts + 1 : nullptr, &ws_);
      res.value.terms[1] = DeviceTerm{dir_sums_.data() + 1, 0, cv};
      res.value.count = 2;
    }
    if (count) {
      // batch_directional's order: the pairs within the batch first, then those with the target.
      res.check = [this](const Context& c) {
        const std::vector<index_t> k = download(c, dir_counts_);
        check_coincident(k[0]);
        check_coincident(k[1]);
      };
    }
    return res;
  }

  // Across ranks on the CPU (every rank calls it then) the pair passes are split as the batch
  // terms' (energy(): pair_energy_ranks, the same bits; the self pass of d <= 3 runs whole on
  // every rank); the CUDA backend evaluates it whole on every rank.
  double value(const Context& ctx, ConstPointsView<T> x) override {
    whole_target("F(samples)");
    const double n = double(x.rows);
    const bool split = distributed() && !ctx.is_cuda();
    const auto pass = [&](ConstPointsView<T> y, const T* b) {
      if (split) {
        energy(ctx, x, nullptr, y, b);
      } else {
        riesz_energy<T>(ctx, x, nullptr, y, b, r_, scalar_.ptr(), &ws_);
      }
      return scalar_.get(ctx);
    };
    double f = -0.5 * pass(x, nullptr) / (n * n) + energy_nu_;
    if (m_ > 0) f += pass(tview(), b_.data()) / n;
    return f;
  }

  void particle_gradient(const Context& ctx, ConstPointsView<T> x, T scale,
                         PointsView<T> grad) override {
    // M ∇F_M = -(1/M) sum_j r |x_i - x_j|^{r-2} (x_i - x_j) + sum_j b_j ∇|x_i - t_j|^r.
    whole_target("the particle gradient");
    const double n = double(x.rows);
    if (sliced_) {
      sliced_gradient_ranks<T>(ctx, comm_ ? *comm_ : single_process_comm(), *sliced_, x, tview(),
                               nullptr, nullptr, T(scale * (-0.5 / n)),
                               T(m_ > 0 ? scale / double(m_) : 0), grad, false, sliced_ranks_);
      return;
    }
    gradient(ctx, x, nullptr, x, nullptr, T(-scale / n), grad, false);
    if (m_ > 0) gradient(ctx, x, nullptr, tview(), b_.data(), scale, grad, true);
  }

  // The particle gradient (exact: kernels/pairwise_ranks.hpp; sliced: sliced_ranks.hpp), the
  // exact batch terms (value, gradient, directional derivative) and value() run across ranks.
  bool set_comm(const Comm* comm) override {
    comm_ = comm;
    return true;
  }

  void draw(const Context& ctx, std::uint64_t seed, std::uint64_t stream,
            std::uint64_t counter) override {
    if (sliced_) sliced_->draw_directions(ctx, seed, stream, counter);
  }

 private:
  template <class View>
  static View rows(View v, index_t first, index_t count) {
    v.data = v.data ? v.data + first * v.ld : nullptr;
    v.rows = count;
    return v;
  }
  // The pair passes, across the ranks of comm_ when there are several (the same bits).
  bool distributed() const { return comm_ && comm_->size() > 1; }
  // Sharded target: what needs the whole target or all samples runs in the sharded runner.
  void whole_target(const char* what) const {
    if (sharded_target_) {
      throw_runtime(std::string("RieszFunctional: ") + what +
                    " with a sharded target runs in schemes/run/sharded_loop.cpp");
    }
  }
  // The batch y (the same on every rank) against the target: S = sum_ij b_j |y_i - t_j|^r
  // (target_sum); grad += scale dS/dy. Sharded target: each rank passes its rows owned_rows(2B)
  // of y and the target streams past (kernels/pairwise_sharded.hpp: every row and S bit for bit
  // one process's row pass; on CUDA S on the 64-row grid), S on the host (sharded_sum_: the
  // sharded passes' out is a host pointer on both backends); the gradient's rows are then
  // allgathered (on CUDA over NCCL).
  void target_energy(const Context& ctx, ConstPointsView<T> y) {
    if (!sharded_target_) return energy(ctx, y, nullptr, tview(), b_.data());
    const auto [y0, y1] = owned_rows(y.rows, comm_->rank(), comm_->size());
    pair_energy_sharded<T>(ctx, *comm_, PairFamily::riesz, r_, rows(y, y0, y1 - y0), nullptr,
                           y.rows, tview(), b_.data(), m_, &sharded_sum_);
  }
  // The last target term's S (target_energy) or D (target_directional).
  double target_sum(const Context& ctx) const {
    return sharded_target_ ? sharded_sum_ : scalar_.get(ctx);
  }
  void target_gradient(const Context& ctx, ConstPointsView<T> y, T scale, PointsView<T> grad) {
    if (!sharded_target_) return gradient(ctx, y, nullptr, tview(), b_.data(), scale, grad, true);
    if (grad.ld != grad.cols) throw_runtime("RieszFunctional: a strided gradient view");
    const int ranks = comm_->size();
    const auto [y0, y1] = owned_rows(y.rows, comm_->rank(), ranks);
    pair_gradient_sharded<T>(ctx, *comm_, PairFamily::riesz, r_, rows(y, y0, y1 - y0), nullptr,
                             y.rows, tview(), b_.data(), m_, scale, rows(grad, y0, y1 - y0), true);
    allgather_own_rows(ctx, grad);
  }
  // The target term of the directional derivative (the target fixed: w = 0): D (target_sum),
  // grad_v += scale dD/dv (grad_v.data null: none), *coincident <- the coincident pairs.
  void target_directional(const Context& ctx, ConstPointsView<T> y, ConstPointsView<T> v,
                          PointsView<T> grad_v, T scale, index_t* coincident) {
    if (!sharded_target_) {
      return directional(ctx, y, v, nullptr, tview(), zero_view(), b_.data(), grad_v,
                         PointsView<T>(), scale, true, coincident);
    }
    if (grad_v.data && grad_v.ld != grad_v.cols) {
      throw_runtime("RieszFunctional: a strided gradient view");
    }
    const auto [y0, y1] = owned_rows(y.rows, comm_->rank(), comm_->size());
    riesz_directional_sharded<T>(ctx, *comm_, rows(y, y0, y1 - y0), rows(v, y0, y1 - y0), nullptr,
                                 y.rows, tview(), zero_view(), b_.data(), m_, r_, &sharded_sum_,
                                 rows(grad_v, y0, y1 - y0), scale, true, coincident);
    if (grad_v.data) allgather_own_rows(ctx, grad_v);
  }
  // Sharded: every rank's rows owned_rows(g.rows) of g (contiguous) to every rank (on CUDA on the
  // device over the DeviceComm, bytes only).
  void allgather_own_rows(const Context& ctx, PointsView<T> g) const {
    const int ranks = comm_->size();
    if (ranks == 1) return;
    const std::vector<index_t> starts = owned_row_starts(g.rows, ranks);
    const std::size_t row_bytes = std::size_t(g.cols) * sizeof(T);
    std::vector<std::size_t> counts(static_cast<std::size_t>(ranks)),
        offsets(static_cast<std::size_t>(ranks));
    for (int q = 0; q < ranks; ++q) {
      offsets[std::size_t(q)] = std::size_t(starts[std::size_t(q)]) * row_bytes;
      counts[std::size_t(q)] =
          std::size_t(starts[std::size_t(q) + 1] - starts[std::size_t(q)]) * row_bytes;
    }
    if (!ctx.is_cuda()) return comm_->allgather(g.data, counts, offsets);
    const auto* device = dynamic_cast<const DeviceComm*>(comm_);
    if (!device) throw_runtime("RieszFunctional: the CUDA backend across ranks needs a DeviceComm");
    device->device_allgather(g.data, counts, offsets);
  }
  void energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
              const T* b) {
    if (distributed()) {
      pair_energy_ranks<T>(ctx, *comm_, PairFamily::riesz, r_, x, a, y, b, scalar_.ptr());
    } else {
      riesz_energy<T>(ctx, x, a, y, b, r_, scalar_.ptr(), &ws_);
    }
  }
  void gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                const T* b, T scale, PointsView<T> grad, bool accumulate) {
    if (distributed()) {
      pair_gradient_ranks<T>(ctx, *comm_, PairFamily::riesz, r_, x, a, y, b, scale, grad,
                             accumulate);
    } else {
      riesz_gradient<T>(ctx, x, a, y, b, r_, scale, grad, accumulate, &ws_);
    }
  }
  void directional(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> v, const T* a,
                   ConstPointsView<T> y, ConstPointsView<T> w, const T* b, PointsView<T> grad_v,
                   PointsView<T> grad_w, T scale, bool accumulate, index_t* coincident) {
    if (distributed()) {
      riesz_directional_ranks<T>(ctx, *comm_, x, v, a, y, w, b, r_, scalar_.ptr(), grad_v, grad_w,
                                 scale, accumulate, coincident);
    } else {
      riesz_directional<T>(ctx, x, v, a, y, w, b, r_, scalar_.ptr(), grad_v, grad_w, scale,
                           accumulate, coincident, &ws_);
    }
  }
  // The target's rows this rank holds (all of them unless sharded).
  ConstPointsView<T> tview() const {
    return ConstPointsView<T>(target_.data(), m_own_, d_, target_.device());
  }
  ConstPointsView<T> zero_view() const {
    return ConstPointsView<T>(zero_w_.data(), m_own_, d_, zero_w_.device());
  }
  void check_coincident(index_t coincident) const { refuse_coincident(r_, coincident); }

  double r_;
  index_t d_, m_ = 0, m_own_ = 0;  // target rows in all, and held here
  bool uniform_b_ = true;
  double energy_nu_ = 0;
  Buffer<T> target_, b_, zero_w_;
  Scalar scalar_;
  PairwiseWorkspace ws_;
  std::optional<SlicedRiesz<T>> sliced_;
  Buffer<T> sliced_grad_;       // (max_rows, d)
  Buffer<double> sliced_sums_;  // S_xx, S_xy
  RowPartials dot_rows_;        // the Euler sum of the exact batch value
  RowPartials dir_rows_;        // the sliced D = <grad F^, v> (batch_directional_deferred)
  Buffer<double> dir_sums_;     // the exact D's two sums (batch_directional_deferred)
  Buffer<index_t> dir_counts_;  // and their coincident-pair counts
  const Comm* comm_ = nullptr;
  SlicedRanksBuffers<T> sliced_ranks_;  // the transpose's space across ranks
  bool sharded_target_ = false;         // target_ holds this rank's rows only
  double sharded_sum_ = 0;              // and the last target term's S or D (host)
};

// Energy (33): F(mu) = ∫ 1{x<0}|y| - x dmu - 1/2 ∫∫ 1{x1>=0} 1{x2>=0} |y1 - y2|^r dmu dmu.
// The potential runs as Energy33Row (scheme_ops.hpp); the interaction is the pairwise Riesz sum
// of the y coordinates (column views, ld 2) weighted by the masks a_i = 1{x_i >= 0}. The
// indicators' jumps are not differentiated (they move nothing a.e.).
template <class T>
class Energy33 final : public Functional<T> {
 public:
  Energy33(const Context& ctx, double r, index_t max_rows)
      : r_(r),
        cuda_(ctx.is_cuda()),
        mask_(ctx, max_rows),
        scalar_(ctx),
        gradient_rows_(ctx, max_rows),
        value_rows_(ctx, max_rows),
        dir_rows_(ctx, max_rows),
        dir_sum_(ctx, 1),
        dir_count_(ctx, 1) {}

  double batch_value(const Context& ctx, ConstPointsView<T> y, T scale,
                     PointsView<T> grad) override {
    return batch_value_deferred(ctx, y, scale, grad)(ctx);
  }

  // The potential's row sum (partials) and the interaction's sum stay on the device until the
  // value is read: capturable.
  DeferredValue batch_value_deferred(const Context& ctx, ConstPointsView<T> y, T scale,
                                     PointsView<T> grad) override {
    const index_t n = y.rows, half = n / 2;
    value_rows_.run(ctx, Energy33Row<T>{y.data, nullptr, T(scale / double(n)), grad.data,
                                        mask_.data()}, n);
    const double ce = -0.5 / (double(half) * double(n - half));
    const auto c1 = column(y, 0, half), c2 = column(y, half, n - half);
    const T *a1 = mask_.data(), *a2 = mask_.data() + half;
    if (distributed() && !cuda_) {
      pair_energy_ranks<T>(ctx, *comm_, PairFamily::riesz, r_, c1, a1, c2, a2, scalar_.ptr());
    } else {
      riesz_energy<T>(ctx, c1, a1, c2, a2, r_, scalar_.ptr(), &ws_);
    }
    if (grad.data) {
      gradient(ctx, c1, a1, c2, a2, T(scale * ce), column(grad, 0, half), !cuda_);
      gradient(ctx, c2, a2, c1, a1, T(scale * ce), column(grad, half, n - half), !cuda_);
    }
    return [this, n, ce](const Context& c) {
      const double p = value_rows_.sum(c);
      const double e = ce * scalar_.get(c);
      return p / double(n) + e;
    };
  }

  double batch_directional(const Context& ctx, ConstPointsView<T> y, ConstPointsView<T> v, T scale,
                           PointsView<T> grad_v) override {
    const index_t n = y.rows, half = n / 2;
    const double p = reduce_rows(
        ctx, Energy33Row<T>{y.data, v.data, T(scale / double(n)), grad_v.data, mask_.data()}, n);
    const double ce = -0.5 / (double(half) * double(n - half));
    const T *a1 = mask_.data(), *a2 = mask_.data() + half;
    index_t coincident = 0;
    if (distributed() && !cuda_) {
      riesz_directional_ranks<T>(ctx, *comm_, column(y, 0, half), column(v, 0, half), a1,
                                 column(y, half, n - half), column(v, half, n - half), a2, r_,
                                 scalar_.ptr(), column(grad_v, 0, half),
                                 column(grad_v, half, n - half), T(scale * ce), true, &coincident);
    } else {
      riesz_directional<T>(ctx, column(y, 0, half), column(v, 0, half), a1,
                           column(y, half, n - half), column(v, half, n - half), a2, r_,
                           scalar_.ptr(), column(grad_v, 0, half), column(grad_v, half, n - half),
                           T(scale * ce), true, &coincident, &ws_);
    }
    refuse_coincident(r_, coincident);
    return p / double(n) + ce * scalar_.get(ctx);
  }

  // batch_directional on one rank with the row sum's partials, the masked interaction's sum and
  // (r < 1) its coincident-pair count left on the device: D = p / n + ce S, the host's order.
  std::optional<DeferredDirectional> batch_directional_deferred(const Context& ctx,
                                                                ConstPointsView<T> y,
                                                                ConstPointsView<T> v, T scale,
                                                                PointsView<T> grad_v) override {
    if (distributed()) return std::nullopt;
    const index_t n = y.rows, half = n / 2;
    dir_rows_.run(ctx, Energy33Row<T>{y.data, v.data, T(scale / double(n)), grad_v.data,
                                      mask_.data()}, n);
    const double ce = -0.5 / (double(half) * double(n - half));
    const T *a1 = mask_.data(), *a2 = mask_.data() + half;
    const bool count = r_ < 1;
    if (count) fill_zero(ctx, dir_count_);
    riesz_directional_device_count<T>(
        ctx, column(y, 0, half), column(v, 0, half), a1, column(y, half, n - half),
        column(v, half, n - half), a2, r_, dir_sum_.data(), column(grad_v, 0, half),
        column(grad_v, half, n - half), T(scale * ce), true, count ? dir_count_.data() : nullptr,
        &ws_);
    DeferredDirectional res;
    res.value.terms[0] = dir_rows_.term();
    res.value.terms[0].div = double(n);
    res.value.terms[1] = DeviceTerm{dir_sum_.data(), 0, ce};
    res.value.count = 2;
    if (count) {
      res.check = [this](const Context& c) { refuse_coincident(r_, download(c, dir_count_)[0]); };
    }
    return res;
  }

  double value(const Context& ctx, ConstPointsView<T> x) override {
    const index_t n = x.rows;
    const double p =
        reduce_rows(ctx, Energy33Row<T>{x.data, nullptr, T(0), nullptr, mask_.data()}, n);
    const auto c = column(x, 0, n);
    riesz_energy<T>(ctx, c, mask_.data(), c, mask_.data(), r_, scalar_.ptr(), &ws_);
    return p / double(n) - 0.5 * scalar_.get(ctx) / (double(n) * double(n));
  }

  void particle_gradient(const Context& ctx, ConstPointsView<T> x, T scale,
                         PointsView<T> grad) override {
    const index_t n = x.rows;
    // The rows write grad and the mask; their sum (the potential) is not needed here.
    gradient_rows_.run(ctx, Energy33Row<T>{x.data, nullptr, scale, grad.data, mask_.data()}, n);
    const auto c = column(x, 0, n);
    gradient(ctx, c, mask_.data(), c, mask_.data(), T(-scale / double(n)), column(grad, 0, n));
  }

  // The pair passes of the particle gradient (on CUDA too: the rows' spans of the strided y
  // column gathered over NCCL, the potential's x column between them the same on every rank)
  // and, on the CPU, of the batch terms (value, gradient, directional derivative) run across
  // ranks (kernels/pairwise_ranks.hpp); the potential's rows (O(N)), value() and on CUDA the
  // batch terms run whole on every rank that calls them.
  bool set_comm(const Comm* comm) override {
    comm_ = comm;
    return true;
  }

 private:
  // The y coordinates of rows [first, first + count) as an (count, 1) view with ld 2.
  template <class View>
  static View column(View v, index_t first, index_t count) {
    if (!v.data) return View();
    return View(v.data + first * v.ld + 1, count, 1, v.ld, v.device);
  }

  bool distributed() const { return comm_ && comm_->size() > 1; }
  // grad (+)= scale dS/dx of the weighted Riesz sum, across the ranks when there are several.
  void gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                const T* b, T scale, PointsView<T> grad, bool split = true) {
    if (distributed() && split) {
      pair_gradient_ranks<T>(ctx, *comm_, PairFamily::riesz, r_, x, a, y, b, scale, grad, true);
    } else {
      riesz_gradient<T>(ctx, x, a, y, b, r_, scale, grad, true, &ws_);
    }
  }

  double r_;
  bool cuda_;
  const Comm* comm_ = nullptr;
  Buffer<T> mask_;
  Scalar scalar_;
  PairwiseWorkspace ws_;
  RowPartials gradient_rows_;
  RowPartials value_rows_;  // the potential's row sum of the batch value
  RowPartials dir_rows_;    // batch_directional_deferred's: the potential's row sum,
  Buffer<double> dir_sum_;  // the masked interaction's sum
  Buffer<index_t> dir_count_;  // and its coincident pairs (r < 1)
};

}  // namespace

FunctionalSpec functional_spec(const FlowConfig& cfg) {
  FunctionalSpec s;
  s.kind = cfg.functional;
  s.r = cfg.r;
  s.estimator = cfg.estimator;
  s.directions = cfg.directions;
  s.weights = cfg.weights;
  s.kernel = cfg.kernel;
  s.gamma = cfg.gamma;
  s.target = cfg.target;
  s.terms = cfg.terms;
  return s;
}

template <class T>
std::unique_ptr<Functional<T>> make_functional(const Context& ctx, const FunctionalSpec& spec,
                                               index_t d, index_t max_rows,
                                               const std::vector<WeightedPoints>& targets) {
  if (spec.kind == FunctionalKind::potential) return make_potential<T>(ctx, spec.target, d, max_rows);
  if (spec.kind == FunctionalKind::sum) {
    std::vector<std::pair<double, std::unique_ptr<Functional<T>>>> terms;
    for (const FunctionalTerm& t : spec.terms) {
      if (t.kind == FunctionalKind::potential) {
        terms.emplace_back(t.weight, make_potential<T>(ctx, spec.target, d, max_rows));
      } else if (t.kind == FunctionalKind::interaction) {
        terms.emplace_back(t.weight, make_kernel_interaction<T>(ctx, t.kernel, t.r));
      }
    }
    return make_sum<T>(ctx, std::move(terms), d, max_rows);
  }
  if (spec.kind == FunctionalKind::energy33) {
    if (d != 2) throw_bad_input("initial.d: energy33 is defined for d = 2");
    return std::make_unique<Energy33<T>>(ctx, spec.r, max_rows);
  }
  for (const auto& t : targets) {
    if (t.x.cols != d) {
      throw_bad_input("target: the target points have d = " + std::to_string(t.x.cols) +
                      ", the samples d = " + std::to_string(d));
    }
    if (t.x.rows < 1) throw_bad_input("target: the target measure has no points");
  }
  if (spec.kernel == KernelKind::gaussian) return make_gaussian_mmd<T>(ctx, spec.gamma, d, targets);
  if (spec.kernel != KernelKind::riesz) {
    if (spec.kind != FunctionalKind::interaction || spec.estimator != Estimator::exact) {
      throw_bad_input("functional.kernel: an interaction kernel W needs kind = \"interaction\" "
                      "and the exact estimator");
    }
    return make_kernel_interaction<T>(ctx, spec.kernel);
  }
  return std::make_unique<RieszFunctional<T>>(ctx, spec, d, max_rows, targets);
}

template <class T>
std::unique_ptr<Functional<T>> make_functional(const Context& ctx, const FunctionalSpec& spec,
                                               index_t d, index_t max_rows,
                                               const std::vector<HostMatrix<double>>& targets) {
  std::vector<WeightedPoints> w;
  for (const auto& t : targets) w.push_back({t, {}});
  return make_functional<T>(ctx, spec, d, max_rows, w);
}

template <class T>
std::unique_ptr<Functional<T>> make_sharded_target_functional(const Context& ctx, double r,
                                                              index_t d, index_t max_rows,
                                                              const Comm& comm,
                                                              ConstPointsView<T> t_own,
                                                              const T* b_own, index_t m,
                                                              double energy_nu) {
  return std::make_unique<RieszFunctional<T>>(ctx, r, d, max_rows, comm, t_own, b_own, m,
                                              energy_nu);
}
template std::unique_ptr<Functional<float>> make_sharded_target_functional<float>(
    const Context&, double, index_t, index_t, const Comm&, ConstPointsView<float>, const float*,
    index_t, double);
template std::unique_ptr<Functional<double>> make_sharded_target_functional<double>(
    const Context&, double, index_t, index_t, const Comm&, ConstPointsView<double>, const double*,
    index_t, double);

#define NWGF_INSTANTIATE(T, Targets)                                                         \
  template std::unique_ptr<Functional<T>> make_functional<T>(const Context&, const FunctionalSpec&, \
                                                             index_t, index_t, const Targets&);
NWGF_INSTANTIATE(float, std::vector<WeightedPoints>)
NWGF_INSTANTIATE(double, std::vector<WeightedPoints>)
NWGF_INSTANTIATE(float, std::vector<HostMatrix<double>>)
NWGF_INSTANTIATE(double, std::vector<HostMatrix<double>>)
#undef NWGF_INSTANTIATE

}  // namespace nwgf
