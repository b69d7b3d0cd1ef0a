// SIMD math of the CPU pair rows, once per Highway target (include after hwy/foreach_target.h):
// the reciprocal square root 2/sqrt(s) from the hardware estimate and Newton steps, s^p with the
// exponent of s split off exactly, the range of s in which the estimate applies, and a masked
// load that is safe on every target.
//
// The reciprocal square root: the hardware estimate (12 bits on AVX2 and SSE4, 14 on AVX-512;
// double on AVX2 from the float estimate) and Newton steps y <- y (3 - s y^2) / 2, each squaring
// the relative error: float 1 step (AVX-512: ~1e-8; AVX2: <= 2.3e-7, biased low), double 2 steps
// (AVX-512) or 3 (AVX2). The last step is left undivided by 2 (2 / sqrt(s)); the constant goes
// into the per-row scale. Estimates need normal positive s: a vector with any other lane
// (coincident points, subnormal distances, the masked tail) takes IEEE sqrt and division instead.
#if defined(NWGF_KERNELS_SIMD_PAIR_MATH) == defined(HWY_TARGET_TOGGLE)
#ifdef NWGF_KERNELS_SIMD_PAIR_MATH
#undef NWGF_KERNELS_SIMD_PAIR_MATH
#else
#define NWGF_KERNELS_SIMD_PAIR_MATH
#endif

#include <cmath>
#include <cstddef>
#include <limits>

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include "nwgf/engine/types.hpp"

HWY_BEFORE_NAMESPACE();
namespace nwgf::detail {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class D>
using Vec = hn::Vec<D>;

// Newton steps after the hardware estimate; 0: no usable estimate, use IEEE sqrt and division.
template <class T>
constexpr int rsqrt_steps() {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  return sizeof(T) == 4 ? 1 : 2;
#elif HWY_ARCH_X86 && HWY_TARGET <= HWY_SSE4
  return sizeof(T) == 4 ? 1 : 3;
#else
  return 0;
#endif
}

// 2 / sqrt(s). Exact: IEEE (any s > 0; s = 0 gives +inf, callers select). Otherwise s must be
// normal and positive in every lane.
template <bool Exact, class D>
HWY_INLINE Vec<D> Rsqrt2(D d, Vec<D> s) {
  using T = hn::TFromD<D>;
  constexpr int steps = rsqrt_steps<T>();
  if constexpr (Exact || steps == 0) {
    return hn::Div(hn::Set(d, T(2)), hn::Sqrt(s));
  } else {
    Vec<D> y;
    if constexpr (sizeof(T) == 4) {
      y = hn::ApproximateReciprocalSqrt(s);
    } else {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
      y = Vec<D>{_mm512_rsqrt14_pd(s.raw)};
#else
      const hn::Rebind<float, D> df;
      y = hn::PromoteTo(d, hn::ApproximateReciprocalSqrt(hn::DemoteTo(df, s)));
#endif
    }
    const Vec<D> hs = hn::Mul(hn::Set(d, T(0.5)), s);
    for (int k = 1; k < steps; ++k) {
      y = hn::Mul(y, hn::NegMulAdd(hn::Mul(hs, y), y, hn::Set(d, T(1.5))));
    }
    return hn::Mul(y, hn::NegMulAdd(hn::Mul(s, y), y, hn::Set(d, T(3))));
  }
}

// s^p for s >= 0 (0 at s = 0), |p| < 1: s = m 2^e with m in [1/sqrt2, sqrt2) (subnormal s scaled
// first), p e = hi + lo with hi exact, hi = n + f with n integer, then
// s^p = 2^n exp((f + lo) ln 2 + p log m): the arguments of exp and log stay below 1 in magnitude,
// so the error is a few ulp at any distance.
// The exponent is p = r/2 + offset (offset 0 or -1) for the r given in double, split exactly into
// p_hi + p_lo: rounding p to float (or r/2 - 1 to double) alone would cost |dp| |log s| of
// relative error, 2e-6 at |z| = 1e-20 in float, 2e-14 at |z| = 1e-157 in double.
template <class D>
HWY_INLINE Vec<D> PowSplit(D d, Vec<D> s, double half_r, double offset) {
  using T = hn::TFromD<D>;
  using TU = hwy::MakeUnsigned<T>;
  const hn::RebindToSigned<D> di;
  const hn::RebindToUnsigned<D> du;
  constexpr int mbits = std::numeric_limits<T>::digits - 1;
  constexpr int bias = std::numeric_limits<T>::max_exponent - 1;
  constexpr int pre = sizeof(T) == 4 ? 32 : 64;  // subnormals: s 2^pre is normal
  const auto zero = hn::Eq(s, hn::Zero(d));
  const auto sub = hn::Lt(s, hn::Set(d, std::numeric_limits<T>::min()));
  s = hn::IfThenElse(sub, hn::Mul(s, hn::Set(d, std::ldexp(T(1), pre))), s);
  s = hn::IfThenElse(zero, hn::Set(d, T(1)), s);
  const auto bits = hn::BitCast(du, s);
  const auto e_raw = hn::BitCast(di, hn::ShiftRight<mbits>(bits));
  Vec<D> m = hn::BitCast(
      d, hn::Or(hn::And(bits, hn::Set(du, (TU(1) << mbits) - 1)), hn::Set(du, TU(bias) << mbits)));
  const auto big = hn::Gt(m, hn::Set(d, T(1.4142135623730951)));
  m = hn::IfThenElse(big, hn::Mul(m, hn::Set(d, T(0.5))), m);
  Vec<D> e = hn::ConvertTo(d, hn::Sub(e_raw, hn::Set(di, bias)));
  e = hn::Add(e, hn::IfThenElseZero(big, hn::Set(d, T(1))));
  e = hn::Sub(e, hn::IfThenElseZero(sub, hn::Set(d, T(pre))));
  // p_hi: p to 12 (float) or 40 (double) fraction bits, so that p_hi e is exact for |e| < 2^11
  // without FMA (SSE4 and the scalar target have none); p_lo e is small and nearly exact.
  constexpr int split = sizeof(T) == 4 ? 12 : 40;
  const double h_hi = std::ldexp(std::nearbyint(std::ldexp(half_r, split)), -split);
  const double p_hi = h_hi + offset, p_lo = half_r - h_hi;  // both exact
  const Vec<D> hi = hn::Mul(hn::Set(d, T(p_hi)), e);
  const Vec<D> lo = hn::Mul(hn::Set(d, T(p_lo)), e);
  const Vec<D> vp = hn::Set(d, T(p_hi + p_lo));
  const Vec<D> n = hn::Round(hi);
  const Vec<D> f = hn::Add(hn::Sub(hi, n), lo);
  const Vec<D> arg = hn::MulAdd(vp, hn::Log(d, m), hn::Mul(f, hn::Set(d, T(0.6931471805599453))));
  const Vec<D> ex = hn::Exp(d, arg);
  // 2^n as two factors 2^n1 2^n2 (n1 = floor(n / 2)), each a normal number.
  const auto ni = hn::ConvertTo(di, n);
  const auto n1 = hn::ShiftRight<1>(ni);
  const auto n2 = hn::Sub(ni, n1);
  const auto pow2 = [&](auto k) {
    return hn::BitCast(d, hn::ShiftLeft<mbits>(hn::Add(k, hn::Set(di, bias))));
  };
  return hn::IfThenZeroElse(zero, hn::Mul(hn::Mul(ex, pow2(n1)), pow2(n2)));
}

// Per pair from s = |z|^2: the kernel value term and the gradient factor term, each a constant
// times the true one (value_scale, grad_scale undo it once per row sum). Exact: any s >= 0, the

// The range of s in which the estimate applies: normal and positive; for double on targets
// whose estimate comes from float, also within float's normal range.
template <class T>
constexpr T estimate_low() {
  return rsqrt_steps<T>() == 3 ? T(std::numeric_limits<float>::min()) : std::numeric_limits<T>::min();
}
template <class T>
constexpr T estimate_high() {
  return rsqrt_steps<T>() == 3 ? T(std::numeric_limits<float>::max()) : std::numeric_limits<T>::infinity();
}

// The constant undoing the scaled terms in a row's value sum: the energy's kernel values, or the

// Lanes `valid` of p, the others 0. Where the target's masked load needs alignment (SSE4: a blend
// of an aligned load), a whole vector is read unaligned: the column arrays the row kernels read
// are padded by a vector (kernels/pairwise.cpp).
template <class D>
HWY_INLINE Vec<D> LoadPart(hn::Mask<D> valid, D d, const hn::TFromD<D>* p) {
#if HWY_ARCH_X86 && (HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3)
  return hn::IfThenElseZero(valid, hn::LoadU(d, p));
#else
  return hn::MaskedLoad(valid, d, p);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace nwgf::detail
HWY_AFTER_NAMESPACE();

#endif  // NWGF_KERNELS_SIMD_PAIR_MATH toggle
