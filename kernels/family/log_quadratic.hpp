// The kernel W(z) = |z|^2/2 - ln|z| (logarithmic repulsion, quadratic confinement; in 1-D its
// minimiser is the semicircle law on [-sqrt2, sqrt2] under the 1/2 convention of
// kernels/family/quartic_quadratic.hpp) as pair functors (kernels/family/pair.hpp), s = |z|^2.
//
//   value(s)                    s/2 - ln(s)/2   for s > 0;  0 at s = 0
//   grad_factor(s)              f = 1 - 1/s     for s > 0;  0 at s = 0 (grad_x W = z - z/|z|^2)
//   coincident_rate(uu)         0
//   coincident_grad_factor(uu)  0
//
// Coincident rule: W is singular at z = 0 (+infinity), so a pair with z = 0 is left out of every
// sum (value and gradient 0). For a self sum this excludes exactly the i == j pairs; two distinct
// particles at the same point are also left out silently, and callers must keep particles
// distinct (the particle scheme's initial samples are a.s. distinct and the flow keeps them
// apart: the repulsion grows without bound as they approach). No parameter.
//
// Scalar functor LogQuadraticPair<T>; SIMD functor LogQuadraticSimd (Highway's Log).
#ifndef NWGF_KERNELS_FAMILY_LOG_QUADRATIC_HPP
#define NWGF_KERNELS_FAMILY_LOG_QUADRATIC_HPP
#include <cmath>

#include "nwgf/engine/hd.hpp"

namespace nwgf {

template <class T>
struct LogQuadraticPair {
  static LogQuadraticPair make(double) { return {}; }
  NWGF_HD T value(T s) const {
    if (!(s > T(0))) return T(0);
#ifdef __CUDA_ARCH__
    return T(0.5) * (s - ::log(s));
#else
    return T(0.5) * (s - std::log(s));
#endif
  }
  NWGF_HD T grad_factor(T s) const { return s > T(0) ? T(1) - T(1) / s : T(0); }
  NWGF_HD T coincident_rate(T) const { return T(0); }
  NWGF_HD T coincident_grad_factor(T) const { return T(0); }
};

}  // namespace nwgf
#endif  // NWGF_KERNELS_FAMILY_LOG_QUADRATIC_HPP

// ---- SIMD part: once per Highway target ----------------------------------------------------------
#if defined(HWY_NAMESPACE)
#if defined(NWGF_KERNELS_FAMILY_LOG_QUADRATIC_SIMD) == defined(HWY_TARGET_TOGGLE)
#ifdef NWGF_KERNELS_FAMILY_LOG_QUADRATIC_SIMD
#undef NWGF_KERNELS_FAMILY_LOG_QUADRATIC_SIMD
#else
#define NWGF_KERNELS_FAMILY_LOG_QUADRATIC_SIMD
#endif

#include "nwgf/kernels/simd/pair_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace nwgf::detail {
namespace HWY_NAMESPACE {

// value (s - ln s) (value_scale 1/2), gradient factor 1 - 1/s; both 0 where s = 0 (masked, so
// the infinities of ln 0 and 1/0 never reach a sum). No estimate path.
struct LogQuadraticSimd {
  static constexpr bool kFast = false, kCoincident = false;
  template <class T>
  using Scalar = LogQuadraticPair<T>;
  static double value_scale(double) { return 0.5; }
  static double grad_scale(double) { return 1.0; }
  template <bool, class D>
  static HWY_INLINE Vec<D> value(D d, Vec<D> s, double) {
    return hn::IfThenElseZero(hn::Gt(s, hn::Zero(d)), hn::Sub(s, hn::Log(d, s)));
  }
  template <bool, class D>
  static HWY_INLINE Vec<D> grad(D d, Vec<D> s, double) {
    using T = hn::TFromD<D>;
    const auto pos = hn::Gt(s, hn::Zero(d));
    const Vec<D> one = hn::Set(d, T(1));
    return hn::IfThenElseZero(pos, hn::Sub(one, hn::Div(one, hn::IfThenElse(pos, s, one))));
  }
  template <class D>
  static HWY_INLINE Vec<D> coincident_grad(D d, Vec<D>) {
    return hn::Zero(d);
  }
};

}  // namespace HWY_NAMESPACE
}  // namespace nwgf::detail
HWY_AFTER_NAMESPACE();

#endif  // NWGF_KERNELS_FAMILY_LOG_QUADRATIC_SIMD toggle
#endif  // HWY_NAMESPACE
