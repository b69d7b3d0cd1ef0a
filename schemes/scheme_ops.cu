// CUDA kernels of schemes/scheme_ops.hpp; the per-element math is the NWGF_HD code of the header.
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/kernels/reduce.cuh"
#include "nwgf/schemes/scheme_ops.hpp"
#include "nwgf/schemes/potential_rows.hpp"
#include "nwgf/schemes/variational/critic_rows.hpp"

namespace nwgf::detail {
namespace {

constexpr int block_threads = ReducePolicy::block_threads;

template <class T>
__global__ void network_input_kernel(const T* x, index_t n, index_t d, index_t l, BatchRows rows,
                                     index_t batch, T* in, T* xb) {
  const index_t w = d + l, total = batch * w;
  for (index_t e = index_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += index_t(gridDim.x) * blockDim.x) {
    network_input_element(x, n, d, l, rows, e / w, e % w, in, xb);
  }
}

// One block per chunk of reduce_chunk rows: the chunk's partial in a fixed order.
template <class Row>
__global__ void __launch_bounds__(block_threads)
    row_partials_kernel(Row row, index_t n, double* partials) {
  __shared__ double warp_part[block_threads / 32];
  const index_t lo = index_t(blockIdx.x) * reduce_chunk;
  const index_t hi = lo + reduce_chunk < n ? lo + reduce_chunk : n;
  double s = 0;
  for (index_t i = lo + threadIdx.x; i < hi; i += blockDim.x) s += row(i);
  block_partial<block_threads>(s, partials, warp_part);
}

// values[i] <- row(i), one thread per row (grid-stride).
template <class Row>
__global__ void __launch_bounds__(block_threads)
    row_values_kernel(Row row, index_t n, double* values) {
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += index_t(gridDim.x) * blockDim.x) {
    values[i] = row(i);
  }
}

template <class T>
__global__ void axpby_kernel(index_t count, T a, const T* x, T b, T* y) {
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += index_t(gridDim.x) * blockDim.x) {
    y[i] = axpby_element(a, x[i], b, y[i]);
  }
}

template <class T>
__global__ void axpby_device_kernel(index_t count, const double* c, const T* x, T* y) {
  const T a = T(c[0]), b = T(c[1]);
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += index_t(gridDim.x) * blockDim.x) {
    y[i] = axpby_element(a, x[i], b, y[i]);
  }
}

__global__ void forward_loss_kernel(ForwardLossArgs args) { forward_loss_coefficients(args); }

template <class T>
__global__ void row_scaled_add_kernel(index_t n, index_t d, T alpha, const T* a, const T* x,
                                      T* y) {
  for (index_t e = index_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n * d;
       e += index_t(gridDim.x) * blockDim.x) {
    y[e] = row_scaled_add_element(alpha, a, x, y, d, e);
  }
}

}  // namespace

template <class T>
void cuda_network_input(const Context& ctx, const T* x, index_t n, index_t d, index_t l,
                        const BatchRows& rows, index_t batch, T* in, T* xb) {
  const unsigned grid = grid_for((long long)(batch * (d + l)), block_threads);
  network_input_kernel<T><<<grid, block_threads, 0, stream_of(ctx)>>>(x, n, d, l, rows, batch, in,
                                                                       xb);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_axpby(const Context& ctx, index_t count, T a, const T* x, T b, T* y) {
  axpby_kernel<T><<<grid_for((long long)count, block_threads), block_threads, 0, stream_of(ctx)>>>(
      count, a, x, b, y);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_axpby_device(const Context& ctx, index_t count, const double* c, const T* x, T* y) {
  axpby_device_kernel<T><<<grid_for((long long)count, block_threads), block_threads, 0,
                           stream_of(ctx)>>>(count, c, x, y);
  NWGF_CUDA_LAUNCH_CHECK();
}

void cuda_forward_loss_device(const Context& ctx, const ForwardLossArgs& args) {
  forward_loss_kernel<<<1, 1, 0, stream_of(ctx)>>>(args);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_row_scaled_add(const Context& ctx, index_t n, index_t d, T alpha, const T* a,
                         const T* x, T* y) {
  row_scaled_add_kernel<T><<<grid_for((long long)(n * d), block_threads), block_threads, 0,
                             stream_of(ctx)>>>(n, d, alpha, a, x, y);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class Row>
void cuda_row_partials(const Context& ctx, const Row& row, index_t n, double* partials) {
  const index_t chunks = chunks_of(n);
  if (chunks == 0) return;
  row_partials_kernel<Row><<<unsigned(chunks), block_threads, 0, stream_of(ctx)>>>(row, n,
                                                                                   partials);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class Row>
void cuda_row_values(const Context& ctx, const Row& row, index_t n, double* values) {
  if (n == 0) return;
  row_values_kernel<Row><<<grid_for((long long)n, block_threads), block_threads, 0,
                           stream_of(ctx)>>>(row, n, values);
  NWGF_CUDA_LAUNCH_CHECK();
}

#define NWGF_INSTANTIATE(T)                                                                    \
  template void cuda_row_partials<Energy33Row<T>>(const Context&, const Energy33Row<T>&,        \
                                                  index_t, double*);                            \
  template void cuda_row_partials<DotRow<T>>(const Context&, const DotRow<T>&, index_t,          \
                                             double*);                                          \
  template void cuda_row_partials<TransportRow<T>>(const Context&, const TransportRow<T>&,      \
                                                   index_t, double*);                           \
  template void cuda_row_partials<CriticRow<T>>(const Context&, const CriticRow<T>&, index_t,  \
                                                double*);                                       \
  template void cuda_row_partials<MapRow<T>>(const Context&, const MapRow<T>&, index_t, double*); \
  template void cuda_row_partials<RatioRow<T>>(const Context&, const RatioRow<T>&, index_t,    \
                                               double*);                                        \
  template void cuda_row_partials<PotentialRow<T>>(const Context&, const PotentialRow<T>&,      \
                                                   index_t, double*);                           \
  template void cuda_row_values<Energy33Row<T>>(const Context&, const Energy33Row<T>&, index_t, \
                                                double*);                                      \
  template void cuda_row_values<PotentialRow<T>>(const Context&, const PotentialRow<T>&,        \
                                                 index_t, double*);                             \
  template void cuda_row_partials<IdentityFitRow<T>>(const Context&, const IdentityFitRow<T>&,  \
                                                     index_t, double*);                         \
  template void cuda_network_input<T>(const Context&, const T*, index_t, index_t, index_t,    \
                                      const BatchRows&, index_t, T*, T*);                      \
  template void cuda_axpby<T>(const Context&, index_t, T, const T*, T, T*);                   \
  template void cuda_axpby_device<T>(const Context&, index_t, const double*, const T*, T*);    \
  template void cuda_row_scaled_add<T>(const Context&, index_t, index_t, T, const T*, const T*, \
                                       T*);
NWGF_INSTANTIATE(float)
NWGF_INSTANTIATE(double)
#undef NWGF_INSTANTIATE

}  // namespace nwgf::detail
