// The attractive Gaussian kernel W(z) = -exp(-|z|^2)/pi as pair functors (kernels/family/pair.hpp),
// s = |z|^2, under the 1/2 convention of kernels/family/quartic_quadratic.hpp. Smooth, so the
// coincident rule is 0 (the diagonal W(0) = -1/pi is part of every self sum, like the Gaussian
// family's k(0) = 1):
//
//   value(s)                    -exp(-s)/pi
//   grad_factor(s)              f = 2 exp(-s)/pi, grad_x W = f z
//   coincident_rate(uu)         0
//   coincident_grad_factor(uu)  0
//
// No parameter. Scalar functor GaussianAttractionPair<T>; SIMD functor GaussianAttractionSimd
// (Highway's Exp).
#ifndef NWGF_KERNELS_FAMILY_GAUSSIAN_ATTRACTION_HPP
#define NWGF_KERNELS_FAMILY_GAUSSIAN_ATTRACTION_HPP
#include <cmath>

#include "nwgf/engine/hd.hpp"

namespace nwgf {

inline constexpr double kInvPi = 0.318309886183790671537767526745028724;

template <class T>
struct GaussianAttractionPair {
  static GaussianAttractionPair make(double) { return {}; }
  NWGF_HD T value(T s) const {
#ifdef __CUDA_ARCH__
    return -T(kInvPi) * ::exp(-s);
#else
    return -T(kInvPi) * std::exp(-s);
#endif
  }
  NWGF_HD T grad_factor(T s) const { return T(-2) * value(s); }
  NWGF_HD T coincident_rate(T) const { return T(0); }
  NWGF_HD T coincident_grad_factor(T) const { return T(0); }
};

}  // namespace nwgf
#endif  // NWGF_KERNELS_FAMILY_GAUSSIAN_ATTRACTION_HPP

// ---- SIMD part: once per Highway target ----------------------------------------------------------
#if defined(HWY_NAMESPACE)
#if defined(NWGF_KERNELS_FAMILY_GAUSSIAN_ATTRACTION_SIMD) == defined(HWY_TARGET_TOGGLE)
#ifdef NWGF_KERNELS_FAMILY_GAUSSIAN_ATTRACTION_SIMD
#undef NWGF_KERNELS_FAMILY_GAUSSIAN_ATTRACTION_SIMD
#else
#define NWGF_KERNELS_FAMILY_GAUSSIAN_ATTRACTION_SIMD
#endif

#include "nwgf/kernels/simd/pair_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace nwgf::detail {
namespace HWY_NAMESPACE {

// exp(-s) for both the value (value_scale -1/pi) and the gradient factor (grad_scale 2/pi).
struct GaussianAttractionSimd {
  static constexpr bool kFast = false, kCoincident = false;
  // grad() is value(): the value_gradient pass evaluates it once (kernels/pairwise_rows-inl.h).
  static constexpr bool kGradIsValue = true;
  template <class T>
  using Scalar = GaussianAttractionPair<T>;
  static double value_scale(double) { return -kInvPi; }
  static double grad_scale(double) { return 2.0 * kInvPi; }
  template <bool, class D>
  static HWY_INLINE Vec<D> value(D d, Vec<D> s, double) {
    return hn::Exp(d, hn::Neg(s));
  }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> grad(D d, Vec<D> s, double p) {
    return value<Exact>(d, s, p);
  }
  template <class D>
  static HWY_INLINE Vec<D> coincident_grad(D d, Vec<D>) {
    return hn::Zero(d);
  }
};

}  // namespace HWY_NAMESPACE
}  // namespace nwgf::detail
HWY_AFTER_NAMESPACE();

#endif  // NWGF_KERNELS_FAMILY_GAUSSIAN_ATTRACTION_SIMD toggle
#endif  // HWY_NAMESPACE
