// The CPU pair rows (kernels/pairwise_rows.hpp), written once with Google Highway and compiled
// for each SIMD target; Highway's dynamic dispatch runs the best one the CPU supports (or the one
// engine/simd.hpp was told to use).
//
// Three layouts of the columns of Y:
// - d = 1, 2, 3 (transposed tile): one vector of columns j at a time, all d coordinates in
//   registers; two independent accumulator sets hide the FMA latency;
// - 4 <= d < 16 (transposed tile): per row, a first sweep over j stores the per-pair factors in
//   scratch, a second sweep per coordinate k sums f_j (x_k - y_kj);
// - d >= 16 (row-major, in place): per pair, the dot products over k are vectorised and the
//   factor is the scalar one of kernels/riesz_math.hpp (its cost is small beside 3d flops).
//
// The reciprocal square root: the hardware estimate (12 bits on AVX2 and SSE4, 14 on AVX-512;
// double on AVX2 from the float estimate) and Newton steps y <- y (3 - s y^2) / 2, each squaring
// the relative error: float 1 step (AVX-512: ~1e-8; AVX2: <= 2.3e-7, biased low), double 2 steps
// (AVX-512) or 3 (AVX2). The last step is left undivided by 2 (2 / sqrt(s)); the constant goes
// into the per-row scale. Estimates need normal positive s: a vector with any other lane
// (coincident points, subnormal distances, the masked tail) takes IEEE sqrt and division instead.
#include "kernels/pairwise_rows.hpp"

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <limits>

#include "kernels/riesz_math.hpp"

// Targets: AVX3_DL (AVX-512 with the Ice Lake extensions: Ice Lake and later, Zen 4) and AVX3
// (Skylake-X), AVX2 + FMA, SSE4, and Highway's portable scalar fallback (HWY_SCALAR, or EMU128
// where the baseline allows). SSSE3 is left out (SSE4 machines are the oldest x86-64 we expect;
// the fallback covers the rest). The build defines
// HWY_WANT_AVX3_DL and HWY_COMPILE_ALL_ATTAINABLE for the whole library (CMakeLists.txt), so
// engine/simd.cpp sees the same set.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/pairwise_rows.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
// foreach_target.h must come first.
#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

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
// terms are 0 at s = 0; otherwise s is normal and positive in every lane.
template <RieszPower PW>
struct Power;

template <>
struct Power<RieszPower::one> {  // 2|z|, 2/|z|
  static double value_scale(double) { return 0.5; }
  static double grad_scale(double) { return 0.5; }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> value(D d, Vec<D> s) {
    if constexpr (Exact) return hn::Add(hn::Sqrt(s), hn::Sqrt(s));
    return hn::Mul(s, Rsqrt2<false>(d, s));
  }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> grad(D d, Vec<D> s) {
    const Vec<D> y2 = Rsqrt2<Exact>(d, s);
    return Exact ? hn::IfThenElseZero(hn::Gt(s, hn::Zero(d)), y2) : y2;
  }
};

// With y2 = 2 / sqrt(s) and q2 = 2 / sqrt(s y2) = sqrt(2) s^{-1/4}:
//   r = 3/2: s^{3/4} = s q2 / sqrt2, (3/2) s^{-1/4} = (3/2) q2 / sqrt2;
//   r = 1/2: s^{1/4} = s y2 q2 / (2 sqrt2), (1/2) s^{-3/4} = (1/2) y2 q2 / (2 sqrt2).
template <RieszPower PW>
struct QuarterPower {
  static constexpr bool three_halves = PW == RieszPower::three_halves;
  static double value_scale(double) { return three_halves ? M_SQRT1_2 : 0.5 * M_SQRT1_2; }
  static double grad_scale(double) { return three_halves ? 1.5 * M_SQRT1_2 : 0.25 * M_SQRT1_2; }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> terms(D d, Vec<D> s, Vec<D>& value) {
    const Vec<D> y2 = Rsqrt2<Exact>(d, s);
    const Vec<D> q2 = Rsqrt2<Exact>(d, hn::Mul(s, y2));
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
  static HWY_INLINE Vec<D> value(D d, Vec<D> s) {
    Vec<D> v;
    terms<Exact>(d, s, v);
    return v;
  }
  template <bool Exact, class D>
  static HWY_INLINE Vec<D> grad(D d, Vec<D> s) {
    Vec<D> v;
    return terms<Exact>(d, s, v);
  }
};
template <>
struct Power<RieszPower::half> : QuarterPower<RieszPower::half> {};
template <>
struct Power<RieszPower::three_halves> : QuarterPower<RieszPower::three_halves> {};

// Other r: s^{r/2} and s^{(r-2)/2} by PowSplit (no fast path: it is exact everywhere).
template <>
struct Power<RieszPower::general> {
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
};

template <RieszPower PW, bool Exact, class D>
HWY_INLINE Vec<D> value_term(D d, Vec<D> s, double r) {
  if constexpr (PW == RieszPower::general) return Power<PW>::template value<Exact>(d, s, r);
  else return Power<PW>::template value<Exact>(d, s);
}
template <RieszPower PW, bool Exact, class D>
HWY_INLINE Vec<D> grad_term(D d, Vec<D> s, double r) {
  if constexpr (PW == RieszPower::general) return Power<PW>::template grad<Exact>(d, s, r);
  else return Power<PW>::template grad<Exact>(d, s);
}

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
// directional rate (gradient factors).
template <RieszPower PW, PairwisePass P>
double value_sum_scale(double r) {
  return P == PairwisePass::energy ? Power<PW>::value_scale(r) : Power<PW>::grad_scale(r);
}

// True when every lane of s1 and s2 allows the estimate.
template <RieszPower PW, class D>
HWY_INLINE bool fast_lanes(D d, Vec<D> s1, Vec<D> s2) {
  using T = hn::TFromD<D>;
  if constexpr (PW == RieszPower::general) return false;
  const auto low = hn::Ge(hn::Min(s1, s2), hn::Set(d, estimate_low<T>()));
  if constexpr (estimate_high<T>() == std::numeric_limits<T>::infinity()) {
    return hn::AllTrue(d, low);
  } else {
    return hn::AllTrue(d, hn::And(low, hn::Le(hn::Max(s1, s2), hn::Set(d, estimate_high<T>()))));
  }
}

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

// ---- d = 1, 2, 3: one row against the transposed columns -------------------------------------

template <class D, int DIM>
struct RowState {
  Vec<D> x[DIM], v[DIM];
};

// One vector of pairs: z, u (directional) and s = |z|^2, <z,u>, |u|^2.
template <class D, int DIM>
struct Pairs {
  Vec<D> z[DIM], u[DIM];
  Vec<D> s, zu, uu;
};

template <PairwisePass P, bool Masked, int DIM, class D>
HWY_INLINE Pairs<D, DIM> load_pairs(D d, const RowBlock<hn::TFromD<D>>& blk,
                                    const RowState<D, DIM>& st, index_t j, hn::Mask<D> valid) {
  using T = hn::TFromD<D>;
  const auto load = [&](const T* p) {
    if constexpr (Masked) return LoadPart(valid, d, p);
    else return hn::LoadU(d, p);
  };
  Pairs<D, DIM> q;
  for (int k = 0; k < DIM; ++k) {
    q.z[k] = hn::Sub(st.x[k], load(blk.y + k * blk.ldy + j));
    q.s = k == 0 ? hn::Mul(q.z[0], q.z[0]) : hn::MulAdd(q.z[k], q.z[k], q.s);
    if constexpr (P == PairwisePass::directional) {
      q.u[k] = hn::Sub(st.v[k], load(blk.w + k * blk.ldw + j));
      q.zu = k == 0 ? hn::Mul(q.z[0], q.u[0]) : hn::MulAdd(q.z[k], q.u[k], q.zu);
      q.uu = k == 0 ? hn::Mul(q.u[0], q.u[0]) : hn::MulAdd(q.u[k], q.u[k], q.uu);
    }
  }
  return q;
}

// Adds one vector of pairs (columns j.., Masked: only the lanes of `valid`) to acc (DIM) and accv;
// counts coincident pairs. Fast: every lane of q.s is normal and positive (and in the estimate's
// range); Ieee: evaluate by IEEE sqrt and division all the same.
// Symmetric self pass: the columns' side of each pair, -a_i f z, accumulates in col (DIM, ldc).
template <class D>
struct ColumnSide {
  hn::TFromD<D>* col = nullptr;
  index_t ldc = 0;
  Vec<D> a_i;
};

template <RieszPower PW, PairwisePass P, bool W, bool Masked, bool Fast, bool Ieee = !Fast,
          bool Sym = false, int DIM, class D>
HWY_INLINE void add_pairs(D d, const RowBlock<hn::TFromD<D>>& blk, const Pairs<D, DIM>& q,
                          index_t j, hn::Mask<D> valid, Vec<D>* acc, Vec<D>& accv,
                          index_t& count, const ColumnSide<D>& cs) {
  const auto weigh = [&](Vec<D> t) {
    if constexpr (W) {
      return hn::Mul(t, Masked ? LoadPart(valid, d, blk.b + j) : hn::LoadU(d, blk.b + j));
    } else if constexpr (Masked) {
      return hn::IfThenElseZero(valid, t);
    } else {
      return t;
    }
  };
  if constexpr (P == PairwisePass::energy) {
    accv = hn::Add(accv, weigh(value_term<PW, Ieee>(d, q.s, blk.r)));
    return;
  }
  const Vec<D> f0 = grad_term<PW, Ieee>(d, q.s, blk.r);
  const Vec<D> f = weigh(f0);
  for (int k = 0; k < DIM; ++k) acc[k] = hn::MulAdd(f, q.z[k], acc[k]);
  if constexpr (Sym && P == PairwisePass::gradient) {
    const Vec<D> fj = W ? hn::Mul(f0, cs.a_i) : f0;
    for (int k = 0; k < DIM; ++k) {
      // Whole vectors also at the tail: col rows are padded by a vector, and lanes past jn are
      // never read back (a masked store is microcoded and slow on AMD).
      hn::TFromD<D>* c = cs.col + k * cs.ldc + j;
      hn::StoreU(hn::NegMulAdd(fj, q.z[k], hn::LoadU(d, c)), d, c);
    }
  }
  if constexpr (P == PairwisePass::directional) {
    accv = hn::MulAdd(f, q.zu, accv);
    if constexpr (!Fast) {
      auto coinc = hn::Eq(q.s, hn::Zero(d));
      if constexpr (Masked) coinc = hn::And(coinc, valid);
      count += index_t(hn::CountTrue(d, coinc));
      if constexpr (PW == RieszPower::one) {
        // At z = 0: rate |u| and gradient u/|u| (0 at u = 0), scaled like f (2/|u|).
        const Vec<D> fu = weigh(hn::IfThenElseZero(hn::And(coinc, hn::Gt(q.uu, hn::Zero(d))),
                                                   Rsqrt2<true>(d, q.uu)));
        accv = hn::MulAdd(fu, q.uu, accv);
        for (int k = 0; k < DIM; ++k) acc[k] = hn::MulAdd(fu, q.u[k], acc[k]);
      }
    }
  }
}

template <RieszPower PW, PairwisePass P, bool W, int DIM, bool Sym, class T>
HWY_NOINLINE void rows_fixed(const RowBlock<T>& blk) {
  using D = hn::ScalableTag<T>;
  const D d;
  const index_t n = index_t(hn::Lanes(d));
  const double vscale = value_sum_scale<PW, P>(blk.r), gscale = Power<PW>::grad_scale(blk.r);
  const auto all = hn::FirstN(d, std::size_t(n));
  ColumnSide<D> cs;
  constexpr bool columns = Sym && P == PairwisePass::gradient;
  if constexpr (columns) {
    cs.col = blk.work;
    cs.ldc = blk.ldy + 16;
    for (index_t e = 0; e < DIM * cs.ldc; ++e) cs.col[e] = T(0);
  }
  for (index_t i = 0; i < blk.rows; ++i) {
    if constexpr (columns) cs.a_i = hn::Set(d, W ? blk.a[i] : T(1));
    RowState<D, DIM> st;
    const T* xi = blk.x + i * blk.ldx;
    for (int k = 0; k < DIM; ++k) {
      st.x[k] = hn::Set(d, xi[k]);
      st.v[k] = P == PairwisePass::directional ? hn::Set(d, blk.v[i * blk.ldv + k]) : hn::Zero(d);
    }
    Vec<D> acc[DIM], acc2[DIM];
    for (int k = 0; k < DIM; ++k) acc[k] = acc2[k] = hn::Zero(d);
    Vec<D> accv = hn::Zero(d), accv2 = hn::Zero(d);
    index_t count = 0;
    // Symmetric: row i pairs with the columns after it only.
    index_t j = Sym ? std::max<index_t>(0, blk.diag + i + 1) : 0;
    // Two vectors at a time into two accumulator sets; one test for both whether the estimate
    // applies (it does but at coincident points and subnormal distances).
    for (; j + 2 * n <= blk.jn; j += 2 * n) {
      const Pairs<D, DIM> q1 = load_pairs<P, false>(d, blk, st, j, all);
      const Pairs<D, DIM> q2 = load_pairs<P, false>(d, blk, st, j + n, all);
      if (HWY_LIKELY(fast_lanes<PW>(d, q1.s, q2.s))) {
        // Double from the float estimate (3 Newton steps) costs as much FMA-port time as IEEE
        // sqrt and division cost divider time: one vector each keeps both units busy.
        constexpr bool split = rsqrt_steps<T>() == 3;
        add_pairs<PW, P, W, false, true, false, Sym>(d, blk, q1, j, all, acc, accv, count, cs);
        add_pairs<PW, P, W, false, true, split, Sym>(d, blk, q2, j + n, all, acc2, accv2, count, cs);
      } else {
        add_pairs<PW, P, W, false, false, true, Sym>(d, blk, q1, j, all, acc, accv, count, cs);
        add_pairs<PW, P, W, false, false, true, Sym>(d, blk, q2, j + n, all, acc2, accv2, count, cs);
      }
    }
    for (; j < blk.jn; j += n) {
      const auto valid = hn::FirstN(d, std::size_t(std::min(n, blk.jn - j)));
      const Pairs<D, DIM> q = load_pairs<P, true>(d, blk, st, j, valid);
      add_pairs<PW, P, W, true, false, true, Sym>(d, blk, q, j, valid, acc, accv, count, cs);
    }
    if constexpr (P != PairwisePass::gradient) {
      blk.value[i] += vscale * double(hn::GetLane(hn::SumOfLanes(d, hn::Add(accv, accv2))));
    }
    if constexpr (P != PairwisePass::energy) {
      for (int k = 0; k < DIM; ++k) {
        blk.g[i * blk.d + k] +=
            gscale * double(hn::GetLane(hn::SumOfLanes(d, hn::Add(acc[k], acc2[k]))));
      }
    }
    if (blk.coincident) *blk.coincident += count;
  }
  if constexpr (columns) {
    for (index_t jj = 0; jj < blk.jn; ++jj) {
      for (int k = 0; k < DIM; ++k) blk.g_columns[jj * DIM + k] += gscale * double(cs.col[k * cs.ldc + jj]);
    }
  }
}

// ---- 4 <= d < 16: two sweeps per row over the transposed columns -------------------------------

template <RieszPower PW, PairwisePass P, class T>
HWY_NOINLINE void rows_general(const RowBlock<T>& blk) {
  using D = hn::ScalableTag<T>;
  const D d;
  constexpr bool dir = P == PairwisePass::directional;
  const index_t n = index_t(hn::Lanes(d));
  const index_t padded = (blk.jn + n - 1) / n * n;
  T* f_all = blk.work;
  T* fu_all = blk.work + padded;
  const double vscale = value_sum_scale<PW, P>(blk.r), gscale = Power<PW>::grad_scale(blk.r);
  for (index_t i = 0; i < blk.rows; ++i) {
    const T* xi = blk.x + i * blk.ldx;
    const T* vi = dir ? blk.v + i * blk.ldv : nullptr;
    Vec<D> accv = hn::Zero(d);
    index_t count = 0;
    for (index_t j = 0; j < blk.jn; j += n) {
      const bool tail = j + n > blk.jn;
      const auto valid = hn::FirstN(d, std::size_t(std::min(n, blk.jn - j)));
      const auto load = [&](const T* p) { return tail ? LoadPart(valid, d, p) : hn::LoadU(d, p); };
      Vec<D> s = hn::Zero(d), zu = hn::Zero(d), uu = hn::Zero(d);
      for (index_t k = 0; k < blk.d; ++k) {
        const Vec<D> z = hn::Sub(hn::Set(d, xi[k]), load(blk.y + k * blk.ldy + j));
        s = hn::MulAdd(z, z, s);
        if constexpr (dir) {
          const Vec<D> u = hn::Sub(hn::Set(d, vi[k]), load(blk.w + k * blk.ldw + j));
          zu = hn::MulAdd(z, u, zu);
          uu = hn::MulAdd(u, u, uu);
        }
      }
      const bool fast = !tail && fast_lanes<PW>(d, s, s);
      const Vec<D> b = blk.b ? load(blk.b + j) : hn::IfThenElseZero(valid, hn::Set(d, T(1)));
      if constexpr (P == PairwisePass::energy) {
        const Vec<D> e = fast ? value_term<PW, false>(d, s, blk.r) : value_term<PW, true>(d, s, blk.r);
        accv = hn::MulAdd(b, e, accv);
        continue;
      }
      const Vec<D> f =
          hn::Mul(b, fast ? grad_term<PW, false>(d, s, blk.r) : grad_term<PW, true>(d, s, blk.r));
      hn::StoreU(f, d, f_all + j);
      if constexpr (dir) {
        accv = hn::MulAdd(f, zu, accv);
        Vec<D> fu = hn::Zero(d);
        if (!fast) {
          const auto coinc = hn::And(hn::Eq(s, hn::Zero(d)), valid);
          count += index_t(hn::CountTrue(d, coinc));
          if constexpr (PW == RieszPower::one) {
            fu = hn::Mul(b, hn::IfThenElseZero(hn::And(coinc, hn::Gt(uu, hn::Zero(d))),
                                               Rsqrt2<true>(d, uu)));
            accv = hn::MulAdd(fu, uu, accv);
          }
        }
        hn::StoreU(fu, d, fu_all + j);
      }
    }
    if constexpr (P != PairwisePass::gradient) {
      blk.value[i] += vscale * double(hn::GetLane(hn::SumOfLanes(d, accv)));
    }
    if constexpr (P != PairwisePass::energy) {
      for (index_t k = 0; k < blk.d; ++k) {
        const Vec<D> xk = hn::Set(d, xi[k]);
        const Vec<D> vk = dir ? hn::Set(d, vi[k]) : hn::Zero(d);
        Vec<D> acc = hn::Zero(d);
        for (index_t j = 0; j < blk.jn; j += n) {
          const bool tail = j + n > blk.jn;
          const auto valid = hn::FirstN(d, std::size_t(std::min(n, blk.jn - j)));
          const auto load = [&](const T* p) { return tail ? LoadPart(valid, d, p) : hn::LoadU(d, p); };
          acc = hn::MulAdd(hn::LoadU(d, f_all + j), hn::Sub(xk, load(blk.y + k * blk.ldy + j)), acc);
          if constexpr (dir) {
            acc = hn::MulAdd(hn::LoadU(d, fu_all + j), hn::Sub(vk, load(blk.w + k * blk.ldw + j)), acc);
          }
        }
        blk.g[i * blk.d + k] += gscale * double(hn::GetLane(hn::SumOfLanes(d, acc)));
      }
    }
    if (blk.coincident) *blk.coincident += count;
  }
}

// ---- d >= 16: rows of Y in place, vectorised over k --------------------------------------------

// sum_k a_k b_k over k < d (a, b of length d), and with a second pair.
template <class D>
HWY_INLINE hn::TFromD<D> dot(D d, const hn::TFromD<D>* a, const hn::TFromD<D>* b, index_t len) {
  using T = hn::TFromD<D>;
  const index_t n = index_t(hn::Lanes(d));
  Vec<D> acc = hn::Zero(d);
  index_t k = 0;
  for (; k + n <= len; k += n) acc = hn::MulAdd(hn::LoadU(d, a + k), hn::LoadU(d, b + k), acc);
  T s = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; k < len; ++k) s += a[k] * b[k];
  return s;
}

template <PairwisePass P, bool R1, class T>
HWY_NOINLINE void rows_rowmajor(const RowBlock<T>& blk) {
  using D = hn::ScalableTag<T>;
  const D d;
  constexpr bool dir = P == PairwisePass::directional;
  const index_t n = index_t(hn::Lanes(d)), len = blk.d;
  T* z = blk.work;        // (d) x_i - y_j
  T* u = blk.work + len;  // (d) v_i - w_j, then the row's gradient sum
  T* gt = blk.work + 2 * len;
  // The scalar factors of kernels/riesz_math.hpp; for r != 1 in double, with r as given (not
  // rounded to T) and the gradient's exponent r/2 - 1 split exactly as in PowSplit.
  const double r = blk.r, h_hi = std::ldexp(std::nearbyint(std::ldexp(0.5 * r, 40)), -40);
  const double h_lo = 0.5 * r - h_hi;
  const auto value_of = [&](T s) { return R1 ? riesz::power_r1(s) : T(riesz::power(double(s), r)); };
  const auto factor_of = [&](T s) {
    if constexpr (R1) return riesz::grad_factor_r1(s);
    const double sd = double(s);
    return sd > 0 ? T(r * std::pow(sd, h_hi - 1.0) * std::pow(sd, h_lo)) : T(0);
  };
  for (index_t i = 0; i < blk.rows; ++i) {
    const T* xi = blk.x + i * blk.ldx;
    const T* vi = dir ? blk.v + i * blk.ldv : nullptr;
    for (index_t k = 0; k < len; ++k) gt[k] = 0;
    T value = 0;
    index_t count = 0;
    for (index_t j = 0; j < blk.jn; ++j) {
      const T* yj = blk.y + j * blk.ldy;
      const T bj = blk.b ? blk.b[j] : T(1);
      index_t k = 0;
      for (; k + n <= len; k += n) hn::StoreU(hn::Sub(hn::LoadU(d, xi + k), hn::LoadU(d, yj + k)), d, z + k);
      for (; k < len; ++k) z[k] = xi[k] - yj[k];
      const T s = dot(d, z, z, len);
      if constexpr (P == PairwisePass::energy) {
        value += bj * value_of(s);
        continue;
      }
      const T f = bj * factor_of(s);
      T fu = 0;
      if constexpr (dir) {
        const T* wj = blk.w + j * blk.ldw;
        for (k = 0; k + n <= len; k += n) hn::StoreU(hn::Sub(hn::LoadU(d, vi + k), hn::LoadU(d, wj + k)), d, u + k);
        for (; k < len; ++k) u[k] = vi[k] - wj[k];
        const bool coinc = s == T(0);
        const T uu = coinc ? dot(d, u, u, len) : T(0);
        fu = coinc ? bj * riesz::coincident_grad_factor(uu, R1) : T(0);
        value += f * dot(d, z, u, len) + (coinc ? bj * riesz::coincident_rate(uu, R1) : T(0));
        count += coinc ? 1 : 0;
      }
      const Vec<D> vf = hn::Set(d, f), vfu = hn::Set(d, fu);
      for (k = 0; k + n <= len; k += n) {
        Vec<D> g = hn::MulAdd(vf, hn::LoadU(d, z + k), hn::LoadU(d, gt + k));
        if constexpr (dir) g = hn::MulAdd(vfu, hn::LoadU(d, u + k), g);
        hn::StoreU(g, d, gt + k);
      }
      for (; k < len; ++k) gt[k] += f * z[k] + (dir ? fu * u[k] : T(0));
    }
    if constexpr (P != PairwisePass::gradient) blk.value[i] += double(value);
    if constexpr (P != PairwisePass::energy) {
      for (index_t k = 0; k < len; ++k) blk.g[i * len + k] += double(gt[k]);
    }
    if (blk.coincident) *blk.coincident += count;
  }
}

// ---- dispatch on the pass, the exponent, the weights and d ---------------------------------------

template <RieszPower PW, PairwisePass P, int DIM, class T>
void rows_fixed_sym(const RowBlock<T>& blk, bool w) {
  if constexpr (P == PairwisePass::directional) {
    return w ? rows_fixed<PW, P, true, DIM, false>(blk) : rows_fixed<PW, P, false, DIM, false>(blk);
  } else if (blk.symmetric) {
    return w ? rows_fixed<PW, P, true, DIM, true>(blk) : rows_fixed<PW, P, false, DIM, true>(blk);
  } else {
    return w ? rows_fixed<PW, P, true, DIM, false>(blk) : rows_fixed<PW, P, false, DIM, false>(blk);
  }
}

template <RieszPower PW, PairwisePass P, class T>
void rows_power_pass(const RowBlock<T>& blk) {
  if (!blk.transposed) {
    return blk.power == RieszPower::one ? rows_rowmajor<P, true>(blk) : rows_rowmajor<P, false>(blk);
  }
  const bool w = blk.b != nullptr;
  switch (blk.d) {
    case 1: return rows_fixed_sym<PW, P, 1>(blk, w);
    case 2: return rows_fixed_sym<PW, P, 2>(blk, w);
    case 3: return rows_fixed_sym<PW, P, 3>(blk, w);
    default: return rows_general<PW, P>(blk);
  }
}

template <RieszPower PW, class T>
void rows_power(const RowBlock<T>& blk) {
  switch (blk.pass) {
    case PairwisePass::energy: return rows_power_pass<PW, PairwisePass::energy>(blk);
    case PairwisePass::gradient: return rows_power_pass<PW, PairwisePass::gradient>(blk);
    case PairwisePass::directional: return rows_power_pass<PW, PairwisePass::directional>(blk);
  }
}

template <class T>
void rows(const RowBlock<T>& blk) {
  switch (blk.power) {
    case RieszPower::one: return rows_power<RieszPower::one>(blk);
    case RieszPower::half: return rows_power<RieszPower::half>(blk);
    case RieszPower::three_halves: return rows_power<RieszPower::three_halves>(blk);
    case RieszPower::general: return rows_power<RieszPower::general>(blk);
  }
}

void RowsF32(const RowBlock<float>& blk) { rows(blk); }
void RowsF64(const RowBlock<double>& blk) { rows(blk); }

}  // namespace HWY_NAMESPACE
}  // namespace nwgf::detail
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace nwgf::detail {

HWY_EXPORT(RowsF32);
HWY_EXPORT(RowsF64);

void pairwise_rows(const RowBlock<float>& blk) { HWY_DYNAMIC_DISPATCH(RowsF32)(blk); }
void pairwise_rows(const RowBlock<double>& blk) { HWY_DYNAMIC_DISPATCH(RowsF64)(blk); }

}  // namespace nwgf::detail
#endif
