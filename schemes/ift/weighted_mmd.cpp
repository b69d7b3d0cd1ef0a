#include "nwgf/schemes/ift/weighted_mmd.hpp"

#include <cmath>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/schemes/scheme_ops.hpp"

namespace nwgf {

IftKernel IftKernel::make(KernelKind kind, double gamma, double r) {
  IftKernel k;
  if (kind == KernelKind::gaussian) {
    k.family = PairFamily::gaussian;
    k.param = std::sqrt(0.5 / gamma);  // exp(-gamma s) = exp(-s / (2 sigma^2))
    k.sign = 1;
  } else {
    k.family = PairFamily::riesz;
    k.param = r;
    k.sign = -1;
  }
  return k;
}

template <class T>
WeightedMmd<T>::WeightedMmd(const Context& ctx, IftKernel kernel, index_t d,
                            const WeightedPoints& target)
    : k_(kernel), d_(d), m_(target.x.rows), scalar_(ctx, 1) {
  if (target.x.cols != d) {
    throw_bad_input("target: the target points have d = " + std::to_string(target.x.cols) +
                    ", the particles d = " + std::to_string(d));
  }
  if (m_ < 1) throw_bad_input("target: the target measure has no points");
  y_ = Buffer<T>(ctx, m_ * d_);
  b_ = Buffer<T>(ctx, m_);
  set_target(ctx, target);
}

template <class T>
void WeightedMmd<T>::set_target(const Context& ctx, const WeightedPoints& target) {
  if (target.x.rows != m_ || target.x.cols != d_) {
    throw_runtime("WeightedMmd::set_target: the target's shape changed");
  }
  const std::vector<T> y(target.x.data.begin(), target.x.data.end());
  std::vector<T> b(std::size_t(m_), T(1.0 / double(m_)));
  for (std::size_t j = 0; j < target.w.size(); ++j) b[j] = T(target.w[j]);
  copy_from_host(ctx, y_, y.data(), m_ * d_);
  copy_from_host(ctx, b_, b.data(), m_);
  yy_ = energy(ctx, yview(), b_.data(), yview(), b_.data());
  yy_stale_ = false;
}

template <class T>
double WeightedMmd<T>::energy(const Context& ctx, ConstPointsView<T> x, const T* a,
                              ConstPointsView<T> y, const T* b) {
  if (k_.family == PairFamily::gaussian) {
    gaussian_energy<T>(ctx, x, a, y, b, k_.param, scalar_.data(), &ws_);
  } else {
    riesz_energy<T>(ctx, x, a, y, b, k_.param, scalar_.data(), &ws_);
  }
  double v = 0;
  copy_to_host(ctx, &v, scalar_);
  return v;
}

template <class T>
double WeightedMmd<T>::mmd2(const Context& ctx, ConstPointsView<T> x, const T* w) {
  if (yy_stale_) {
    yy_ = energy(ctx, yview(), b_.data(), yview(), b_.data());
    yy_stale_ = false;
  }
  const double xx = energy(ctx, x, w, x, w);
  const double xy = energy(ctx, x, w, yview(), b_.data());
  return k_.sign * (xx - 2 * xy + yy_);
}

template <class T>
void WeightedMmd<T>::witness(const Context& ctx, ConstPointsView<T> x_eval,
                             ConstPointsView<T> x_wit, const T* w, T* g) {
  if (rows_distributed(ctx)) {
    pair_row_sums_ranks<T>(ctx, *comm_, k_.family, k_.param, x_eval, nullptr, x_wit, w,
                           T(k_.sign), g, false);
    pair_row_sums_ranks<T>(ctx, *comm_, k_.family, k_.param, x_eval, nullptr, yview(), b_.data(),
                           T(-k_.sign), g, true);
    return;
  }
  pair_row_sums<T>(ctx, k_.family, k_.param, x_eval, nullptr, x_wit, w, T(k_.sign), g, false,
                   &ws_);
  pair_row_sums<T>(ctx, k_.family, k_.param, x_eval, nullptr, yview(), b_.data(), T(-k_.sign), g,
                   true, &ws_);
}

// One gradient pass of the kernel's family (pair_gradient is what riesz_gradient and
// gaussian_gradient run), across the ranks when there are several.
template <class T>
void WeightedMmd<T>::gradient(const Context& ctx, ConstPointsView<T> x, const T* a,
                              ConstPointsView<T> y, const T* b, T scale, PointsView<T> grad,
                              bool accumulate) {
  if (distributed()) {
    pair_gradient_ranks<T>(ctx, *comm_, k_.family, k_.param, x, a, y, b, scale, grad, accumulate);
  } else {
    pair_gradient<T>(ctx, k_.family, k_.param, x, a, y, b, scale, grad, accumulate, &ws_);
  }
}

template <class T>
void WeightedMmd<T>::witness_gradient(const Context& ctx, ConstPointsView<T> x_eval, const T* a,
                                      ConstPointsView<T> x_wit, const T* w, T scale,
                                      PointsView<T> grad) {
  const T s = T(double(scale) * k_.sign);
  if (distributed()) {
    gradient(ctx, x_eval, a, x_wit, w, s, grad, false);
    gradient(ctx, x_eval, a, yview(), b_.data(), T(-s), grad, true);
    return;
  }
  if (k_.family == PairFamily::gaussian) {
    gaussian_gradient<T>(ctx, x_eval, a, x_wit, w, k_.param, s, grad, false, &ws_);
    gaussian_gradient<T>(ctx, x_eval, a, yview(), b_.data(), k_.param, T(-s), grad, true, &ws_);
  } else {
    riesz_gradient<T>(ctx, x_eval, a, x_wit, w, k_.param, s, grad, false, &ws_);
    riesz_gradient<T>(ctx, x_eval, a, yview(), b_.data(), k_.param, T(-s), grad, true, &ws_);
  }
}

template <class T>
void WeightedMmd<T>::witness_and_target_gradient(const Context& ctx, ConstPointsView<T> x,
                                                 const T* w, T* g, PointsView<T> target_grad) {
  // The target's part first (overwriting), then the particles' (accumulating): the same sum as
  // witness(), whose two terms are added in the other order (IEEE addition commutes).
  if (rows_distributed(ctx)) {
    pair_row_sums_gradient_ranks<T>(ctx, *comm_, k_.family, k_.param, x, nullptr, yview(),
                                    b_.data(), T(-k_.sign), g, target_grad, false);
    pair_row_sums_ranks<T>(ctx, *comm_, k_.family, k_.param, x, nullptr, x, w, T(k_.sign), g,
                           true);
    return;
  }
  pair_row_sums_gradient<T>(ctx, k_.family, k_.param, x, nullptr, yview(), b_.data(),
                            T(-k_.sign), g, target_grad, false, &ws_);
  pair_row_sums<T>(ctx, k_.family, k_.param, x, nullptr, x, w, T(k_.sign), g, true, &ws_);
}

template <class T>
void WeightedMmd<T>::witness_gradient_cached(const Context& ctx, ConstPointsView<T> x, const T* a,
                                             const T* w, T scale, const T* target_grad,
                                             PointsView<T> grad) {
  gradient(ctx, x, a, x, w, T(double(scale) * k_.sign), grad, false);
  row_scaled_add<T>(ctx, x.rows, d_, scale, a, target_grad, grad.data);
}

template class WeightedMmd<float>;
template class WeightedMmd<double>;

}  // namespace nwgf
