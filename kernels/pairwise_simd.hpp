#pragma once
// AVX-512 row kernels for the hottest CPU case, r = 1 with small d (energy and gradient): one row
// x_i against a transposed tile (d, jb) of Y. 1/|z| comes from rsqrt14 refined by Newton steps
// y <- y (3/2 - s y^2 / 2) (riesz::rsqrt_newton): one step for float (relative error ~1e-7, the
// float rounding level), two for double (~1e-16). GCC does not vectorise 1/sqrt without
// -fno-math-errno, hence intrinsics. Private to kernels/pairwise.cpp.
#if defined(__AVX512F__)
#include <immintrin.h>

#include <cfloat>
#include <cstring>

#include "engine/types.hpp"

namespace nwgf::detail {

// The intrinsics' own reductions and unmasked forms trip GCC 12's -Wuninitialized (they start
// from _mm512_undefined_*), hence the maskz forms and a lane-by-lane sum (once per row and tile).
template <class T, int W, class V>
T lane_sum(V a) {
  alignas(64) T lanes[W];
  std::memcpy(lanes, &a, sizeof lanes);
  T s = 0;
  for (int k = 0; k < W; ++k) s += lanes[k];
  return s;
}

template <class T>
struct Avx512;

template <>
struct Avx512<float> {
  using V = __m512;
  using M = __mmask16;
  static constexpr int width = 16;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static V set1(float a) { return _mm512_set1_ps(a); }
  static V zero() { return _mm512_setzero_ps(); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mask_zero(V a, M m) { return _mm512_maskz_mov_ps(m, a); }
  static M is_zero(V a) { return _mm512_cmp_ps_mask(a, zero(), _CMP_EQ_OQ); }
  static constexpr M all = M(0xFFFF);
  static M tail(int n) { return M((1u << n) - 1u); }
  static float sum(V a) { return lane_sum<float, width>(a); }
  // 1/sqrt(s), s clamped to FLT_MIN so that s = 0 gives a finite factor (times z = 0: 0).
  static V rsqrt(V s) {
    s = _mm512_maskz_max_ps(M(0xFFFF), s, set1(FLT_MIN));
    return newton(_mm512_maskz_rsqrt14_ps(M(0xFFFF), s), s);
  }
  static V newton(V y, V s) {
    const V hs = mul(set1(0.5f), s);
    return mul(y, _mm512_fnmadd_ps(mul(hs, y), y, set1(1.5f)));
  }
};

template <>
struct Avx512<double> {
  using V = __m512d;
  using M = __mmask8;
  static constexpr int width = 8;
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static V load(const double* p, M m) { return _mm512_maskz_loadu_pd(m, p); }
  static V set1(double a) { return _mm512_set1_pd(a); }
  static V zero() { return _mm512_setzero_pd(); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V sub(V a, V b) { return _mm512_sub_pd(a, b); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mask_zero(V a, M m) { return _mm512_maskz_mov_pd(m, a); }
  static M is_zero(V a) { return _mm512_cmp_pd_mask(a, zero(), _CMP_EQ_OQ); }
  static constexpr M all = M(0xFF);
  static M tail(int n) { return M((1u << n) - 1u); }
  static double sum(V a) { return lane_sum<double, width>(a); }
  static V rsqrt(V s) {
    s = _mm512_maskz_max_pd(M(0xFF), s, set1(DBL_MIN));
    return newton(newton(_mm512_maskz_rsqrt14_pd(M(0xFF), s), s), s);
  }
  static V newton(V y, V s) {
    const V hs = mul(set1(0.5), s);
    return mul(y, _mm512_fnmadd_pd(mul(hs, y), y, set1(1.5)));
  }
};

// One vector of W pairs of the r = 1 row kernel: z = x - y, f = b / |z|; then a += f z
// (gradient) or ev += f s = b |z| (energy). Masked: only the first `left` lanes count.
template <class T, int D, bool Gradient, bool Weighted, bool Masked>
[[gnu::always_inline]] inline void avx512_step_r1(const typename Avx512<T>::V* x, const T* yt,
                                                  const T* bt, index_t j, index_t jb, int left,
                                                  typename Avx512<T>::V* a,
                                                  typename Avx512<T>::V& ev) {
  using S = Avx512<T>;
  using V = typename S::V;
  V z[D];
  V s = S::zero();
  for (int k = 0; k < D; ++k) {
    const V yk = Masked ? S::load(yt + k * jb + j, S::tail(left)) : S::load(yt + k * jb + j);
    z[k] = S::sub(x[k], yk);
    s = S::fmadd(z[k], z[k], s);
  }
  V f = S::rsqrt(s);
  if constexpr (Weighted) {
    f = S::mul(f, Masked ? S::load(bt + j, S::tail(left)) : S::load(bt + j));
  } else if constexpr (Masked) {
    f = S::mask_zero(f, S::tail(left));
  }
  if constexpr (Gradient) {
    for (int k = 0; k < D; ++k) a[k] = S::fmadd(f, z[k], a[k]);
  } else {
    ev = S::fmadd(f, s, ev);
  }
}

// r = 1, d = D: adds sum_j b_j z_j / |z_j| to g (Gradient) or returns sum_j b_j |z_j| (energy).
// yt: (D, jb) transposed tile, bt: (jn) weights, used when Weighted.
template <class T, int D, bool Gradient, bool Weighted>
T avx512_row_tile_r1(const T* xi, const T* yt, const T* bt, index_t jn, index_t jb, double* g) {
  using S = Avx512<T>;
  using V = typename S::V;
  constexpr int W = S::width;
  V x[D], acc[D], acc2[D];
  for (int k = 0; k < D; ++k) {
    x[k] = S::set1(xi[k]);
    acc[k] = acc2[k] = S::zero();
  }
  V e = S::zero(), e2 = S::zero();
  index_t j = 0;
  for (; j + 2 * W <= jn; j += 2 * W) {
    avx512_step_r1<T, D, Gradient, Weighted, false>(x, yt, bt, j, jb, 0, acc, e);
    avx512_step_r1<T, D, Gradient, Weighted, false>(x, yt, bt, j + W, jb, 0, acc2, e2);
  }
  for (; j + W <= jn; j += W) avx512_step_r1<T, D, Gradient, Weighted, false>(x, yt, bt, j, jb, 0, acc, e);
  if (j < jn) avx512_step_r1<T, D, Gradient, Weighted, true>(x, yt, bt, j, jb, int(jn - j), acc, e);
  if constexpr (Gradient) {
    for (int k = 0; k < D; ++k) g[k] += double(S::sum(S::add(acc[k], acc2[k])));
    return T(0);
  } else {
    return S::sum(S::add(e, e2));
  }
}

// Directional derivative, r = 1, d = D: with z = x_i - y_j, u = v_i - w_j, adds
// sum_j b_j (z/|z| or, at coincident pairs, u/|u|) to g and returns sum_j b_j (<z,u>/|z| or |u|);
// counts coincident pairs. The clamped rsqrt keeps f finite at z = 0, where f z = f <z,u> = 0.
template <class T, int D>
T avx512_row_tile_dir_r1(const T* xi, const T* vi, const T* yt, const T* wt, const T* bt,
                         index_t jn, index_t jb, double* g, index_t& coincident) {
  using S = Avx512<T>;
  using V = typename S::V;
  using M = typename S::M;
  constexpr int W = S::width;
  V x[D], v[D], acc[D];
  for (int k = 0; k < D; ++k) {
    x[k] = S::set1(xi[k]);
    v[k] = S::set1(vi[k]);
    acc[k] = S::zero();
  }
  V rate = S::zero();
  index_t cnt = 0;
  for (index_t j = 0; j < jn; j += W) {
    const int left = int(jn - j < W ? jn - j : W);
    const M valid = left == W ? S::all : S::tail(left);
    V z[D], u[D];
    V s = S::zero(), zu = S::zero(), uu = S::zero();
    for (int k = 0; k < D; ++k) {
      z[k] = S::sub(x[k], S::load(yt + k * jb + j, valid));
      u[k] = S::sub(v[k], S::load(wt + k * jb + j, valid));
      s = S::fmadd(z[k], z[k], s);
      zu = S::fmadd(z[k], u[k], zu);
      uu = S::fmadd(u[k], u[k], uu);
    }
    const V b = S::load(bt + j, valid);
    const M coinc = M(S::is_zero(s) & valid);
    const V f = S::mask_zero(S::mul(b, S::rsqrt(s)), valid);
    const V fu = S::mask_zero(S::mul(b, S::rsqrt(uu)), coinc);
    rate = S::fmadd(fu, uu, S::fmadd(f, zu, rate));
    for (int k = 0; k < D; ++k) acc[k] = S::fmadd(fu, u[k], S::fmadd(f, z[k], acc[k]));
    cnt += __builtin_popcount(unsigned(coinc));
  }
  for (int k = 0; k < D; ++k) g[k] += double(S::sum(acc[k]));
  coincident += cnt;
  return S::sum(rate);
}

}  // namespace nwgf::detail
#endif
