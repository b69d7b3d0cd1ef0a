// The CPU pair rows (kernels/pairwise_rows.hpp), written once with Google Highway and compiled
// for each SIMD target by the translation units that include this file after
// hwy/foreach_target.h (kernels/pairwise_rows_riesz_*.cpp, kernels/pairwise_rows_families_*.cpp:
// one per group of families and element type, so that a parallel build compiles them side by
// side); Highway's dynamic dispatch runs the best one the CPU supports (or the one
// engine/simd.hpp was told to use). The rows are generic over a family's SIMD functor K (the
// interface: kernels/family/riesz.hpp, SIMD part); the per-target math they share is
// kernels/simd/pair_math-inl.h.
//
// Three layouts of the columns of Y:
// - d = 1, 2, 3 (transposed tile): one vector of columns j at a time, all d coordinates in
//   registers; two independent accumulator sets hide the FMA latency (the symmetric self
//   gradient on the AVX-512 targets: 2 or 4 rows share each vector of columns and its column
//   sums, rows_sym_gradient);
// - 4 <= d below the row-major start (transposed tile; the start is d = 16, 24 or 32 by target
//   and element type, kernels/pairwise.cpp's row_major_from): per row, a first sweep over j
//   stores the per-pair factors in scratch, a second sweep per coordinate k sums
//   f_j (x_k - y_kj);
// - from the row-major start on ("the d >= 16 rows": row-major, in place): the dot products over
//   k are vectorised, in register-blocked micro-tiles of rows x columns (with velocities too:
//   |z|^2 and <z,u> side by side), and the factor is the family's scalar functor (its cost is
//   small beside 4d flops).
#if defined(NWGF_KERNELS_PAIRWISE_ROWS_INL) == defined(HWY_TARGET_TOGGLE)
#ifdef NWGF_KERNELS_PAIRWISE_ROWS_INL
#undef NWGF_KERNELS_PAIRWISE_ROWS_INL
#else
#define NWGF_KERNELS_PAIRWISE_ROWS_INL
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include "nwgf/kernels/family/gaussian.hpp"
#include "nwgf/kernels/family/gaussian_attraction.hpp"
#include "nwgf/kernels/family/log_quadratic.hpp"
#include "nwgf/kernels/family/quartic_quadratic.hpp"
#include "nwgf/kernels/family/pair.hpp"
#include "nwgf/kernels/family/riesz.hpp"
#include "nwgf/kernels/pairwise_rows.hpp"
#include "nwgf/kernels/simd/pair_math-inl.h"

// NWGF_ROWS_TO_AVX2: this pass is an AVX-512 target and the AVX2 target's entry points
// (N_AVX2::Rows*, kernels/pairwise_rows_*.cpp) are compiled before it in this translation unit,
// so it may hand the small-d rows to them (rows_as_avx2).
#undef NWGF_ROWS_TO_AVX2
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3 && (HWY_TARGETS & HWY_AVX2) && \
    HWY_STATIC_TARGET != HWY_AVX2
#define NWGF_ROWS_TO_AVX2 1
#else
#define NWGF_ROWS_TO_AVX2 0
#endif

HWY_BEFORE_NAMESPACE();
namespace nwgf::detail {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- per-family constants of the row sums ------------------------------------------------

template <class K, PairwisePass P>
double value_sum_scale(double param) {
  return P == PairwisePass::directional ? K::grad_scale(param) : K::value_scale(param);
}

// The value term and the gradient term of s together (value_gradient pass): one evaluation where
// the family's gradient term is its value term (kGradIsValue: the Gaussian's exponential).
template <class K, bool Ieee, class D>
HWY_INLINE void value_and_grad(D d, Vec<D> s, double param, Vec<D>& e, Vec<D>& f) {
  if constexpr (requires { K::kGradIsValue; }) {
    static_assert(K::kGradIsValue);
    e = f = K::template value<Ieee>(d, s, param);
  } else {
    e = K::template value<Ieee>(d, s, param);
    f = K::template grad<Ieee>(d, s, param);
  }
}

// True when every lane of s1 and s2 allows the estimate.
template <class K, class D>
HWY_INLINE bool fast_lanes(D d, Vec<D> s1, Vec<D> s2) {
  using T = hn::TFromD<D>;
  if constexpr (!K::kFast) return false;
  const auto low = hn::Ge(hn::Min(s1, s2), hn::Set(d, estimate_low<T>()));
  if constexpr (estimate_high<T>() == std::numeric_limits<T>::infinity()) {
    return hn::AllTrue(d, low);
  } else {
    return hn::AllTrue(d, hn::And(low, hn::Le(hn::Max(s1, s2), hn::Set(d, estimate_high<T>()))));
  }
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
// Symmetric self pass: the columns' side of each pair, -a_i f z (gradient) or a_i k (energy with
// Cols: row sums), accumulates in col (DIM or 1, ldc).
template <class D>
struct ColumnSide {
  hn::TFromD<D>* col = nullptr;
  index_t ldc = 0;
  Vec<D> a_i;
};

template <class K, PairwisePass P, bool W, bool Masked, bool Fast, bool Ieee = !Fast,
          bool Sym = false, bool Cols = false, int DIM, class D>
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
    const Vec<D> e = K::template value<Ieee>(d, q.s, blk.param);
    accv = hn::Add(accv, weigh(e));
    if constexpr (Sym && Cols) {
      // Whole vectors at the tail too, as for the gradient's columns below.
      hn::TFromD<D>* c = cs.col + j;
      hn::StoreU(W ? hn::MulAdd(e, cs.a_i, hn::LoadU(d, c)) : hn::Add(e, hn::LoadU(d, c)), d, c);
    }
    return;
  }
  Vec<D> f0;
  if constexpr (P == PairwisePass::value_gradient) {
    Vec<D> e;
    value_and_grad<K, Ieee>(d, q.s, blk.param, e, f0);
    accv = hn::Add(accv, weigh(e));
  } else {
    f0 = K::template grad<Ieee>(d, q.s, blk.param);
  }
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
      if constexpr (K::kCoincident) {
        // At z = 0: rate c |u|^2 and gradient c u, c scaled like f.
        const Vec<D> fu = weigh(hn::IfThenElseZero(coinc, K::coincident_grad(d, q.uu)));
        accv = hn::MulAdd(fu, q.uu, accv);
        for (int k = 0; k < DIM; ++k) acc[k] = hn::MulAdd(fu, q.u[k], acc[k]);
      }
    }
  }
}

// The symmetric passes' column sums in scratch (RowBlock::work): `rows` rows of ldy + 16 (each
// padded by a vector, so whole-vector stores at a tile's tail stay inside), zeroed; returns the
// row stride.
template <class T>
index_t zero_column_sums(const RowBlock<T>& blk, int rows) {
  const index_t ldc = blk.ldy + 16;
  for (index_t e = 0; e < rows * ldc; ++e) blk.work[e] = T(0);
  return ldc;
}

// g_columns (jn, DIM) += gscale * the DIM rows of column sums.
template <int DIM, class T>
void add_column_gradient(const RowBlock<T>& blk, index_t ldc, double gscale) {
  for (index_t jj = 0; jj < blk.jn; ++jj) {
    for (int k = 0; k < DIM; ++k) blk.g_columns[jj * DIM + k] += gscale * double(blk.work[k * ldc + jj]);
  }
}

template <class K, PairwisePass P, bool W, int DIM, bool Sym, bool Cols, class T>
HWY_NOINLINE void rows_fixed(const RowBlock<T>& blk) {
  using D = hn::ScalableTag<T>;
  const D d;
  const index_t n = index_t(hn::Lanes(d));
  const double vscale = value_sum_scale<K, P>(blk.param), gscale = K::grad_scale(blk.param);
  const auto all = hn::FirstN(d, std::size_t(n));
  ColumnSide<D> cs;
  constexpr bool columns = Sym && Cols;
  constexpr int col_rows = P == PairwisePass::gradient ? DIM : 1;
  if constexpr (columns) {
    cs.col = blk.work;
    cs.ldc = zero_column_sums(blk, col_rows);
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
      if (HWY_LIKELY(fast_lanes<K>(d, q1.s, q2.s))) {
        // Double from the float estimate (3 Newton steps) costs as much FMA-port time as IEEE
        // sqrt and division cost divider time: one vector each keeps both units busy.
        constexpr bool split = rsqrt_steps<T>() == 3;
        add_pairs<K, P, W, false, true, false, Sym, Cols>(d, blk, q1, j, all, acc, accv, count, cs);
        add_pairs<K, P, W, false, true, split, Sym, Cols>(d, blk, q2, j + n, all, acc2, accv2, count, cs);
      } else {
        add_pairs<K, P, W, false, false, true, Sym, Cols>(d, blk, q1, j, all, acc, accv, count, cs);
        add_pairs<K, P, W, false, false, true, Sym, Cols>(d, blk, q2, j + n, all, acc2, accv2, count, cs);
      }
    }
    for (; j < blk.jn; j += n) {
      const auto valid = hn::FirstN(d, std::size_t(std::min(n, blk.jn - j)));
      const Pairs<D, DIM> q = load_pairs<P, true>(d, blk, st, j, valid);
      add_pairs<K, P, W, true, false, true, Sym, Cols>(d, blk, q, j, valid, acc, accv, count, cs);
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
  if constexpr (columns && P == PairwisePass::gradient) {
    add_column_gradient<DIM>(blk, cs.ldc, gscale);
  } else if constexpr (columns) {
    for (index_t jj = 0; jj < blk.jn; ++jj) blk.value_columns[jj] += vscale * double(cs.col[jj]);
  }
}

// ---- d = 1, 2, 3, symmetric self gradient: G rows at a time --------------------------------
//
// The symmetric gradient adds each pair's column side, -a_i f z, to the column sums in scratch.
// One row at a time that is a load and a store of d column vectors per vector of pairs (Zen 4,
// one thread: about half the rate per pair of the one-sided pass). G rows share each vector of
// columns and its d column sums: loaded once, G updates in registers (in row order), stored once.
// Row r of a group pairs with the columns from diag + i + r + 1 on: the vectors before all G
// rows start (and the tail) run masked per row, by IEEE evaluation as the other tails do.

// Rows per group: 4 where the target has 32 vector registers and d <= 2, 2 there at d = 3; the
// targets with 16 registers keep rows_fixed's one row at a time (two vectors of columns a step:
// two rows at a time ran 0.88x to 1.03x of it on the AVX2 target, Zen 4).
template <int DIM>
constexpr int sym_group_rows() {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  return DIM <= 2 ? 4 : 2;
#else
  return 1;
#endif
}

template <class K, bool W, int DIM, int G, class T>
HWY_INLINE void sym_gradient_group(const RowBlock<T>& blk, index_t i, T* col, index_t ldc) {
  using D = hn::ScalableTag<T>;
  const D d;
  const index_t n = index_t(hn::Lanes(d));
  const double gscale = K::grad_scale(blk.param);
  Vec<D> x[G][DIM], acc[G][DIM], a[G];
  for (int r = 0; r < G; ++r) {
    const T* xi = blk.x + (i + r) * blk.ldx;
    for (int k = 0; k < DIM; ++k) {
      x[r][k] = hn::Set(d, xi[k]);
      acc[r][k] = hn::Zero(d);
    }
    a[r] = hn::Set(d, W ? blk.a[i + r] : T(1));
  }
  // Row r's first column is first + r.
  const index_t first = blk.diag + i + 1;
  const index_t all_from = std::max<index_t>(0, first + G - 1);
  // A vector of columns j.. for every row of the group; Masked: row r's lanes in
  // [first + r, jn) only.
  const auto step = [&](index_t j, auto masked) {
    constexpr bool Masked = decltype(masked)::value;
    const index_t hi = std::min(n, blk.jn - j);
    const auto in_range = hn::FirstN(d, std::size_t(hi));
    Vec<D> y[DIM], c[DIM];
    for (int k = 0; k < DIM; ++k) {
      y[k] = Masked ? LoadPart(in_range, d, blk.y + k * blk.ldy + j) : hn::LoadU(d, blk.y + k * blk.ldy + j);
      c[k] = hn::LoadU(d, col + k * ldc + j);
    }
    Vec<D> bj = hn::Set(d, T(1));
    if constexpr (W) bj = Masked ? LoadPart(in_range, d, blk.b + j) : hn::LoadU(d, blk.b + j);
    Vec<D> z[G][DIM], s[G];
    for (int r = 0; r < G; ++r) {
      for (int k = 0; k < DIM; ++k) {
        z[r][k] = hn::Sub(x[r][k], y[k]);
        s[r] = k == 0 ? hn::Mul(z[r][0], z[r][0]) : hn::MulAdd(z[r][k], z[r][k], s[r]);
      }
    }
    Vec<D> f0[G];
    bool fast = false;
    if constexpr (!Masked) {
      Vec<D> lo = s[0], up = s[0];
      for (int r = 1; r < G; ++r) {
        lo = hn::Min(lo, s[r]);
        up = hn::Max(up, s[r]);
      }
      fast = fast_lanes<K>(d, lo, up);
    }
    // (Only the AVX-512 targets come here: their double estimate needs no IEEE vectors beside
    // it, unlike rows_fixed's on AVX2.)
    static_assert(rsqrt_steps<T>() != 3);
    if (HWY_LIKELY(fast)) {
      for (int r = 0; r < G; ++r) f0[r] = K::template grad<false>(d, s[r], blk.param);
    } else {
      for (int r = 0; r < G; ++r) f0[r] = K::template grad<true>(d, s[r], blk.param);
    }
    for (int r = 0; r < G; ++r) {
      Vec<D> fr = f0[r];
      if constexpr (Masked) {
        const index_t lo = std::clamp<index_t>(first + r - j, 0, n);
        const auto valid = hn::AndNot(hn::FirstN(d, std::size_t(lo)), in_range);
        fr = hn::IfThenElseZero(valid, fr);
      }
      const Vec<D> f = W ? hn::Mul(fr, bj) : fr;
      const Vec<D> fj = W ? hn::Mul(fr, a[r]) : fr;
      for (int k = 0; k < DIM; ++k) {
        acc[r][k] = hn::MulAdd(f, z[r][k], acc[r][k]);
        c[k] = hn::NegMulAdd(fj, z[r][k], c[k]);
      }
    }
    // Whole vectors at the head and tail too: the masked lanes add 0 (col rows are padded by a
    // vector, and lanes past jn are never read back).
    for (int k = 0; k < DIM; ++k) hn::StoreU(c[k], d, col + k * ldc + j);
  };
  index_t j = std::max<index_t>(0, first);
  for (; j < blk.jn && (j < all_from || j + n > blk.jn); j += n) step(j, std::true_type());
  for (; j + n <= blk.jn; j += n) step(j, std::false_type());
  if (j < blk.jn) step(j, std::true_type());
  for (int r = 0; r < G; ++r) {
    for (int k = 0; k < DIM; ++k) {
      blk.g[(i + r) * blk.d + k] += gscale * double(hn::GetLane(hn::SumOfLanes(d, acc[r][k])));
    }
  }
}

template <class K, bool W, int DIM, class T>
HWY_NOINLINE void rows_sym_gradient(const RowBlock<T>& blk) {
  constexpr int G = sym_group_rows<DIM>();
  T* col = blk.work;
  const index_t ldc = zero_column_sums(blk, DIM);
  index_t i = 0;
  for (; i + G <= blk.rows; i += G) sym_gradient_group<K, W, DIM, G>(blk, i, col, ldc);
  for (; i < blk.rows; ++i) sym_gradient_group<K, W, DIM, 1>(blk, i, col, ldc);
  add_column_gradient<DIM>(blk, ldc, K::grad_scale(blk.param));
}

// ---- 4 <= d < 16: two sweeps per row over the transposed columns -------------------------------

template <class K, PairwisePass P, class T>
HWY_NOINLINE void rows_general(const RowBlock<T>& blk) {
  using D = hn::ScalableTag<T>;
  const D d;
  constexpr bool dir = P == PairwisePass::directional;
  const index_t n = index_t(hn::Lanes(d));
  const index_t padded = (blk.jn + n - 1) / n * n;
  T* f_all = blk.work;
  T* fu_all = blk.work + padded;
  const double vscale = value_sum_scale<K, P>(blk.param), gscale = K::grad_scale(blk.param);
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
      const bool fast = !tail && fast_lanes<K>(d, s, s);
      const Vec<D> b = blk.b ? load(blk.b + j) : hn::IfThenElseZero(valid, hn::Set(d, T(1)));
      if constexpr (P == PairwisePass::energy) {
        const Vec<D> e = fast ? K::template value<false>(d, s, blk.param) : K::template value<true>(d, s, blk.param);
        accv = hn::MulAdd(b, e, accv);
        continue;
      }
      Vec<D> f0;
      if constexpr (P == PairwisePass::value_gradient) {
        Vec<D> e;
        if (fast) {
          value_and_grad<K, false>(d, s, blk.param, e, f0);
        } else {
          value_and_grad<K, true>(d, s, blk.param, e, f0);
        }
        accv = hn::MulAdd(b, e, accv);
      } else {
        f0 = fast ? K::template grad<false>(d, s, blk.param) : K::template grad<true>(d, s, blk.param);
      }
      const Vec<D> f = hn::Mul(b, f0);
      hn::StoreU(f, d, f_all + j);
      if constexpr (dir) {
        accv = hn::MulAdd(f, zu, accv);
        Vec<D> fu = hn::Zero(d);
        if (!fast) {
          const auto coinc = hn::And(hn::Eq(s, hn::Zero(d)), valid);
          count += index_t(hn::CountTrue(d, coinc));
          if constexpr (K::kCoincident) {
            fu = hn::Mul(b, hn::IfThenElseZero(coinc, K::coincident_grad(d, uu)));
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

// x rounded to T and opaque to the compiler. The directional rows add each pair's rate
// (f <z,u> from directional_pair) to the row sum as `value += rounded(q.rate)`: without it GCC
// fuses the product and the sum into one FMA in some row kernels and not in others (contraction
// across inlining, where the control flow after if-conversion allows it), and the one-pair rows
// and the micro-tiles would differ in the last bit on FMA targets.
template <class T>
HWY_INLINE T rounded(T x) {
#if HWY_ARCH_X86 && defined(__GNUC__)
  asm("" : "+x"(x));
#elif HWY_ARCH_ARM_A64 && defined(__GNUC__)
  asm("" : "+w"(x));
#else
  volatile T kept = x;
  x = kept;
#endif
  return x;
}

// a b rounded to T: the products of the scalar tails (k past the last whole vector), so that
// no compiler fuses them into the sums (an FMA in one row kernel and not in another: last-bit
// differences between the one-pair rows and the micro-tiles, and between targets, seen with the
// 256-bit rows of the AVX-512 targets).
template <class T>
HWY_INLINE T product(T a, T b) {
  return rounded(a * b);
}

// sum_k a_k b_k over k < d (a, b of length d), and with a second pair.
template <class D>
HWY_INLINE hn::TFromD<D> dot(D d, const hn::TFromD<D>* a, const hn::TFromD<D>* b, index_t len) {
  using T = hn::TFromD<D>;
  const index_t n = index_t(hn::Lanes(d));
  Vec<D> acc = hn::Zero(d);
  index_t k = 0;
  for (; k + n <= len; k += n) acc = hn::MulAdd(hn::LoadU(d, a + k), hn::LoadU(d, b + k), acc);
  T s = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; k < len; ++k) s += product(a[k], b[k]);
  return s;
}

// Whether the directional rows add the u term fu (v_i - w_j) of a pair to the vector part of the
// gradient sum: where fu = 0 and <z,u> is finite (then u is finite: any infinite or NaN u_k
// makes z_k u_k, and so <z,u>, infinite or NaN) the term is fma(0, u_k, g_k) = g_k, bit for bit
// but for the sign of a zero g_k (a sum that underflowed to -0), so it is left out; the one-pair
// rows and the micro-tiles decide it per pair alike. (The scalar tail adds it always, alike.)
template <class T>
HWY_INLINE bool directional_u_term(T fu, T zu) {
  return fu != T(0) || !std::isfinite(zu);
}

// KS: the family's scalar functor (kernels/family/riesz.hpp), for T on the host; D: the vectors
// over k (rowmajor_tag).
template <PairwisePass P, class KS, class D, class T = hn::TFromD<D>>
HWY_NOINLINE void rows_rowmajor(const RowBlock<T>& blk) {
  const D d;
  constexpr bool dir = P == PairwisePass::directional;
  const index_t n = index_t(hn::Lanes(d)), len = blk.d;
  T* z = blk.work;        // (d) x_i - y_j
  T* u = blk.work + len;  // (d) v_i - w_j, then the row's gradient sum
  T* gt = blk.work + 2 * len;
  const KS kernel = KS::make(blk.param);
  for (index_t i = 0; i < blk.rows; ++i) {
    const T* xi = blk.x + i * blk.ldx;
    const T* vi = dir ? blk.v + i * blk.ldv : nullptr;
    for (index_t k = 0; k < len; ++k) gt[k] = 0;
    T value = 0;
    index_t count = 0;
    for (index_t j = 0; j < blk.jn; ++j) {
      const T* yj = blk.y + j * blk.ldy;
      const T bj = blk.b ? blk.b[j] : T(1);
      // z = x_i - y_j (kept for the gradient passes) and s = |z|^2 in one sweep, summed in the
      // order of dot(): the vector lanes, then the tail.
      index_t k = 0;
      Vec<D> sacc = hn::Zero(d);
      for (; k + n <= len; k += n) {
        const Vec<D> zk = hn::Sub(hn::LoadU(d, xi + k), hn::LoadU(d, yj + k));
        if constexpr (P != PairwisePass::energy) hn::StoreU(zk, d, z + k);
        sacc = hn::MulAdd(zk, zk, sacc);
      }
      T s = hn::GetLane(hn::SumOfLanes(d, sacc));
      for (; k < len; ++k) {
        const T zk = xi[k] - yj[k];
        if constexpr (P != PairwisePass::energy) z[k] = zk;
        s += product(zk, zk);
      }
      if constexpr (P == PairwisePass::energy) {
        value += bj * kernel.value(s);
        continue;
      }
      T f, fu = 0;
      bool with_u = false;
      if constexpr (dir) {
        const T* wj = blk.w + j * blk.ldw;
        for (k = 0; k + n <= len; k += n) hn::StoreU(hn::Sub(hn::LoadU(d, vi + k), hn::LoadU(d, wj + k)), d, u + k);
        for (; k < len; ++k) u[k] = vi[k] - wj[k];
        const T uu = s == T(0) ? dot(d, u, u, len) : T(0);
        const T zu = dot(d, z, u, len);
        const DirectionalPair<T> q = directional_pair(kernel, bj, s, zu, uu);
        f = q.f;
        fu = q.fu;
        value += rounded(q.rate);
        count += q.coincident ? 1 : 0;
        with_u = directional_u_term(fu, zu);
      } else {
        if constexpr (P == PairwisePass::value_gradient) value += bj * kernel.value(s);
        f = bj * kernel.grad_factor(s);
      }
      const Vec<D> vf = hn::Set(d, f), vfu = hn::Set(d, fu);
      for (k = 0; k + n <= len; k += n) {
        Vec<D> g = hn::MulAdd(vf, hn::LoadU(d, z + k), hn::LoadU(d, gt + k));
        if (dir && with_u) g = hn::MulAdd(vfu, hn::LoadU(d, u + k), g);
        hn::StoreU(g, d, gt + k);
      }
      for (; k < len; ++k) gt[k] += product(f, z[k]) + (dir ? product(fu, u[k]) : T(0));
    }
    if constexpr (P != PairwisePass::gradient) blk.value[i] += double(value);
    if constexpr (P != PairwisePass::energy) {
      for (index_t k = 0; k < len; ++k) blk.g[i * len + k] += double(gt[k]);
    }
    if (blk.coincident) *blk.coincident += count;
  }
}

// The same rows for the passes without velocities (energy, gradient, value and gradient) in
// register-blocked micro-tiles of R rows x C columns: the R C dot products |z|^2 run side by
// side, each vector of x_i and y_j is loaded once per tile and serves C or R pairs, and the
// gradient sweep sum_j f_ij (x_i - y_j) is blocked alike (R row sums, each vector of y_j read
// once for R rows). Each pair's arithmetic and the order of the sums are those of rows_rowmajor
// (|z|^2: the same lanes over k, the same horizontal sum, then the scalar tail; each row's value
// and gradient sums add the columns in order, z = x_i - y_j recomputed in T exactly as it was
// stored there), so the results are bit for bit the same (tests/kernels/test_pair_rows_blocked.cpp
// checks it on every target).
//
// Tile shape (rows_rowmajor_tiles picks R per target, element type, pass and d; C = 4).
constexpr index_t kMicroCols = 4;

// One micro-tile: rows xr[0..R) against columns yc[0..C) (weights bc or nullptr), the rows' sums
// in value[R] and gt[R] (d each). Rows past the block's end repeat a valid row and write to
// scratch that is never read.
template <PairwisePass P, index_t R, index_t C, class KS, class D, class T>
HWY_INLINE void micro_tile(D d, const KS& kernel, index_t len, const T* const* xr,
                           const T* const* yc, const T* bc, T* const* gt, T* value) {
  static_assert(P != PairwisePass::directional);
  const index_t n = index_t(hn::Lanes(d));
  Vec<D> acc[R][C];
  for (index_t r = 0; r < R; ++r) {
    for (index_t c = 0; c < C; ++c) acc[r][c] = hn::Zero(d);
  }
  index_t k = 0;
  for (; k + n <= len; k += n) {
    Vec<D> xv[R];
    for (index_t r = 0; r < R; ++r) xv[r] = hn::LoadU(d, xr[r] + k);
    for (index_t c = 0; c < C; ++c) {
      const Vec<D> yv = hn::LoadU(d, yc[c] + k);
      for (index_t r = 0; r < R; ++r) {
        const Vec<D> zk = hn::Sub(xv[r], yv);
        acc[r][c] = hn::MulAdd(zk, zk, acc[r][c]);
      }
    }
  }
  const index_t tail = k;
  T s[R][C], f[R][C];
  for (index_t r = 0; r < R; ++r) {
    for (index_t c = 0; c < C; ++c) s[r][c] = hn::GetLane(hn::SumOfLanes(d, acc[r][c]));
  }
  for (index_t r = 0; r < R; ++r) {
    for (index_t c = 0; c < C; ++c) {
      for (k = tail; k < len; ++k) {
        const T zk = xr[r][k] - yc[c][k];
        s[r][c] += product(zk, zk);
      }
      const T bj = bc[c];
      if constexpr (P != PairwisePass::gradient) value[r] += bj * kernel.value(s[r][c]);
      if constexpr (P != PairwisePass::energy) f[r][c] = bj * kernel.grad_factor(s[r][c]);
    }
  }
  if constexpr (P == PairwisePass::energy) return;
  // gt_r += f_rc (x_r - y_c), c in order for each row.
  for (k = 0; k + n <= len; k += n) {
    Vec<D> xv[R], g[R];
    for (index_t r = 0; r < R; ++r) {
      xv[r] = hn::LoadU(d, xr[r] + k);
      g[r] = hn::LoadU(d, gt[r] + k);
    }
    for (index_t c = 0; c < C; ++c) {
      const Vec<D> yv = hn::LoadU(d, yc[c] + k);
      for (index_t r = 0; r < R; ++r) g[r] = hn::MulAdd(hn::Set(d, f[r][c]), hn::Sub(xv[r], yv), g[r]);
    }
    for (index_t r = 0; r < R; ++r) hn::StoreU(g[r], d, gt[r] + k);
  }
  for (index_t r = 0; r < R; ++r) {
    for (k = tail; k < len; ++k) {
      for (index_t c = 0; c < C; ++c) {
        const T zk = xr[r][k] - yc[c][k];
        gt[r][k] += product(f[r][c], zk) + T(0);
      }
    }
  }
}

// sum_k (a_k - b_k)^2 over k < d in the order of dot(d, u, u, len) on u = a - b stored (the
// differences taken in T alike): the directional pass's |u|^2 without storing u.
template <class D>
HWY_INLINE hn::TFromD<D> dot_diff(D d, const hn::TFromD<D>* a, const hn::TFromD<D>* b, index_t len) {
  using T = hn::TFromD<D>;
  const index_t n = index_t(hn::Lanes(d));
  Vec<D> acc = hn::Zero(d);
  index_t k = 0;
  for (; k + n <= len; k += n) {
    const Vec<D> uk = hn::Sub(hn::LoadU(d, a + k), hn::LoadU(d, b + k));
    acc = hn::MulAdd(uk, uk, acc);
  }
  T s = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; k < len; ++k) {
    const T uk = a[k] - b[k];
    s += product(uk, uk);
  }
  return s;
}

// The directional pass in micro-tiles of R rows x C columns: per pair |z|^2 and <z,u> side by
// side (2 R C chains; |u|^2 only for a coincident pair, where it is read), then the gradient
// sweep gt_r += f_rc z_rc + fu_rc u_rc, c in order. Each sum in the order of rows_rowmajor (the
// vector lanes over k, the horizontal sum, then the scalar tail; z and u recomputed in T as they
// were stored there), so the bits are the same. The u term of the sweep goes in for the pairs
// that directional_u_term picks, as there (the tile takes the cheaper sweep without it where no
// pair of the tile needs it: every pair but the coincident ones). Rows past the block's end
// repeat a valid row; their sums go to scratch and count[r] is not read.
template <index_t R, index_t C, class KS, class D, class T>
HWY_INLINE void micro_tile_directional(D d, const KS& kernel, index_t len, const T* const* xr,
                                       const T* const* vr, const T* const* yc, const T* const* wc,
                                       const T* bc, T* const* gt, T* value, index_t* count) {
  constexpr bool dir = true;
  const index_t n = index_t(hn::Lanes(d));
  Vec<D> as[R][C], azu[R][C];
  for (index_t r = 0; r < R; ++r) {
    for (index_t c = 0; c < C; ++c) as[r][c] = azu[r][c] = hn::Zero(d);
  }
  index_t k = 0;
  for (; k + n <= len; k += n) {
    Vec<D> xv[R], vv[R];
    for (index_t r = 0; r < R; ++r) {
      xv[r] = hn::LoadU(d, xr[r] + k);
      vv[r] = hn::LoadU(d, vr[r] + k);
    }
    for (index_t c = 0; c < C; ++c) {
      const Vec<D> yv = hn::LoadU(d, yc[c] + k), wv = hn::LoadU(d, wc[c] + k);
      for (index_t r = 0; r < R; ++r) {
        const Vec<D> zk = hn::Sub(xv[r], yv), uk = hn::Sub(vv[r], wv);
        as[r][c] = hn::MulAdd(zk, zk, as[r][c]);
        azu[r][c] = hn::MulAdd(zk, uk, azu[r][c]);
      }
    }
  }
  const index_t tail = k;
  T f[R][C], fu[R][C];
  bool u_term[R][C];
  bool with_u = false;
  for (index_t r = 0; r < R; ++r) {
    for (index_t c = 0; c < C; ++c) {
      T s = hn::GetLane(hn::SumOfLanes(d, as[r][c]));
      T zu = hn::GetLane(hn::SumOfLanes(d, azu[r][c]));
      for (k = tail; k < len; ++k) {
        const T zk = xr[r][k] - yc[c][k];
        s += product(zk, zk);
      }
      for (k = tail; k < len; ++k) {
        const T zk = xr[r][k] - yc[c][k], uk = vr[r][k] - wc[c][k];
        zu += product(zk, uk);
      }
      const T uu = s == T(0) ? dot_diff(d, vr[r], wc[c], len) : T(0);
      const DirectionalPair<T> q = directional_pair(kernel, bc[c], s, zu, uu);
      f[r][c] = q.f;
      fu[r][c] = q.fu;
      value[r] += rounded(q.rate);
      count[r] += q.coincident ? 1 : 0;
      u_term[r][c] = directional_u_term(q.fu, zu);
      with_u = with_u || u_term[r][c];
    }
  }
  // gt_r += f_rc (x_r - y_c) (+ fu_rc (v_r - w_c)), c in order for each row.
  for (k = 0; k + n <= len; k += n) {
    Vec<D> xv[R], g[R];
    for (index_t r = 0; r < R; ++r) {
      xv[r] = hn::LoadU(d, xr[r] + k);
      g[r] = hn::LoadU(d, gt[r] + k);
    }
    if (HWY_LIKELY(!with_u)) {
      for (index_t c = 0; c < C; ++c) {
        const Vec<D> yv = hn::LoadU(d, yc[c] + k);
        for (index_t r = 0; r < R; ++r) g[r] = hn::MulAdd(hn::Set(d, f[r][c]), hn::Sub(xv[r], yv), g[r]);
      }
    } else {
      for (index_t c = 0; c < C; ++c) {
        const Vec<D> yv = hn::LoadU(d, yc[c] + k), wv = hn::LoadU(d, wc[c] + k);
        for (index_t r = 0; r < R; ++r) {
          g[r] = hn::MulAdd(hn::Set(d, f[r][c]), hn::Sub(xv[r], yv), g[r]);
          if (u_term[r][c]) g[r] = hn::MulAdd(hn::Set(d, fu[r][c]), hn::Sub(hn::LoadU(d, vr[r] + k), wv), g[r]);
        }
      }
    }
    for (index_t r = 0; r < R; ++r) hn::StoreU(g[r], d, gt[r] + k);
  }
  for (index_t r = 0; r < R; ++r) {
    for (k = tail; k < len; ++k) {
      for (index_t c = 0; c < C; ++c) {
        const T zk = xr[r][k] - yc[c][k], uk = vr[r][k] - wc[c][k];
        gt[r][k] += product(f[r][c], zk) + (dir ? product(fu[r][c], uk) : T(0));
      }
    }
  }
}

// KS: the family's scalar functor; the directional pass. Scratch: (R + 1) d.
template <index_t R, class KS, class D, class T = hn::TFromD<D>>
HWY_NOINLINE void rows_rowmajor_blocked_directional(const RowBlock<T>& blk) {
  const D d;
  constexpr index_t C = kMicroCols;
  const index_t len = blk.d;
  const KS kernel = KS::make(blk.param);
  const T ones[C] = {T(1), T(1), T(1), T(1)};
  for (index_t i0 = 0; i0 < blk.rows; i0 += R) {
    const index_t rn = std::min(R, blk.rows - i0);
    const T* xr[R];
    const T* vr[R];
    T* gt[R];
    T value[R] = {};
    index_t count[R] = {};
    for (index_t r = 0; r < R; ++r) {
      const index_t i = i0 + std::min(r, rn - 1);
      xr[r] = blk.x + i * blk.ldx;
      vr[r] = blk.v + i * blk.ldv;
      gt[r] = blk.work + std::min(r, rn) * len;
    }
    for (index_t k = 0; k < (rn + 1) * len; ++k) blk.work[k] = T(0);
    index_t j = 0;
    for (; j + C <= blk.jn; j += C) {
      const T* yc[C];
      const T* wc[C];
      for (index_t c = 0; c < C; ++c) {
        yc[c] = blk.y + (j + c) * blk.ldy;
        wc[c] = blk.w + (j + c) * blk.ldw;
      }
      micro_tile_directional<R, C>(d, kernel, len, xr, vr, yc, wc, blk.b ? blk.b + j : ones, gt,
                                   value, count);
    }
    for (; j < blk.jn; ++j) {
      const T* yc[1] = {blk.y + j * blk.ldy};
      const T* wc[1] = {blk.w + j * blk.ldw};
      micro_tile_directional<R, 1>(d, kernel, len, xr, vr, yc, wc, blk.b ? blk.b + j : ones, gt,
                                   value, count);
    }
    for (index_t r = 0; r < rn; ++r) {
      blk.value[i0 + r] += double(value[r]);
      for (index_t k = 0; k < len; ++k) blk.g[(i0 + r) * len + k] += double(gt[r][k]);
      if (blk.coincident) *blk.coincident += count[r];
    }
  }
}

// KS: the family's scalar functor; P: energy, gradient or value_gradient. Scratch: (R + 1) d.
template <PairwisePass P, index_t R, class KS, class D, class T = hn::TFromD<D>>
HWY_NOINLINE void rows_rowmajor_blocked(const RowBlock<T>& blk) {
  const D d;
  constexpr index_t C = kMicroCols;
  constexpr bool grad = P != PairwisePass::energy;
  const index_t len = blk.d;
  const KS kernel = KS::make(blk.param);
  // Without weights, b_j = 1 read from memory like a weight.
  const T ones[C] = {T(1), T(1), T(1), T(1)};
  for (index_t i0 = 0; i0 < blk.rows; i0 += R) {
    const index_t rn = std::min(R, blk.rows - i0);
    const T* xr[R];
    T* gt[R];
    T value[R] = {};
    for (index_t r = 0; r < R; ++r) {
      // Rows past the end: the last row again, its sums into the spare row of scratch.
      xr[r] = blk.x + (i0 + std::min(r, rn - 1)) * blk.ldx;
      gt[r] = blk.work + std::min(r, rn) * len;
    }
    if constexpr (grad) {
      for (index_t k = 0; k < (rn + 1) * len; ++k) blk.work[k] = T(0);
    }
    index_t j = 0;
    for (; j + C <= blk.jn; j += C) {
      const T* yc[C];
      for (index_t c = 0; c < C; ++c) yc[c] = blk.y + (j + c) * blk.ldy;
      micro_tile<P, R, C>(d, kernel, len, xr, yc, blk.b ? blk.b + j : ones, gt, value);
    }
    for (; j < blk.jn; ++j) {
      const T* yc[1] = {blk.y + j * blk.ldy};
      micro_tile<P, R, 1>(d, kernel, len, xr, yc, blk.b ? blk.b + j : ones, gt, value);
    }
    for (index_t r = 0; r < rn; ++r) {
      if constexpr (P != PairwisePass::gradient) blk.value[i0 + r] += double(value[r]);
      if constexpr (grad) {
        for (index_t k = 0; k < len; ++k) blk.g[(i0 + r) * len + k] += double(gt[r][k]);
      }
    }
  }
}

// The micro-tiles' rows R (C = 4 columns) per target, element type, pass and d, measured on one
// Zen 4 thread (README "Performance"):
// - energy, gradient, value and gradient: AVX-512 (32 vector registers) 4 x 4: 16 accumulators
//   + 4 rows + a column and a difference; AVX2, SSE4 and the fallback (16 registers) 2 x 4
//   (3 x 4 spills: 0.83x to 0.89x), but 1 x 4 for double below d = 48 (d = 16: 1.27x, d = 32:
//   1.1x the 2 x 4 rate; d = 64: 0.9x; float d = 16: 0.95x);
// - directional (|z|^2 and <z,u>: 2 R C accumulators, R rows of x and of v): AVX-512 2 x 4
//   (16 + 4 + 2 columns + z, u; 1 x 4 runs 0.7x at d = 784 double, within 6% at d = 16 to 64);
//   elsewhere 1 x 4 (8 + 2 + 2 + 2 of 16; 2 x 4 runs 0.90x to 0.98x at d = 16 to 200), but
//   2 x 4 where a row takes 4 KiB or more (d sizeof(T) >= 4096: the rows and 4 columns of X, V,
//   Y, W outgrow the 32 KiB L1 at 1 x 4; double d = 784: 1.2x).
template <PairwisePass P, class KS, class D, class T = hn::TFromD<D>>
void rows_rowmajor_tiles(const RowBlock<T>& blk) {
  constexpr bool dir = P == PairwisePass::directional;
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  if constexpr (dir) return rows_rowmajor_blocked_directional<2, KS, D>(blk);
  else return rows_rowmajor_blocked<P, 4, KS, D>(blk);
#else
  if constexpr (dir) {
    if (blk.d * index_t(sizeof(T)) >= 4096) return rows_rowmajor_blocked_directional<2, KS, D>(blk);
    return rows_rowmajor_blocked_directional<1, KS, D>(blk);
  } else {
    if (sizeof(T) == 8 && blk.d < 48) return rows_rowmajor_blocked<P, 1, KS, D>(blk);
    return rows_rowmajor_blocked<P, 2, KS, D>(blk);
  }
#endif
}

// The d >= 16 rows (row-major Y) with vectors of D over k: one pair at a time or in micro-tiles.
template <PairwisePass P, class KS, class D, class T = hn::TFromD<D>>
void rows_rowmajor_pass(const RowBlock<T>& blk) {
  // One pair at a time when a test or a measurement asks for it (RowBlock::one_pair_rows, the
  // reference of the micro-tiles). The energy pass alone gains nothing from the tiles below
  // d = 32 (0.8x to 0.9x at d = 16 on one Zen 4 thread, AVX-512 and AVX2): the per-pair
  // horizontal sums and scalar factors dominate there.
  if (blk.one_pair_rows || (P == PairwisePass::energy && blk.d < 32)) {
    return rows_rowmajor<P, KS, D>(blk);
  }
  return rows_rowmajor_tiles<P, KS, D>(blk);
}

// The d >= 16 rows on the AVX-512 targets at small d, measured on one Zen 4 thread (README
// "Pair rows at small d on AVX-512"): there a pair's |z|^2 is one or two 512-bit vectors, its
// horizontal sum (one per pair) outweighs the wider FMAs, and a d that is not a multiple of the
// 16 (8) lanes leaves a long scalar tail. So
// - the double energy pass below d = 48: the AVX2 target's rows themselves (rows_as_avx2: its
//   tile shapes, its code, its bits); the AVX-512 tiles lose to them there even with 256-bit
//   vectors (so did the other passes below d = 32, which on these targets now take the
//   transposed tiles: kernels/pairwise.cpp, row_major_from);
// - the directional pass on rows of at most kNarrowRowBytes bytes: 256-bit vectors (the AVX2
//   target's lanes and order of the sums, so its bits) in the AVX-512 2 x 4 tiles (1.1x to 1.3x
//   the 512-bit tiles at float d = 32 to 192, 1.05x to 1.15x at double d = 32 to 100, where the
//   512-bit ones ran 0.8x to 0.9x the AVX2 target's);
// - the other passes from d = 32 on, and longer rows: 512-bit vectors (the 256-bit tiles ran
//   within 10% of them there, slower as often as faster).
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
constexpr bool kNarrowSmallRows = true;
#else
constexpr bool kNarrowSmallRows = false;
#endif
constexpr index_t kNarrowRowBytes = 1024;
template <class T>
using NarrowRowTag = hn::CappedTag<T, 32 / sizeof(T)>;

// Whether this target hands blk to the AVX2 target's rows (the translation units'
// entry points, kernels/pairwise_rows_*.cpp): the double energy pass below d = 48 (the AVX2
// target's 1 x 4 tiles there ran 1.1x the AVX-512 ones at d = 32).
template <class T>
bool rows_as_avx2(const RowBlock<T>& blk) {
  if (!kNarrowSmallRows || blk.transposed) return false;
  return sizeof(T) == 8 && blk.pass == PairwisePass::energy && blk.d < 48;
}

// ---- dispatch on the family, the pass, the weights and d ---------------------------------------

template <class K, PairwisePass P, int DIM, class T>
void rows_fixed_sym(const RowBlock<T>& blk, bool w) {
  if constexpr (P == PairwisePass::directional || P == PairwisePass::value_gradient) {
    return w ? rows_fixed<K, P, true, DIM, false, false>(blk)
             : rows_fixed<K, P, false, DIM, false, false>(blk);
  } else if constexpr (P == PairwisePass::gradient) {
    // The symmetric gradient always adds the columns' side.
    if (blk.symmetric) {
      if constexpr (sym_group_rows<DIM>() > 1) {
        return w ? rows_sym_gradient<K, true, DIM>(blk) : rows_sym_gradient<K, false, DIM>(blk);
      }
      return w ? rows_fixed<K, P, true, DIM, true, true>(blk) : rows_fixed<K, P, false, DIM, true, true>(blk);
    }
    return w ? rows_fixed<K, P, true, DIM, false, false>(blk)
             : rows_fixed<K, P, false, DIM, false, false>(blk);
  } else {
    // The symmetric energy adds the columns' side when row sums are wanted.
    if (blk.symmetric && blk.value_columns) {
      return w ? rows_fixed<K, P, true, DIM, true, true>(blk) : rows_fixed<K, P, false, DIM, true, true>(blk);
    }
    if (blk.symmetric) {
      return w ? rows_fixed<K, P, true, DIM, true, false>(blk) : rows_fixed<K, P, false, DIM, true, false>(blk);
    }
    return w ? rows_fixed<K, P, true, DIM, false, false>(blk)
             : rows_fixed<K, P, false, DIM, false, false>(blk);
  }
}

template <class K, PairwisePass P, class T>
void rows_family_pass(const RowBlock<T>& blk) {
  if (!blk.transposed) {
    using KS = typename K::template Scalar<T>;
    if constexpr (kNarrowSmallRows) {
      if (P == PairwisePass::directional && blk.d * index_t(sizeof(T)) <= kNarrowRowBytes) {
        return rows_rowmajor_pass<P, KS, NarrowRowTag<T>>(blk);
      }
    }
    return rows_rowmajor_pass<P, KS, hn::ScalableTag<T>>(blk);
  }
  const bool w = blk.b != nullptr;
  switch (blk.d) {
    case 1: return rows_fixed_sym<K, P, 1>(blk, w);
    case 2: return rows_fixed_sym<K, P, 2>(blk, w);
    case 3: return rows_fixed_sym<K, P, 3>(blk, w);
    default: return rows_general<K, P>(blk);
  }
}

template <class K, class T>
void rows_family(const RowBlock<T>& blk) {
  switch (blk.pass) {
    case PairwisePass::energy: return rows_family_pass<K, PairwisePass::energy>(blk);
    case PairwisePass::gradient: return rows_family_pass<K, PairwisePass::gradient>(blk);
    case PairwisePass::directional: return rows_family_pass<K, PairwisePass::directional>(blk);
    case PairwisePass::value_gradient: return rows_family_pass<K, PairwisePass::value_gradient>(blk);
  }
}

// The Riesz family (its evaluation path of |z|^r) and the other families, each group compiled
// in translation units of its own.
template <class T>
void rows_riesz(const RowBlock<T>& blk) {
  switch (blk.power) {
    case RieszPower::one: return rows_family<RieszSimd<RieszPower::one>>(blk);
    case RieszPower::half: return rows_family<RieszSimd<RieszPower::half>>(blk);
    case RieszPower::three_halves: return rows_family<RieszSimd<RieszPower::three_halves>>(blk);
    case RieszPower::general: return rows_family<RieszSimd<RieszPower::general>>(blk);
  }
}

template <class T>
void rows_families(const RowBlock<T>& blk) {
  switch (blk.family) {
    case PairFamily::gaussian: return rows_family<GaussianSimd>(blk);
    case PairFamily::quartic_quadratic: return rows_family<QuarticQuadraticSimd>(blk);
    case PairFamily::log_quadratic: return rows_family<LogQuadraticSimd>(blk);
    case PairFamily::gaussian_attraction: return rows_family<GaussianAttractionSimd>(blk);
    case PairFamily::riesz: break;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace nwgf::detail
HWY_AFTER_NAMESPACE();

#endif  // NWGF_KERNELS_PAIRWISE_ROWS_INL toggle
