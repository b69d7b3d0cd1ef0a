// CUDA kernels of the MLP's elementwise work: bias + activation after each forward GEMM, and the
// ReLU mask fused with the bias gradient (a deterministic two-pass column sum) in reverse.
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/nn/mlp_cuda.hpp"
#include "nwgf/nn/mlp_math.hpp"

namespace nwgf::detail {
namespace {

constexpr int colsum_tx = 32, colsum_ty = 8;

// z (rows, cols) <- act(z + b), grid-stride over elements.
template <class T, bool Relu>
__global__ void bias_activation_kernel(T* z, const T* b, index_t rows, index_t cols) {
  const index_t n = rows * cols;
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += index_t(gridDim.x) * blockDim.x) {
    const T bj = b[i % cols];
    z[i] = Relu ? bias_relu(z[i], bj) : z[i] + bj;
  }
}

// PReLU: z <- z + b, h <- prelu(z) with slope *a, grid-stride over elements.
template <class T>
__global__ void bias_prelu_kernel(T* z, const T* b, const T* a, T* h, index_t rows, index_t cols) {
  const index_t n = rows * cols;
  const T slope = *a;
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += index_t(gridDim.x) * blockDim.x) {
    h[i] = bias_prelu(z[i], b[i % cols], slope, &z[i]);
  }
}

// PReLU reverse: g = prelu'(z) dh, s = dh min(z, 0).
template <class T>
__global__ void prelu_backward_kernel(const T* dh, const T* z, const T* a, T* g, T* s,
                                      index_t count) {
  const T slope = *a;
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += index_t(gridDim.x) * blockDim.x) {
    g[i] = prelu_backward(dh[i], z[i], slope, &s[i]);
  }
}

// Block (32, 8) sums columns [32 bx, 32 bx + 32) over row chunk by (mask applied and written to g
// when h != nullptr) into partial[by][col]. Coalesced: threadIdx.x runs along a row.
template <class T>
__global__ void bias_grad_partial_kernel(const T* dh, const T* h, T* g, index_t rows, index_t cols,
                                         index_t rows_per_chunk, T* partial) {
  __shared__ T acc[colsum_ty][colsum_tx + 1];
  const index_t c = index_t(blockIdx.x) * colsum_tx + threadIdx.x;
  const index_t lo = index_t(blockIdx.y) * rows_per_chunk;
  const index_t hi = lo + rows_per_chunk < rows ? lo + rows_per_chunk : rows;
  T s = T(0);
  if (c < cols) {
    for (index_t r = lo + threadIdx.y; r < hi; r += colsum_ty) {
      const index_t i = r * cols + c;
      if (h) {
        const T v = relu_backward(dh[i], h[i]);
        g[i] = v;
        s += v;
      } else {
        s += dh[i];
      }
    }
  }
  acc[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    T t = T(0);
    for (int y = 0; y < colsum_ty; ++y) t += acc[y][threadIdx.x];
    partial[index_t(blockIdx.y) * cols + c] = t;
  }
}

// db[c] = [db[c] +] sum over chunks of partial[chunk][c], chunks in order.
template <class T>
__global__ void bias_grad_reduce_kernel(const T* partial, index_t chunks, index_t cols, T* db,
                                        bool accumulate) {
  for (index_t c = index_t(blockIdx.x) * blockDim.x + threadIdx.x; c < cols;
       c += index_t(gridDim.x) * blockDim.x) {
    T s = accumulate ? db[c] : T(0);
    for (index_t k = 0; k < chunks; ++k) s += partial[k * cols + c];
    db[c] = s;
  }
}

}  // namespace

template <class T>
void cuda_bias_activation(const Context& ctx, T* z, const T* b, index_t rows, index_t cols,
                          bool relu) {
  constexpr int threads = 256;
  const unsigned grid = grid_for((long long)(rows * cols), threads);
  if (relu) {
    bias_activation_kernel<T, true><<<grid, threads, 0, stream_of(ctx)>>>(z, b, rows, cols);
  } else {
    bias_activation_kernel<T, false><<<grid, threads, 0, stream_of(ctx)>>>(z, b, rows, cols);
  }
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_bias_prelu(const Context& ctx, T* z, const T* b, const T* a, T* h, index_t rows,
                     index_t cols) {
  constexpr int threads = 256;
  bias_prelu_kernel<T><<<grid_for((long long)(rows * cols), threads), threads, 0, stream_of(ctx)>>>(
      z, b, a, h, rows, cols);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_prelu_backward(const Context& ctx, const T* dh, const T* z, const T* a, T* g, T* s,
                         index_t count) {
  constexpr int threads = 256;
  prelu_backward_kernel<T><<<grid_for((long long)count, threads), threads, 0, stream_of(ctx)>>>(
      dh, z, a, g, s, count);
  NWGF_CUDA_LAUNCH_CHECK();
}

template <class T>
void cuda_bias_grad(const Context& ctx, const T* dh, const T* h, T* g, index_t rows, index_t cols,
                    T* partial, T* db, bool accumulate) {
  index_t chunks = (rows + 63) / 64;  // at least 8 rows per thread row of a block
  if (chunks > mlp_colsum_chunks) chunks = mlp_colsum_chunks;
  if (chunks < 1) chunks = 1;
  const index_t rows_per_chunk = (rows + chunks - 1) / chunks;
  const dim3 block(colsum_tx, colsum_ty);
  const dim3 grid(unsigned((cols + colsum_tx - 1) / colsum_tx), unsigned(chunks));
  bias_grad_partial_kernel<T>
      <<<grid, block, 0, stream_of(ctx)>>>(dh, h, g, rows, cols, rows_per_chunk, partial);
  NWGF_CUDA_LAUNCH_CHECK();
  constexpr int threads = 128;
  bias_grad_reduce_kernel<T><<<grid_for((long long)cols, threads), threads, 0, stream_of(ctx)>>>(
      partial, chunks, cols, db, accumulate);
  NWGF_CUDA_LAUNCH_CHECK();
}

template void cuda_bias_activation<float>(const Context&, float*, const float*, index_t, index_t,
                                          bool);
template void cuda_bias_activation<double>(const Context&, double*, const double*, index_t, index_t,
                                           bool);
template void cuda_bias_prelu<float>(const Context&, float*, const float*, const float*, float*,
                                     index_t, index_t);
template void cuda_bias_prelu<double>(const Context&, double*, const double*, const double*,
                                      double*, index_t, index_t);
template void cuda_prelu_backward<float>(const Context&, const float*, const float*, const float*,
                                         float*, float*, index_t);
template void cuda_prelu_backward<double>(const Context&, const double*, const double*,
                                          const double*, double*, double*, index_t);
template void cuda_bias_grad<float>(const Context&, const float*, const float*, float*, index_t,
                                    index_t, float*, float*, bool);
template void cuda_bias_grad<double>(const Context&, const double*, const double*, double*, index_t,
                                     index_t, double*, double*, bool);

}  // namespace nwgf::detail
