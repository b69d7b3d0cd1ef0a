// CUDA backend of the sliced Riesz sums (kernels/sliced.hpp). Per chunk of directions:
// projections by cuBLAS, one CUB device-wide radix sort per direction (host side), then our
// kernels: each sorted element finds its tie group and its rank in the other sorted set by
// binary search (kernels/sliced_math.hpp, the same math as the CPU merge), writes its gradient
// entry G[s, i] and its p dS/dp (Euler) to its block's partials, which are then added to the
// running sums in a fixed order (kernels/reduce.hpp: deterministic, no atomics); back-projection
// by cuBLAS.
#include <algorithm>
#include <cstddef>
#include <cub/device/device_radix_sort.cuh>
#include <vector>

#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/reduce.cuh"
#include "nwgf/kernels/reduce.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "nwgf/kernels/sliced_math.hpp"

namespace nwgf::detail {
namespace {

constexpr int kThreads = 256;  // a multiple of 32 (block_sum reduces warp by warp)

__global__ void iota_kernel(std::int32_t* out, index_t n) {
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += index_t(gridDim.x) * blockDim.x)
    out[i] = std::int32_t(i);
}

template <class T>
__global__ void normalize_kernel(T* theta, int directions, index_t d) {
  for (int s = int(blockIdx.x * blockDim.x + threadIdx.x); s < directions;
       s += int(gridDim.x * blockDim.x))
    normalize_direction(theta + index_t(s) * d, d);
}

// One thread per sorted projection p (sc directions x n): tie group in p, rank in q, the
// gradient entry scattered back to the point's original index, and the block's sums of p dS/dp
// into part_xx[block], part_xy[block].
template <class T>
__global__ void __launch_bounds__(kThreads)
    x_side_kernel(const T* p_sorted, const std::int32_t* order, const T* q_sorted, index_t n,
                  index_t m, index_t total, T scale_xx, T scale_xy, T* g, double* part_xx,
                  double* part_xy) {
  __shared__ double warp_xx[kThreads / 32];
  __shared__ double warp_xy[kThreads / 32];
  double vxx = 0, vxy = 0;
  for (index_t t = index_t(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += index_t(gridDim.x) * blockDim.x) {
    const index_t s = t / n, k = t - s * n;
    const T* a = p_sorted + s * n;
    const T v = a[k];
    index_t first, last;
    sorted_tie_group(a, n, k, first, last);
    index_t below = 0, above = 0;
    if (m > 0) {
      const T* b = q_sorted + s * m;
      below = sorted_lower_bound(b, index_t(0), m, v);
      above = m - sorted_upper_bound(b, below, m, v);
    }
    const index_t ds = sliced_self_derivative(first, n - last);
    const index_t dc = sliced_cross_derivative(below, above);
    vxx += double(v) * double(ds);
    vxy += double(v) * double(dc);
    if (g) g[s * n + order[t]] = sliced_gradient_entry(ds, dc, scale_xx, scale_xy);
  }
  block_partial<kThreads>(vxx, part_xx, warp_xx);
  block_partial<kThreads>(vxy, part_xy, warp_xy);
}

// One thread per sorted projection q: the y side of S_xy, q (#p below - #p above); the block's
// sum into part_xy[block].
template <class T>
__global__ void __launch_bounds__(kThreads)
    y_side_kernel(const T* p_sorted, const T* q_sorted, index_t n, index_t m, index_t total,
                  double* part_xy) {
  __shared__ double warp_xy[kThreads / 32];
  double vxy = 0;
  for (index_t t = index_t(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += index_t(gridDim.x) * blockDim.x) {
    const index_t s = t / m;
    const T v = q_sorted[t];
    const T* a = p_sorted + s * n;
    const index_t below = sorted_lower_bound(a, index_t(0), n, v);
    const index_t above = n - sorted_upper_bound(a, below, n, v);
    vxy += double(v) * double(sliced_cross_derivative(below, above));
  }
  block_partial<kThreads>(vxy, part_xy, warp_xy);
}

// c[s, i] (row stride ldc) = <theta_s, a_i> for s < sc, i < rows: one thread per entry.
template <class T>
__global__ void project_rows_kernel(const T* theta, int sc, index_t d, const T* a, index_t lda,
                                    index_t rows, T* c, index_t ldc) {
  const index_t total = index_t(sc) * rows;
  for (index_t t = index_t(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += index_t(gridDim.x) * blockDim.x) {
    const index_t s = t / rows, i = t - s * rows;
    c[s * ldc + i] = sliced_projection(theta + s * d, a + i * lda, d);
  }
}

// acc[i, k] = (0 when first, else acc[i, k]) + sum_s g[s, i] theta_s[k] in direction order
// (sliced_back_projection), acc (rows, d) dense doubles: one thread per entry.
template <class T>
__global__ void back_project_rows_kernel(const T* g, index_t ldg, int sc, const T* theta, index_t d,
                                         index_t rows, bool first, double* acc) {
  const index_t total = rows * d;
  for (index_t t = index_t(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += index_t(gridDim.x) * blockDim.x) {
    const index_t i = t / d, k = t - i * d;
    acc[t] = sliced_back_projection(first ? 0.0 : acc[t], g + i, ldg, theta + k, d, sc);
  }
}

// grad = T(factor acc) (+ grad when accumulate), (rows, d) dense.
template <class T>
__global__ void finish_rows_kernel(const double* acc, index_t total, double factor, bool accumulate,
                                   T* grad) {
  for (index_t t = index_t(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += index_t(gridDim.x) * blockDim.x) {
    const T v = T(factor * acc[t]);
    grad[t] = accumulate ? grad[t] + v : v;
  }
}

// dst (h, w) with row stride ldd <- src (h, w) with row stride lds.
template <class T>
__global__ void copy_rows_kernel(T* dst, index_t ldd, const T* src, index_t lds, index_t h,
                                 index_t w) {
  const index_t total = h * w;
  for (index_t t = index_t(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += index_t(gridDim.x) * blockDim.x) {
    const index_t r = t / w, c = t - r * w;
    dst[r * ldd + c] = src[r * lds + c];
  }
}

// Sorts directions [s0, s1): px (., n) into p_sorted with the permutation of 0..n-1 in order,
// py (., m) into q_sorted (its permutation discarded into q_payload), one CUB radix sort each.
template <class T>
void sort_directions(const Context& ctx, SlicedWorkspace<T>& ws, const T* px, const T* py,
                     index_t n, index_t m, int s0, int s1, T* p_sorted, T* q_sorted,
                     std::int32_t* order, std::int32_t* q_payload) {
  const int bits = int(8 * sizeof(T));
  const std::int32_t* iota = ws.order.data();
  cudaStream_t stream = stream_of(ctx);
  for (int s = s0; s < s1; ++s) {
    std::size_t bytes = ws.sort_temp_bytes;
    NWGF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
        ws.sort_temp.data(), bytes, px + index_t(s) * n, p_sorted + index_t(s) * n, iota,
        order + index_t(s) * n, int(n), 0, bits, stream));
    if (m > 0) {
      bytes = ws.sort_temp_bytes;
      NWGF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
          ws.sort_temp.data(), bytes, py + index_t(s) * m, q_sorted + index_t(s) * m, iota,
          q_payload, int(m), 0, bits, stream));
    }
  }
}

__global__ void finish_kernel(const double* sums, double factor, double* out_xx, double* out_xy) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    if (out_xx) *out_xx = factor * sums[0];
    if (out_xy) *out_xy = factor * sums[1];
  }
}

}  // namespace

template <class T>
void cuda_sliced_prepare(const Context& ctx, SlicedWorkspace<T>& ws) {
  // Directions sorted at once: the chunk, or a rank's share of it (the sharded evaluation).
  const index_t c = (index_t(ws.chunk) + ws.proj_parts - 1) / ws.proj_parts;
  ws.sorted = Buffer<T>(ctx, c * (ws.max_n + ws.max_m));
  // iota (max(max_n, max_m)), the permutations (c, max_n), a discarded payload for q (max_m).
  const index_t iota = std::max(ws.max_n, ws.max_m);
  ws.order = Buffer<std::int32_t>(ctx, iota + c * ws.max_n + ws.max_m);
  // The running S_xx, S_xy, then one chunk's block partials: S_xx (gx), S_xy (gx + gy).
  const index_t gx = grid_for(c * ws.max_n, kThreads), gy = grid_for(c * ws.max_m, kThreads);
  ws.sums = Buffer<double>(ctx, 2 + 2 * gx + gy);
  std::size_t pairs_bytes = 0, keys_bytes = 0;
  NWGF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, pairs_bytes, static_cast<const T*>(nullptr), static_cast<T*>(nullptr),
      static_cast<const std::int32_t*>(nullptr), static_cast<std::int32_t*>(nullptr),
      int(std::max<index_t>(ws.max_n, 1)), 0, int(8 * sizeof(T)), stream_of(ctx)));
  // q is sorted as pairs too: CUB's float keys-only onesweep kernel spills on sm_90.
  NWGF_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, keys_bytes, static_cast<const T*>(nullptr), static_cast<T*>(nullptr),
      static_cast<const std::int32_t*>(nullptr), static_cast<std::int32_t*>(nullptr),
      int(std::max<index_t>(ws.max_m, 1)), 0, int(8 * sizeof(T)), stream_of(ctx)));
  ws.sort_temp_bytes = std::max<std::size_t>({pairs_bytes, keys_bytes, 1});
  ws.sort_temp = Buffer<unsigned char>(ctx, index_t(ws.sort_temp_bytes));
  if (iota > 0) {
    iota_kernel<<<grid_for(iota, kThreads), kThreads, 0, stream_of(ctx)>>>(ws.order.data(), iota);
    NWGF_CUDA_LAUNCH_CHECK();
  }
}

template <class T>
void cuda_sliced_normalize(const Context& ctx, SlicedWorkspace<T>& ws) {
  normalize_kernel<T><<<grid_for(ws.directions, kThreads), kThreads, 0, stream_of(ctx)>>>(
      ws.theta.data(), ws.directions, ws.d);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_sliced_evaluate(const Context& ctx, SlicedWorkspace<T>& ws, ConstPointsView<T> x,
                          ConstPointsView<T> y, double* out_xx, double* out_xy, T scale_xx,
                          T scale_xy, PointsView<T> grad, bool accumulate,
                          const CudaSortSplit* split) {
  const index_t n = x.rows, m = y.rows, d = ws.d;
  const int S = ws.directions;
  const double factor = sliced_constant(d) / S;
  const bool want_grad = grad.data != nullptr && n > 0;
  cudaStream_t stream = stream_of(ctx);
  NWGF_CUDA_CHECK(cudaMemsetAsync(ws.sums.data(), 0, 2 * sizeof(double), stream));
  for (int c0 = 0; c0 < S && n > 0; c0 += ws.chunk) {
    const int sc = std::min(ws.chunk, S - c0);
    const T* theta = ws.theta.data() + index_t(c0) * d;                    // (sc, d)
    T* px = ws.proj_x.data();                                              // (sc, n), then G
    T* py = ws.proj_y.data();                                              // (sc, m)
    T* p_sorted = ws.sorted.data();                                        // (sc, n)
    T* q_sorted = p_sorted + index_t(sc) * n;                              // (sc, m)
    std::int32_t* order = ws.order.data() + std::max(ws.max_n, ws.max_m);  // (sc, n)
    std::int32_t* q_payload = order + index_t(ws.chunk) * ws.max_n;        // (m), discarded
    // Across ranks this rank sorts the directions [first(part), first(part + 1)) of the chunk.
    const int parts = split ? split->parts : 1;
    const auto first = [&](int r) { return int(std::int64_t(sc) * r / parts); };
    const int s0 = first(split ? split->part : 0), s1 = first(split ? split->part + 1 : 1);
    const auto project_and_sort = [&] {
      {
        TraceSpan r(Phase::sliced_project);
        gemm<T>(ctx, Op::N, Op::T, sc, n, d, T(1), theta, d, x.data, x.ld, T(0), px, n);
        if (m > 0) gemm<T>(ctx, Op::N, Op::T, sc, m, d, T(1), theta, d, y.data, y.ld, T(0), py, m);
      }
      TraceSpan r(Phase::sliced_sort);
      sort_directions(ctx, ws, px, py, n, m, s0, s1, p_sorted, q_sorted, order, q_payload);
    };
    if (split) {
      split->own(project_and_sort);  // a failure on any rank is every rank's, before the gather
    } else {
      project_and_sort();
    }
    if (split) {
      // The other ranks' sorted rows (direction-major: rank r's are one contiguous range).
      const auto gather = [&](void* data, index_t per_direction, std::size_t bytes) {
        std::vector<std::size_t> counts(static_cast<std::size_t>(parts)), offsets(counts.size());
        for (int r = 0; r < parts; ++r) {
          offsets[std::size_t(r)] = std::size_t(index_t(first(r)) * per_direction) * bytes;
          counts[std::size_t(r)] =
              std::size_t(index_t(first(r + 1) - first(r)) * per_direction) * bytes;
        }
        split->gather(data, counts, offsets);
      };
      gather(p_sorted, n, sizeof(T));
      gather(order, n, sizeof(std::int32_t));
      if (m > 0) gather(q_sorted, m, sizeof(T));
    }
    {
      TraceSpan r(Phase::sliced_rank);
      const index_t tx = index_t(sc) * n, ty = index_t(sc) * m;
      const unsigned gx = grid_for(tx, kThreads), gy = m > 0 ? grid_for(ty, kThreads) : 0;
      double* part_xx = ws.sums.data() + 2;
      double* part_xy = part_xx + gx;  // x side (gx), then y side (gy)
      x_side_kernel<T><<<gx, kThreads, 0, stream>>>(p_sorted, order, q_sorted, n, m, tx, scale_xx,
                                                    scale_xy, want_grad ? px : nullptr, part_xx,
                                                    part_xy);
      NWGF_CUDA_LAUNCH_CHECK();
      if (m > 0) {
        y_side_kernel<T><<<gy, kThreads, 0, stream>>>(p_sorted, q_sorted, n, m, ty, part_xy + gx);
        NWGF_CUDA_LAUNCH_CHECK();
      }
      cuda_sum_partials(ctx, part_xx, gx, ws.sums.data(), true);
      cuda_sum_partials(ctx, part_xy, index_t(gx) + gy, ws.sums.data() + 1, true);
    }
    if (want_grad) {
      TraceSpan r(Phase::sliced_back_project);
      // grad (n, d) (+)= factor G^T Theta_c,  G (sc, n).
      const T beta = (c0 == 0 && !accumulate) ? T(0) : T(1);
      gemm<T>(ctx, Op::T, Op::N, n, d, sc, T(factor), px, n, theta, d, beta, grad.data, grad.ld);
    }
  }
  if (out_xx || out_xy) {
    finish_kernel<<<1, 32, 0, stream>>>(ws.sums.data(), factor, out_xx, out_xy);
    NWGF_CUDA_LAUNCH_CHECK();
  }
}

template <class T>
void cuda_sliced_project_rows(const Context& ctx, const T* theta, int sc, index_t d, const T* a,
                              index_t lda, index_t rows, T* c, index_t ldc) {
  if (sc == 0 || rows == 0) return;
  project_rows_kernel<T><<<grid_for(index_t(sc) * rows, kThreads), kThreads, 0, stream_of(ctx)>>>(
      theta, sc, d, a, lda, rows, c, ldc);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_sliced_back_project_rows(const Context& ctx, const T* g, index_t ldg, int sc,
                                   const T* theta, index_t d, index_t rows, bool first,
                                   double* acc) {
  if (rows == 0) return;
  back_project_rows_kernel<T><<<grid_for(rows * d, kThreads), kThreads, 0, stream_of(ctx)>>>(
      g, ldg, sc, theta, d, rows, first, acc);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_sliced_finish_rows(const Context& ctx, const double* acc, index_t rows, index_t d,
                             double factor, bool accumulate, T* grad) {
  if (rows == 0) return;
  finish_rows_kernel<T><<<grid_for(rows * d, kThreads), kThreads, 0, stream_of(ctx)>>>(
      acc, rows * d, factor, accumulate, grad);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_copy_rows(const Context& ctx, T* dst, index_t ldd, const T* src, index_t lds, index_t h,
                    index_t w) {
  if (h == 0 || w == 0) return;
  copy_rows_kernel<T>
      <<<grid_for(h * w, kThreads), kThreads, 0, stream_of(ctx)>>>(dst, ldd, src, lds, h, w);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_sliced_rank_directions(const Context& ctx, SlicedWorkspace<T>& ws, index_t n, index_t m,
                                 int count, T scale_xx, T scale_xy, bool grad, double* sums) {
  if (count == 0 || n == 0) return;
  cudaStream_t stream = stream_of(ctx);
  T* px = ws.proj_x.data();                                              // (count, n), then G
  const T* py = ws.proj_y.data();                                        // (count, m)
  T* p_sorted = ws.sorted.data();                                        // (count, n)
  T* q_sorted = p_sorted + index_t(count) * n;                           // (count, m)
  std::int32_t* order = ws.order.data() + std::max(ws.max_n, ws.max_m);  // (count, n)
  std::int32_t* q_payload = order + index_t(count) * n;                  // (m), discarded
  {
    TraceSpan r(Phase::sliced_sort);
    sort_directions<T>(ctx, ws, px, py, n, m, 0, count, p_sorted, q_sorted, order, q_payload);
  }
  TraceSpan r(Phase::sliced_rank);
  // One direction per launch, so a direction's sums are its own blocks' partials (n, m fix the
  // blocks), whichever directions a rank ranks.
  const unsigned gx = grid_for(n, kThreads), gy = m > 0 ? grid_for(m, kThreads) : 0;
  double* part_xx = ws.sums.data() + 2;
  double* part_xy = part_xx + gx;  // x side (gx), then y side (gy)
  for (int s = 0; s < count; ++s) {
    const index_t os = index_t(s);
    x_side_kernel<T><<<gx, kThreads, 0, stream>>>(p_sorted + os * n, order + os * n,
                                                  q_sorted + os * m, n, m, n, scale_xx, scale_xy,
                                                  grad ? px + os * n : nullptr, part_xx, part_xy);
    NWGF_CUDA_LAUNCH_CHECK();
    if (m > 0) {
      y_side_kernel<T><<<gy, kThreads, 0, stream>>>(p_sorted + os * n, q_sorted + os * m, n, m, m,
                                                    part_xy + gx);
      NWGF_CUDA_LAUNCH_CHECK();
    }
    cuda_sum_partials(ctx, part_xx, gx, sums + 2 * os, false);
    cuda_sum_partials(ctx, part_xy, index_t(gx) + gy, sums + 2 * os + 1, false);
  }
}

#define NWGF_SLICED_INSTANTIATE(T)                                                                 \
  template void cuda_sliced_prepare<T>(const Context&, SlicedWorkspace<T>&);                       \
  template void cuda_sliced_normalize<T>(const Context&, SlicedWorkspace<T>&);                     \
  template void cuda_sliced_evaluate<T>(const Context&, SlicedWorkspace<T>&, ConstPointsView<T>,   \
                                        ConstPointsView<T>, double*, double*, T, T, PointsView<T>, \
                                        bool, const CudaSortSplit*);                               \
  template void cuda_sliced_project_rows<T>(const Context&, const T*, int, index_t, const T*,      \
                                            index_t, index_t, T*, index_t);                        \
  template void cuda_sliced_back_project_rows<T>(const Context&, const T*, index_t, int, const T*, \
                                                 index_t, index_t, bool, double*);                 \
  template void cuda_sliced_finish_rows<T>(const Context&, const double*, index_t, index_t,        \
                                           double, bool, T*);                                      \
  template void cuda_copy_rows<T>(const Context&, T*, index_t, const T*, index_t, index_t,         \
                                  index_t);                                                        \
  template void cuda_sliced_rank_directions<T>(const Context&, SlicedWorkspace<T>&, index_t,       \
                                               index_t, int, T, T, bool, double*);
NWGF_SLICED_INSTANTIATE(float)
NWGF_SLICED_INSTANTIATE(double)
#undef NWGF_SLICED_INSTANTIATE

}  // namespace nwgf::detail
