// The Riesz kernel family |z|^r, 0 < r < 2, as pair functors (the interface every family
// implements: kernels/family/pair.hpp). Every function takes s = |z|^2, z = x - y.
//
//   value(s)                  |z|^r                  (0 at z = 0, since r > 0)
//   grad_factor(s)            f = r |z|^{r-2}, so grad_x |x-y|^r = f z   (0 at z = 0: the true
//                             gradient for r > 1, the minimal-norm subgradient for r <= 1)
//   coincident_rate(uu)       d/dt+ |t u|^r at t = 0, uu = |u|^2: |u| for r = 1, 0 for r > 1
//                             (r < 1: +infinity for u != 0; callers count such pairs instead)
//   coincident_grad_factor(uu) c with grad_u coincident_rate = c u: 1/|u| for r = 1 (0 at u = 0)
//
// Scalar part (any translation unit, NWGF_HD, the CUDA kernels and the CPU's d >= 16 rows): the
// functor RieszPair<T, R1>. On the host the exponent r is kept as given (double) and, for r != 1,
// the powers are taken in double: r = 1/2 and 3/2 by square roots (and one division for the
// gradient factor; within 2 ulp of double), other r by pow with r/2 split exactly (the SIMD rows'
// PowSplit does the same), so the error does not grow with |log s|; on the device they are
// exp2(p log2 s) in T for every r != 1 (inlined, unlike pow's slow path).
//
// SIMD part (translation units compiled per Highway target, after hwy/foreach_target.h): the
// functors RieszSimd<RieszPower> of the CPU pair rows, see the second half of this file.
#ifndef NWGF_KERNELS_FAMILY_RIESZ_HPP
#define NWGF_KERNELS_FAMILY_RIESZ_HPP
#include <cmath>

#include "nwgf/engine/hd.hpp"

namespace nwgf::riesz {

template <class T>
NWGF_HD T sqrt_of(T s) {
#ifdef __CUDA_ARCH__
  return ::sqrt(s);
#else
  return std::sqrt(s);
#endif
}

// 1/sqrt(s) for s > 0.
template <class T>
NWGF_HD T rsqrt_of(T s) {
#ifdef __CUDA_ARCH__
  return ::rsqrt(s);
#else
  return T(1) / std::sqrt(s);
#endif
}

// s^p for s > 0. On the device exp2(p log2 s).
template <class T>
NWGF_HD T pow_of(T s, T p) {
#ifdef __CUDA_ARCH__
  return ::exp2(p * ::log2(s));
#else
  return std::pow(s, p);
#endif
}

// |z| (r = 1).
template <class T>
NWGF_HD T power_r1(T s) {
#ifdef __CUDA_ARCH__
  return s > T(0) ? s * rsqrt_of(s) : T(0);
#else
  return sqrt_of(s);
#endif
}

}  // namespace nwgf::riesz

namespace nwgf {

// The evaluation path of |z|^r for an exponent r (the SIMD rows have a fast path for each of the
// first three).
enum class RieszPower { one, half, three_halves, general };

inline RieszPower riesz_power_of(double r) {
  if (r == 1.0) return RieszPower::one;
  if (r == 0.5) return RieszPower::half;
  if (r == 1.5) return RieszPower::three_halves;
  return RieszPower::general;
}

// R1: r = 1 (square roots only, and the only r whose coincident rule is not 0).
template <class T, bool R1>
struct RieszPair {
  double r = 1;            // the exponent as given
  double h_hi = 0.5;       // r/2 = h_hi + h_lo, h_hi with 40 fraction bits (exact split)
  double h_lo = 0;
  T rt = T(1);             // r in T (device)
  RieszPower power = RieszPower::one;  // the host's square-root path for r = 1/2 and 3/2

  static RieszPair make(double r) {
    RieszPair k;
    k.r = r;
    k.power = riesz_power_of(r);
    k.h_hi = std::ldexp(std::nearbyint(std::ldexp(0.5 * r, 40)), -40);
    k.h_lo = 0.5 * r - k.h_hi;
    k.rt = T(r);
    return k;
  }

  NWGF_HD T value(T s) const {
    if constexpr (R1) return riesz::power_r1(s);
#ifdef __CUDA_ARCH__
    return s > T(0) ? riesz::pow_of(s, T(0.5) * rt) : T(0);
#else
    const double sd = double(s);
    if (!(sd > 0)) return T(0);
    if (power == RieszPower::half) return T(std::sqrt(std::sqrt(sd)));
    if (power == RieszPower::three_halves) {
      const double q = std::sqrt(sd);
      return T(q * std::sqrt(q));
    }
    return T(std::pow(sd, 0.5 * r));
#endif
  }

  NWGF_HD T grad_factor(T s) const {
    if constexpr (R1) return s > T(0) ? riesz::rsqrt_of(s) : T(0);
#ifdef __CUDA_ARCH__
    return s > T(0) ? rt * riesz::pow_of(s, T(0.5) * (rt - T(2))) : T(0);
#else
    // r = 1/2: (1/2) s^{-3/4} = t sqrt(t) / 2, r = 3/2: (3/2) s^{-1/4} = (3/2) sqrt(t), with
    // t = 1/sqrt(s) (s >= the least subnormal double: t <= 2^537, no overflow). The d >= 16 rows'
    // gradient ran 2.1x to 2.7x the rate of the two pow calls at d = 16 (README "Performance").
    const double sd = double(s);
    if (!(sd > 0)) return T(0);
    if (power == RieszPower::half || power == RieszPower::three_halves) {
      const double t = 1.0 / std::sqrt(sd);
      return power == RieszPower::half ? T(0.5 * (t * std::sqrt(t))) : T(1.5 * std::sqrt(t));
    }
    return T(r * std::pow(sd, h_hi - 1.0) * std::pow(sd, h_lo));
#endif
  }

  NWGF_HD T coincident_rate(T uu) const { return R1 ? riesz::power_r1(uu) : T(0); }

  NWGF_HD T coincident_grad_factor(T uu) const {
    return R1 && uu > T(0) ? riesz::rsqrt_of(uu) : T(0);
  }
};

}  // namespace nwgf
#endif  // NWGF_KERNELS_FAMILY_RIESZ_HPP

// ---- SIMD part: once per Highway target ----------------------------------------------------------
#if defined(HWY_NAMESPACE)
#if defined(NWGF_KERNELS_FAMILY_RIESZ_SIMD) == defined(HWY_TARGET_TOGGLE)
#ifdef NWGF_KERNELS_FAMILY_RIESZ_SIMD
#undef NWGF_KERNELS_FAMILY_RIESZ_SIMD
#else
#define NWGF_KERNELS_FAMILY_RIESZ_SIMD
#endif

#include "nwgf/kernels/simd/pair_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace nwgf::detail {
namespace HWY_NAMESPACE {

// The SIMD functors of the pair rows (kernels/simd/pair_rows-inl.h): per vector of s = |z|^2
// the value term and the gradient factor term, each a constant times the true one
// (value_scale(p), grad_scale(p) undo it once per row sum; p is the family's parameter, here r).
// Exact: any s >= 0, the terms are 0 at s = 0; otherwise every lane of s lies in
// [estimate_low, estimate_high] (kFast families only; the rows test it with fast_lanes).
// coincident_grad(uu): the coincident gradient factor scaled like grad (c / grad_scale); the
// coincident rate is then coincident_grad * uu (kCoincident families only).
// Scalar: the RieszPair the d >= 16 rows use.
template <RieszPower PW>
struct RieszSimd;

template <>
struct RieszSimd<RieszPower::one> {  // 2|z|, 2/|z|
  static constexpr bool kFast = true, kCoincident = true;
  template <class T>
  using Scalar = RieszPair<T, true>;
  static double value_scale(double) { return 0.5; }
  static double grad_scale(double) { return 0.5; }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> value(D d, Vec<D> s, double) {
    if constexpr (Exact) return hn::Add(hn::Sqrt(s), hn::Sqrt(s));
    return hn::Mul(s, Rsqrt2<false>(d, s));
  }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> grad(D d, Vec<D> s, double) {
    const Vec<D> y2 = Rsqrt2<Exact>(d, s);
    return Exact ? hn::IfThenElseZero(hn::Gt(s, hn::Zero(d)), y2) : y2;
  }
  // At z = 0: rate |u| and gradient u/|u| (0 at u = 0), scaled like grad (2/|u|).
  template <class D>
  static HWY_INLINE Vec<D> coincident_grad(D d, Vec<D> uu) {
    return hn::IfThenElseZero(hn::Gt(uu, hn::Zero(d)), Rsqrt2<true>(d, uu));
  }
};

// With y2 = 2 / sqrt(s) and q2 = sqrt(y2) = sqrt(2) s^{-1/4} (one IEEE square root: it ran 1.2x to
// 1.5x the rate of the former 2 / sqrt(s y2) by estimate and Newton steps, or by IEEE sqrt and
// division, in the self gradient, README "Performance"):
//   r = 3/2: s^{3/4} = s q2 / sqrt2, (3/2) s^{-1/4} = (3/2) q2 / sqrt2;
//   r = 1/2: s^{1/4} = s y2 q2 / (2 sqrt2), (1/2) s^{-3/4} = (1/2) y2 q2 / (2 sqrt2).
template <RieszPower PW>
struct RieszQuarterSimd {
  static constexpr bool kFast = true, kCoincident = false;
  template <class T>
  using Scalar = RieszPair<T, false>;
  static constexpr bool three_halves = PW == RieszPower::three_halves;
  static double value_scale(double) { return three_halves ? M_SQRT1_2 : 0.5 * M_SQRT1_2; }
  static double grad_scale(double) { return three_halves ? 1.5 * M_SQRT1_2 : 0.25 * M_SQRT1_2; }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> terms(D d, Vec<D> s, Vec<D>& value) {
    const Vec<D> y2 = Rsqrt2<Exact>(d, s);
    const Vec<D> q2 = hn::Sqrt(y2);
    const Vec<D> grad = three_halves ? q2 : hn::Mul(y2, q2);
    value = hn::Mul(s, grad);
    if constexpr (Exact) {
      const auto pos = hn::Gt(s, hn::Zero(d));
      value = hn::IfThenElseZero(pos, value);
      return hn::IfThenElseZero(pos, grad);
    }
    return grad;
  }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> value(D d, Vec<D> s, double) {
    Vec<D> v;
    terms<Exact>(d, s, v);
    return v;
  }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> grad(D d, Vec<D> s, double) {
    Vec<D> v;
    return terms<Exact>(d, s, v);
  }
  template <class D>
  static HWY_INLINE Vec<D> coincident_grad(D d, Vec<D>) {
    return hn::Zero(d);
  }
};
template <>
struct RieszSimd<RieszPower::half> : RieszQuarterSimd<RieszPower::half> {};
template <>
struct RieszSimd<RieszPower::three_halves> : RieszQuarterSimd<RieszPower::three_halves> {};

// Other r: s^{r/2} and s^{(r-2)/2} by PowSplit (no fast path: it is exact everywhere).
template <>
struct RieszSimd<RieszPower::general> {
  static constexpr bool kFast = false, kCoincident = false;
  template <class T>
  using Scalar = RieszPair<T, false>;
  static double value_scale(double) { return 1.0; }
  static double grad_scale(double r) { return r; }
  template <bool, class D>
  static HWY_INLINE Vec<D> value(D d, Vec<D> s, double r) {
    return PowSplit(d, s, 0.5 * r, 0.0);
  }
  template <bool, class D>
  static HWY_INLINE Vec<D> grad(D d, Vec<D> s, double r) {
    return PowSplit(d, s, 0.5 * r, -1.0);
  }
  template <class D>
  static HWY_INLINE Vec<D> coincident_grad(D d, Vec<D>) {
    return hn::Zero(d);
  }
};

}  // namespace HWY_NAMESPACE
}  // namespace nwgf::detail
HWY_AFTER_NAMESPACE();

#endif  // NWGF_KERNELS_FAMILY_RIESZ_SIMD toggle
#endif  // HWY_NAMESPACE
