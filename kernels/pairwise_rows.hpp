#pragma once
// The CPU pair rows of the fused pairwise sums (private to kernels/pairwise.cpp), generic over the
// kernel family (RowBlock::family; the Riesz family below, any other alike): a block of rows of
// X (and V) against a range of rows of Y (and W, b). Written once with Google Highway in
// kernels/pairwise_rows-inl.h, compiled for every x86-64 target (AVX-512 with the Ice Lake / Zen 4
// extensions, AVX-512, AVX2 + FMA, SSE4, and Highway's portable scalar fallback; NEON on Arm) and chosen
// at run time by the CPU (engine/simd.hpp).
//
// Per pair, z = x_i - y_j, s = |z|^2, u = v_i - w_j:
//   energy       value_i += sum_j b_j |z|^r
//   gradient     g_i     += sum_j b_j r |z|^{r-2} z                      (0 at z = 0)
//   directional  value_i += sum_j b_j (r |z|^{r-2} <z,u>, or at z = 0: |u| for r = 1, else 0),
//                g_i     += sum_j b_j (r |z|^{r-2} z, or at z = 0 and r = 1: u/|u|),
//                coincident += #{j : z = 0}
//   value_gradient  value_i += sum_j b_j |z|^r and g_i += sum_j b_j r |z|^{r-2} z (one sweep)
// Row sums accumulate in T within one call and are added to the double outputs.
//
// How |z|^r is evaluated: for r = 1, 1/2 and 3/2 from reciprocal square roots (the hardware
// estimate refined by Newton steps; for 1/2 and 3/2 also one IEEE square root of it, |z|^{-1/2})
// wherever a whole vector of s is normal and positive, else
// from IEEE sqrt and division (coincident points, subnormal distances); for other r by
// exp((r/2) log s) with the exponent of s split off exactly, so the error does not grow with
// |log s|. Relative error per pair: at most 4 ulp in float and 1e-14 in double, checked against
// long double on every target by tests/kernels/test_pairwise_accuracy.cpp.
#include "nwgf/engine/types.hpp"
#include "nwgf/kernels/family/pair.hpp"
#include "nwgf/kernels/family/riesz.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf::detail {

template <class T>
struct RowBlock {
  PairwisePass pass = PairwisePass::energy;
  PairFamily family = PairFamily::riesz;
  RieszPower power = RieszPower::one;  // Riesz: the evaluation path of |z|^r
  double param = 1;                    // the family's parameter (r, sigma)
  index_t d = 1;
  // Rows of X (and V): x_i = x + i ldx, i < rows.
  const T* x = nullptr;
  index_t ldx = 0;
  const T* v = nullptr;
  index_t ldv = 0;
  index_t rows = 0;
  // Columns of Y (and W): transposed (coordinate k of column j at y[k ldy + j]) or row-major
  // (y[j ldy + k]); b: jn weights or nullptr (all 1).
  bool transposed = true;
  const T* y = nullptr;
  index_t ldy = 0;
  const T* w = nullptr;
  index_t ldw = 0;
  const T* b = nullptr;
  index_t jn = 0;
  // Scratch of at least (d + 2) * max(ldy, d) + 64 elements (and d (ldy + 16) when symmetric).
  T* work = nullptr;
  // Outputs, accumulated: value (rows), g (rows, d; gradient and directional), coincident.
  double* value = nullptr;
  double* g = nullptr;
  index_t* coincident = nullptr;
  // Symmetric self pass (energy and gradient, d <= 3; Y = X, b = a): the rows are rows diag ..
  // diag + rows - 1 of the columns' numbering, and row r pairs only with the columns after it.
  // The gradient adds each pair's other side, -a_r f z, to g_columns (jn, d); the energy pass,
  // given value_columns (jn), adds a_r k to it (row sums over unordered pairs).
  bool symmetric = false;
  index_t diag = 0;
  const T* a = nullptr;  // the rows' weights as columns (b's entries for these rows)
  double* g_columns = nullptr;
  double* value_columns = nullptr;
  // d >= 16 (row-major): take every pass one pair at a time (rows_rowmajor) instead of in
  // micro-tiles. Tests (the reference the micro-tiles must match bit for bit) and measurement
  // only (set_cpu_one_pair_rows, `nwgf bench pairwise --one-pair-rows`).
  bool one_pair_rows = false;
};

void pairwise_rows(const RowBlock<float>& blk);
void pairwise_rows(const RowBlock<double>& blk);

// The two groups pairwise_rows dispatches to: the Riesz family, and every other family.
void pairwise_rows_riesz(const RowBlock<float>& blk);
void pairwise_rows_riesz(const RowBlock<double>& blk);
void pairwise_rows_families(const RowBlock<float>& blk);
void pairwise_rows_families(const RowBlock<double>& blk);

}  // namespace nwgf::detail
