// The Gaussian kernel family k(s) = exp(-s / (2 sigma^2)), s = |z|^2, z = x - y, as pair functors
// (the interface: kernels/family/pair.hpp). Smooth, so the coincident rule is 0:
//
//   value(s)                    exp(-s / (2 sigma^2))
//   grad_factor(s)              f = -exp(-s / (2 sigma^2)) / sigma^2, grad_x k = f z
//   coincident_rate(uu)         0 (d/dt+ exp(-t^2 uu / (2 sigma^2)) at t = 0)
//   coincident_grad_factor(uu)  0
//
// The family's parameter is sigma > 0. Scalar functor GaussianPair<T> (any translation unit);
// SIMD functor GaussianSimd (per Highway target, Highway's Exp: hwy/contrib/math/math-inl.h).
#ifndef NWGF_KERNELS_FAMILY_GAUSSIAN_HPP
#define NWGF_KERNELS_FAMILY_GAUSSIAN_HPP
#include <cmath>

#include "nwgf/engine/hd.hpp"

namespace nwgf {

template <class T>
struct GaussianPair {
  T neg_half_inv_var = T(-0.5);  // -1 / (2 sigma^2)
  T neg_inv_var = T(-1);         // -1 / sigma^2

  static GaussianPair make(double sigma) {
    GaussianPair k;
    k.neg_half_inv_var = T(-0.5 / (sigma * sigma));
    k.neg_inv_var = T(-1.0 / (sigma * sigma));
    return k;
  }

  NWGF_HD T value(T s) const {
#ifdef __CUDA_ARCH__
    return ::exp(neg_half_inv_var * s);
#else
    return std::exp(neg_half_inv_var * s);
#endif
  }
  NWGF_HD T grad_factor(T s) const { return neg_inv_var * value(s); }
  NWGF_HD T coincident_rate(T) const { return T(0); }
  NWGF_HD T coincident_grad_factor(T) const { return T(0); }
};

}  // namespace nwgf
#endif  // NWGF_KERNELS_FAMILY_GAUSSIAN_HPP

// ---- SIMD part: once per Highway target ----------------------------------------------------------
#if defined(HWY_NAMESPACE)
#if defined(NWGF_KERNELS_FAMILY_GAUSSIAN_SIMD) == defined(HWY_TARGET_TOGGLE)
#ifdef NWGF_KERNELS_FAMILY_GAUSSIAN_SIMD
#undef NWGF_KERNELS_FAMILY_GAUSSIAN_SIMD
#else
#define NWGF_KERNELS_FAMILY_GAUSSIAN_SIMD
#endif

#include "nwgf/kernels/simd/pair_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace nwgf::detail {
namespace HWY_NAMESPACE {

// Value term exp(-s / (2 sigma^2)) for both the value and the gradient factor (grad_scale
// -1 / sigma^2 applies once per row sum). No estimate path: Exp is exact enough everywhere.
struct GaussianSimd {
  static constexpr bool kFast = false, kCoincident = false;
  // grad() is value(): the value_gradient pass evaluates it once (kernels/pairwise_rows-inl.h).
  static constexpr bool kGradIsValue = true;
  template <class T>
  using Scalar = GaussianPair<T>;
  static double value_scale(double) { return 1.0; }
  static double grad_scale(double sigma) { return -1.0 / (sigma * sigma); }
  template <bool, class D>
  static HWY_INLINE Vec<D> value(D d, Vec<D> s, double sigma) {
    using T = hn::TFromD<D>;
    return hn::Exp(d, hn::Mul(s, hn::Set(d, T(-0.5 / (sigma * sigma)))));
  }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> grad(D d, Vec<D> s, double sigma) {
    return value<Exact>(d, s, sigma);
  }
  template <class D>
  static HWY_INLINE Vec<D> coincident_grad(D d, Vec<D>) {
    return hn::Zero(d);
  }
};

}  // namespace HWY_NAMESPACE
}  // namespace nwgf::detail
HWY_AFTER_NAMESPACE();

#endif  // NWGF_KERNELS_FAMILY_GAUSSIAN_SIMD toggle
#endif  // HWY_NAMESPACE
