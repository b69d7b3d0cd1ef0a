#include "nwgf/schemes/functional_gaussian.hpp"

#include <cmath>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"

namespace nwgf {
namespace {

template <class T>
class GaussianMmd final : public Functional<T> {
 public:
  GaussianMmd(const Context& ctx, double gamma, index_t d, const WeightedPoints& target)
      : sigma_(std::sqrt(0.5 / gamma)),
        d_(d),
        m_(target.x.rows),
        cuda_(ctx.is_cuda()),
        scalar_(ctx, 1),
        sums_(ctx, 2) {
    std::vector<T> t(target.x.data.begin(), target.x.data.end());
    std::vector<T> b(std::size_t(m_), T(1.0 / double(m_)));
    for (std::size_t j = 0; j < target.w.size(); ++j) b[j] = T(target.w[j]);
    target_ = upload(ctx, t);
    b_ = upload(ctx, b);
    energy_nu_ = 0.5 * energy(ctx, tview(), b_.data(), tview(), b_.data());
  }

  double batch_value(const Context& ctx, ConstPointsView<T> y, T scale,
                     PointsView<T> grad) override {
    return batch_value_deferred(ctx, y, scale, grad)(ctx);
  }

  // The two energies stay on the device (sums_) until the value is read: capturable.
  DeferredValue batch_value_deferred(const Context& ctx, ConstPointsView<T> y, T scale,
                                     PointsView<T> grad) override {
    const index_t n = y.rows, half = n / 2;
    const auto y1 = rows(y, 0, half), y2 = rows(y, half, n - half);
    const double ce = 0.5 / (double(y1.rows) * double(y2.rows)), cv = -1.0 / double(n);
    if (distributed() && !cuda_) {
      pair_energy_ranks<T>(ctx, *comm_, PairFamily::gaussian, sigma_, y1, nullptr, y2, nullptr,
                           sums_.data());
      pair_energy_ranks<T>(ctx, *comm_, PairFamily::gaussian, sigma_, y, nullptr, tview(),
                           b_.data(), sums_.data() + 1);
    } else {
      gaussian_energy<T>(ctx, y1, nullptr, y2, nullptr, sigma_, sums_.data(), &ws_);
      gaussian_energy<T>(ctx, y, nullptr, tview(), b_.data(), sigma_, sums_.data() + 1, &ws_);
    }
    if (grad.data) {
      const bool split = !cuda_;
      gradient(ctx, y1, nullptr, y2, nullptr, T(scale * ce), rows(grad, 0, half), false, split);
      gradient(ctx, y2, nullptr, y1, nullptr, T(scale * ce), rows(grad, half, n - half), false,
               split);
      gradient(ctx, y, nullptr, tview(), b_.data(), T(scale * cv), grad, true, split);
    }
    return [this, ce, cv](const Context& c) {
      const std::vector<double> s = download(c, sums_);
      return energy_nu_ + ce * s[0] + cv * s[1];
    };
  }

  double batch_directional(const Context&, ConstPointsView<T>, ConstPointsView<T>, T,
                           PointsView<T>) override {
    throw_bad_input("functional.kernel: the forward scheme needs the Riesz kernel");
  }

  double value(const Context& ctx, ConstPointsView<T> x) override {
    const double n = double(x.rows);
    return 0.5 * energy(ctx, x, nullptr, x, nullptr) / (n * n) -
           energy(ctx, x, nullptr, tview(), b_.data()) / n + energy_nu_;
  }

  void particle_gradient(const Context& ctx, ConstPointsView<T> x, T scale,
                         PointsView<T> grad) override {
    const double n = double(x.rows);
    gradient(ctx, x, nullptr, x, nullptr, T(scale / n), grad, false);
    gradient(ctx, x, nullptr, tview(), b_.data(), T(-scale), grad, true);
  }

  // The particle gradient runs across ranks (kernels/pairwise_ranks.hpp: the same bits; on
  // CUDA the comm is the run's DeviceComm, rows gathered over NCCL), and so do the batch terms
  // (value and gradient) on the CPU; on CUDA they run whole on every rank (replicated: across
  // ranks the CUDA backend steps only the particle and ift schemes, which call the particle
  // gradient alone). value() stays on the rank that calls it.
  bool set_comm(const Comm* comm) override {
    comm_ = comm;
    return true;
  }

 private:
  template <class View>
  static View rows(View v, index_t first, index_t count) {
    v.data = v.data ? v.data + first * v.ld : nullptr;
    v.rows = count;
    return v;
  }
  ConstPointsView<T> tview() const {
    return ConstPointsView<T>(target_.data(), m_, d_, target_.device());
  }
  double energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                const T* b) {
    gaussian_energy<T>(ctx, x, a, y, b, sigma_, scalar_.data(), &ws_);
    double v = 0;
    copy_to_host(ctx, &v, scalar_);
    return v;
  }
  // The pair passes across the ranks of comm_ when there are several (every rank makes the
  // batch and particle calls; value() is made by one rank alone and stays local).
  bool distributed() const { return comm_ && comm_->size() > 1; }
  void gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                const T* b, T scale, PointsView<T> grad, bool accumulate, bool split = true) {
    if (distributed() && split) {
      pair_gradient_ranks<T>(ctx, *comm_, PairFamily::gaussian, sigma_, x, a, y, b, scale, grad,
                             accumulate);
    } else {
      gaussian_gradient<T>(ctx, x, a, y, b, sigma_, scale, grad, accumulate, &ws_);
    }
  }

  double sigma_;
  index_t d_, m_;
  bool cuda_;
  const Comm* comm_ = nullptr;
  Buffer<T> target_, b_;
  Buffer<double> scalar_;
  Buffer<double> sums_;  // the batch value's two energies (batch_value_deferred)
  double energy_nu_ = 0;
  PairwiseWorkspace ws_;
};

}  // namespace

template <class T>
std::unique_ptr<Functional<T>> make_gaussian_mmd(const Context& ctx, double gamma, index_t d,
                                                 const std::vector<WeightedPoints>& targets) {
  if (targets.size() != 1) throw_bad_input("functional.kernel: gaussian needs one [target]");
  return std::make_unique<GaussianMmd<T>>(ctx, gamma, d, targets[0]);
}

template std::unique_ptr<Functional<float>> make_gaussian_mmd<float>(
    const Context&, double, index_t, const std::vector<WeightedPoints>&);
template std::unique_ptr<Functional<double>> make_gaussian_mmd<double>(
    const Context&, double, index_t, const std::vector<WeightedPoints>&);

}  // namespace nwgf
