// CUDA kernels of the ICNN's elementwise work (nn/icnn.hpp): the quadratic skips and CELU after
// the forward GEMMs, the first reverse pass's deltas, and the double backprop's elementwise
// steps; the per-element math is nn/icnn_math.hpp's, which the CPU loops (nn/icnn.cpp) call too.
// GEMMs and column sums are launched by nn/icnn.cpp (engine/blas, nn/mlp.cu's column sum).
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/nn/icnn_cuda.hpp"
#include "nwgf/nn/icnn_math.hpp"

namespace nwgf::detail {
namespace {

constexpr int threads = 256;

template <class T>
__global__ void icnn_forward_units_kernel(T* u, T* z, const T* p, const T* b, index_t B,
                                          index_t h, index_t r, bool first) {
  const index_t n = B * h;
  for (index_t at = index_t(blockIdx.x) * blockDim.x + threadIdx.x; at < n;
       at += index_t(gridDim.x) * blockDim.x) {
    const index_t i = at / h, k = at - i * h;
    icnn_unit_forward(&u[at], &z[at], p + i * r * h + k, b[k], r, h, first);
  }
}

template <class T>
__global__ void icnn_delta_kernel(T* g, T* delta, T* e, const T* u, const T* p, const T* w,
                                  index_t B, index_t h, index_t r, bool first) {
  const index_t n = B * h;
  for (index_t at = index_t(blockIdx.x) * blockDim.x + threadIdx.x; at < n;
       at += index_t(gridDim.x) * blockDim.x) {
    const index_t i = at / h, k = at - i * h;
    if (w) g[at] = w[k];
    const index_t q = i * r * h + k;
    delta[at] = icnn_unit_delta(g[at], u[at], p + q, e + q, r, h, first);
  }
}

template <class T>
__global__ void icnn_from_t_kernel(T* db, T* pb, const T* delta, const T* p, const T* ca,
                                   index_t B, index_t h, index_t r) {
  const index_t n = B * h;
  for (index_t at = index_t(blockIdx.x) * blockDim.x + threadIdx.x; at < n;
       at += index_t(gridDim.x) * blockDim.x) {
    const index_t i = at / h, k = at - i * h;
    const index_t q = i * r * h + k;
    db[at] = icnn_unit_from_t(db[at], delta[at], p + q, ca + q, pb + q, r, h);
  }
}

template <class T>
__global__ void icnn_gbar_kernel(T* db, T* ub, const T* g, const T* u, index_t count) {
  for (index_t at = index_t(blockIdx.x) * blockDim.x + threadIdx.x; at < count;
       at += index_t(gridDim.x) * blockDim.x) {
    icnn_gbar(&db[at], &ub[at], g[at], u[at]);
  }
}

template <class T>
__global__ void icnn_zbar_kernel(T* ub_prev, const T* zb, const T* u_prev, index_t count,
                                 bool first) {
  for (index_t at = index_t(blockIdx.x) * blockDim.x + threadIdx.x; at < count;
       at += index_t(gridDim.x) * blockDim.x) {
    ub_prev[at] += icnn_zbar_to_ubar(zb[at], u_prev[at], first);
  }
}

// One thread per quadratic term (i, s, k).
template <class T>
__global__ void icnn_pbar_kernel(T* pb, const T* ub, const T* p, index_t B, index_t h,
                                 index_t r) {
  const index_t rh = r * h, n = B * rh;
  for (index_t at = index_t(blockIdx.x) * blockDim.x + threadIdx.x; at < n;
       at += index_t(gridDim.x) * blockDim.x) {
    const index_t i = at / rh, k = (at - i * rh) % h;
    pb[at] += icnn_pbar_quadratic(ub[i * h + k], p[at]);
  }
}

template <class T>
__global__ void icnn_scale_kernel(T* out, const T* x, T eps, index_t count) {
  for (index_t at = index_t(blockIdx.x) * blockDim.x + threadIdx.x; at < count;
       at += index_t(gridDim.x) * blockDim.x) {
    out[at] = eps * x[at];
  }
}

template <class T>
__global__ void icnn_clamp_kernel(T* p, index_t count) {
  for (index_t at = index_t(blockIdx.x) * blockDim.x + threadIdx.x; at < count;
       at += index_t(gridDim.x) * blockDim.x) {
    p[at] = icnn_convex_clamp(p[at]);
  }
}

// One thread per row.
template <class T>
__global__ void icnn_potential_kernel(T* phi, const T* w, const T* z, index_t h, const T* x,
                                      index_t d, T half_eps, index_t B) {
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < B;
       i += index_t(gridDim.x) * blockDim.x) {
    phi[i] = icnn_potential_row(w, z + i * h, h, x + i * d, d, half_eps);
  }
}

unsigned grid(index_t n) { return grid_for((long long)n, threads); }

}  // namespace

template <class T>
void cuda_icnn_forward_units(const Context& ctx, T* u, T* z, const T* p, const T* b, index_t B,
                             index_t h, index_t r, bool first) {
  icnn_forward_units_kernel<T><<<grid(B * h), threads, 0, stream_of(ctx)>>>(u, z, p, b, B, h, r,
                                                                          first);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_icnn_delta(const Context& ctx, T* g, T* delta, T* e, const T* u, const T* p,
                     const T* w, index_t B, index_t h, index_t r, bool first) {
  icnn_delta_kernel<T><<<grid(B * h), threads, 0, stream_of(ctx)>>>(g, delta, e, u, p, w, B, h,
                                                                  r, first);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_icnn_from_t(const Context& ctx, T* db, T* pb, const T* delta, const T* p, const T* ca,
                      index_t B, index_t h, index_t r) {
  icnn_from_t_kernel<T><<<grid(B * h), threads, 0, stream_of(ctx)>>>(db, pb, delta, p, ca, B, h,
                                                                   r);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_icnn_gbar(const Context& ctx, T* db, T* ub, const T* g, const T* u, index_t count) {
  icnn_gbar_kernel<T><<<grid(count), threads, 0, stream_of(ctx)>>>(db, ub, g, u, count);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_icnn_zbar(const Context& ctx, T* ub_prev, const T* zb, const T* u_prev, index_t count,
                    bool first) {
  icnn_zbar_kernel<T><<<grid(count), threads, 0, stream_of(ctx)>>>(ub_prev, zb, u_prev, count,
                                                                 first);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_icnn_pbar(const Context& ctx, T* pb, const T* ub, const T* p, index_t B, index_t h,
                    index_t r) {
  icnn_pbar_kernel<T><<<grid(B * r * h), threads, 0, stream_of(ctx)>>>(pb, ub, p, B, h, r);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_icnn_scale(const Context& ctx, T* out, const T* x, T eps, index_t count) {
  icnn_scale_kernel<T><<<grid(count), threads, 0, stream_of(ctx)>>>(out, x, eps, count);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_icnn_clamp(const Context& ctx, T* p, index_t count) {
  icnn_clamp_kernel<T><<<grid(count), threads, 0, stream_of(ctx)>>>(p, count);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_icnn_potential(const Context& ctx, T* phi, const T* w, const T* z, index_t h,
                         const T* x, index_t d, T half_eps, index_t B) {
  icnn_potential_kernel<T><<<grid(B), threads, 0, stream_of(ctx)>>>(phi, w, z, h, x, d, half_eps,
                                                                  B);
  NWGF_CUDA_LAUNCH_CHECK();
}

#define NWGF_INSTANTIATE(T)                                                                     \
  template void cuda_icnn_forward_units<T>(const Context&, T*, T*, const T*, const T*, index_t, \
                                           index_t, index_t, bool);                             \
  template void cuda_icnn_delta<T>(const Context&, T*, T*, T*, const T*, const T*, const T*,    \
                                   index_t, index_t, index_t, bool);                            \
  template void cuda_icnn_from_t<T>(const Context&, T*, T*, const T*, const T*, const T*,       \
                                    index_t, index_t, index_t);                                 \
  template void cuda_icnn_gbar<T>(const Context&, T*, T*, const T*, const T*, index_t);         \
  template void cuda_icnn_zbar<T>(const Context&, T*, const T*, const T*, index_t, bool);       \
  template void cuda_icnn_pbar<T>(const Context&, T*, const T*, const T*, index_t, index_t,     \
                                  index_t);                                                     \
  template void cuda_icnn_scale<T>(const Context&, T*, const T*, T, index_t);                   \
  template void cuda_icnn_clamp<T>(const Context&, T*, index_t);                                \
  template void cuda_icnn_potential<T>(const Context&, T*, const T*, const T*, index_t,         \
                                       const T*, index_t, T, index_t);
NWGF_INSTANTIATE(float)
NWGF_INSTANTIATE(double)
#undef NWGF_INSTANTIATE

}  // namespace nwgf::detail
