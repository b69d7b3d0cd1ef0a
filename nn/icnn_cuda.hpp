#pragma once
// Launchers of the ICNN's elementwise CUDA kernels (nn/icnn.cu; the math in nn/icnn_math.hpp);
// called by nn/icnn.cpp on the CUDA backend only. All enqueue on ctx's stream and never
// synchronise. Layouts as in nn/icnn.cpp: a layer's units (B, h) row-major, its quadratic terms
// (B, r h) with term s of unit k at column s h + k.
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf::detail {

#ifdef NWGF_HAVE_CUDA
// u, z (B, h): u <- u + b + sum_s p_s^2, z <- u (first) or celu(u).
template <class T>
void cuda_icnn_forward_units(const Context& ctx, T* u, T* z, const T* p, const T* b, index_t B,
                             index_t h, index_t r, bool first);
// g, delta (B, h), e (B, r h): if w, g <- 1 w^T first (the last layer); delta <- g (first) or
// g celu'(u); e_s <- 2 delta p_s.
template <class T>
void cuda_icnn_delta(const Context& ctx, T* g, T* delta, T* e, const T* u, const T* p,
                     const T* w, index_t B, index_t h, index_t r, bool first);
// db (B, h) <- db + sum_s 2 p_s ca_s, pb (B, r h) <- 2 delta ca.
template <class T>
void cuda_icnn_from_t(const Context& ctx, T* db, T* pb, const T* delta, const T* p, const T* ca,
                      index_t B, index_t h, index_t r);
// Over count elements: ub <- db g celu''(u), db <- db celu'(u).
template <class T>
void cuda_icnn_gbar(const Context& ctx, T* db, T* ub, const T* g, const T* u, index_t count);
// Over count elements: ub_prev += zb (first) or zb celu'(u_prev).
template <class T>
void cuda_icnn_zbar(const Context& ctx, T* ub_prev, const T* zb, const T* u_prev, index_t count,
                    bool first);
// pb (B, r h) += 2 ub p (ub (B, h)).
template <class T>
void cuda_icnn_pbar(const Context& ctx, T* pb, const T* ub, const T* p, index_t B, index_t h,
                    index_t r);
// out <- eps x over count elements.
template <class T>
void cuda_icnn_scale(const Context& ctx, T* out, const T* x, T eps, index_t count);
// p <- max(p, 0) over count elements.
template <class T>
void cuda_icnn_clamp(const Context& ctx, T* p, index_t count);
// phi (B) <- w . z_i + half_eps |x_i|^2, z (B, h), x (B, d).
template <class T>
void cuda_icnn_potential(const Context& ctx, T* phi, const T* w, const T* z, index_t h,
                         const T* x, index_t d, T half_eps, index_t B);
#endif

}  // namespace nwgf::detail
