#pragma once
// Per-element math of the ICNN (nn/icnn.hpp), shared by the CPU loops (nn/icnn.cpp) and the CUDA
// kernels (nn/icnn.cu). Names follow the derivation at the top of nn/icnn.cpp: unit (i, k) of
// layer l with width h and rank r; its quadratic terms p_{l,s,k} (s = 0..r-1) lie at stride h
// (the (B, r h) layout of p = x A_l), so `p` below points at p_{l,0,k} of row i.
#include <cmath>

#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf::detail {

// celu(u) = u (u > 0), e^u - 1 (u <= 0), and its first two derivatives.
template <class T>
NWGF_HD T icnn_celu(T u) {
  using std::expm1;
  return u > T(0) ? u : expm1(u);
}
template <class T>
NWGF_HD T icnn_celu_d1(T u) {
  using std::exp;
  return u > T(0) ? T(1) : exp(u);
}
template <class T>
NWGF_HD T icnn_celu_d2(T u) {
  using std::exp;
  return u > T(0) ? T(0) : exp(u);
}

// Forward, unit (i, k): u holds the GEMMs' (x W_l^T [+ z_{l-1} V_l^T])_k; u <- q = u + b_k +
// sum_s p_s^2, z <- q on the first layer (no activation), celu(q) after.
template <class T>
NWGF_HD void icnn_unit_forward(T* u, T* z, const T* p, T b, index_t r, index_t h, bool first) {
  T q = *u + b;
  for (index_t s = 0; s < r; ++s) {
    const T ps = p[s * h];
    q += ps * ps;
  }
  *u = q;
  *z = first ? q : icnn_celu(q);
}

// First reverse pass, unit (i, k): delta = g (first layer) or g celu'(u); e_s = 2 delta p_s.
template <class T>
NWGF_HD T icnn_unit_delta(T g, T u, const T* p, T* e, index_t r, index_t h, bool first) {
  const T dl = first ? g : g * icnn_celu_d1(u);
  for (index_t s = 0; s < r; ++s) e[s * h] = T(2) * dl * p[s * h];
  return dl;
}

// Reverse from T, unit (i, k): given db = (c W_l^T)_k and ca_s = (c A_l)_{s,k}, returns
// deltabar = db + sum_s 2 p_s ca_s and writes pbar_s = 2 delta ca_s.
template <class T>
NWGF_HD T icnn_unit_from_t(T db, T delta, const T* p, const T* ca, T* pb, index_t r, index_t h) {
  T acc = db;
  for (index_t s = 0; s < r; ++s) {
    acc += T(2) * p[s * h] * ca[s * h];
    pb[s * h] = T(2) * delta * ca[s * h];
  }
  return acc;
}

// First reverse pass, backwards (l >= 1), one element: ubar = deltabar g celu''(u), and
// deltabar becomes gbar = deltabar celu'(u).
template <class T>
NWGF_HD void icnn_gbar(T* db, T* ub, T g, T u) {
  *ub = *db * g * icnn_celu_d2(u);
  *db = *db * icnn_celu_d1(u);
}

// Forward pass, backwards: the increment of ubar_{l-1} from zbar_{l-1} = ubar_l V_l
// (z_0 = u_0 on the first layer; celu'(u_{l-1}) after).
template <class T>
NWGF_HD T icnn_zbar_to_ubar(T zb, T u_prev, bool first) {
  return first ? zb : zb * icnn_celu_d1(u_prev);
}

// qbar_l = ubar_l into pbar_l: the increment 2 ubar p.
template <class T>
NWGF_HD T icnn_pbar_quadratic(T ub, T p) {
  return T(2) * ub * p;
}

// A convex weight clamped to >= 0 (std::max(p, 0): NaN and -0 pass through).
template <class T>
NWGF_HD T icnn_convex_clamp(T p) {
  return p < T(0) ? T(0) : p;
}

// phi of one row: w . z_{L-1} + (eps/2) |x|^2.
template <class T>
NWGF_HD T icnn_potential_row(const T* w, const T* z, index_t h, const T* x, index_t d,
                             T half_eps) {
  T s = T(0), xx = T(0);
  for (index_t k = 0; k < h; ++k) s += w[k] * z[k];
  for (index_t j = 0; j < d; ++j) xx += x[j] * x[j];
  return s + half_eps * xx;
}

}  // namespace nwgf::detail
