// The aggregation kernel W(z) = |z|^4/4 - |z|^2/2 (attractive at long range, repulsive at short
// range) as pair functors (the interface: kernels/family/pair.hpp), s = |z|^2, z = x - y. The
// energy convention of every interaction kernel: F(mu) = 1/2 ∫∫ W(x - y) dmu(x) dmu(y), so that
// the flow is d_t mu = div(mu ∇W * mu) (README, "Interaction kernels"). Smooth, so the
// coincident rule is 0:
//
//   value(s)                    s^2/4 - s/2
//   grad_factor(s)              f = s - 1, grad_x W = (|z|^2 - 1) z
//   coincident_rate(uu)         0
//   coincident_grad_factor(uu)  0
//
// No parameter (the family's parameter is ignored). Scalar functor QuarticQuadraticPair<T> (any
// translation unit); SIMD functor QuarticQuadraticSimd (per Highway target, polynomials only).
#ifndef NWGF_KERNELS_FAMILY_QUARTIC_QUADRATIC_HPP
#define NWGF_KERNELS_FAMILY_QUARTIC_QUADRATIC_HPP
#include "nwgf/engine/hd.hpp"

namespace nwgf {

template <class T>
struct QuarticQuadraticPair {
  static QuarticQuadraticPair make(double) { return {}; }
  // Written as s^2/4 - s/2 rather than s (s/4 - 1/2): with the latter, ptxas (CUDA 13, sm_90)
  // spills 4 bytes in the double d = 3 energy kernel (tools/check_ptxas.sh).
  NWGF_HD T value(T s) const { return T(0.25) * s * s - T(0.5) * s; }
  NWGF_HD T grad_factor(T s) const { return s - T(1); }
  NWGF_HD T coincident_rate(T) const { return T(0); }
  NWGF_HD T coincident_grad_factor(T) const { return T(0); }
};

}  // namespace nwgf
#endif  // NWGF_KERNELS_FAMILY_QUARTIC_QUADRATIC_HPP

// ---- SIMD part: once per Highway target ----------------------------------------------------------
#if defined(HWY_NAMESPACE)
#if defined(NWGF_KERNELS_FAMILY_QUARTIC_QUADRATIC_SIMD) == defined(HWY_TARGET_TOGGLE)
#ifdef NWGF_KERNELS_FAMILY_QUARTIC_QUADRATIC_SIMD
#undef NWGF_KERNELS_FAMILY_QUARTIC_QUADRATIC_SIMD
#else
#define NWGF_KERNELS_FAMILY_QUARTIC_QUADRATIC_SIMD
#endif

#include "nwgf/kernels/simd/pair_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace nwgf::detail {
namespace HWY_NAMESPACE {

// value s (s/4 - 1/2), gradient factor s - 1; no estimate path.
struct QuarticQuadraticSimd {
  static constexpr bool kFast = false, kCoincident = false;
  template <class T>
  using Scalar = QuarticQuadraticPair<T>;
  static double value_scale(double) { return 1.0; }
  static double grad_scale(double) { return 1.0; }
  template <bool, class D>
  static HWY_INLINE Vec<D> value(D d, Vec<D> s, double) {
    using T = hn::TFromD<D>;
    return hn::Mul(s, hn::MulAdd(s, hn::Set(d, T(0.25)), hn::Set(d, T(-0.5))));
  }
  template <bool, class D>
  static HWY_INLINE Vec<D> grad(D d, Vec<D> s, double) {
    using T = hn::TFromD<D>;
    return hn::Sub(s, hn::Set(d, T(1)));
  }
  template <class D>
  static HWY_INLINE Vec<D> coincident_grad(D d, Vec<D>) {
    return hn::Zero(d);
  }
};

}  // namespace HWY_NAMESPACE
}  // namespace nwgf::detail
HWY_AFTER_NAMESPACE();

#endif  // NWGF_KERNELS_FAMILY_QUARTIC_QUADRATIC_SIMD toggle
#endif  // HWY_NAMESPACE
