// CUDA: the ordered sum of partials (kernels/reduce.hpp).
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/kernels/reduce.hpp"

namespace nwgf::detail {
namespace {

// out (+)= partials[0] + ... + partials[nb - 1] in a fixed order: one block of 256 threads,
// strided per-thread sums, then a tree.
__global__ void __launch_bounds__(256)
    sum_partials_kernel(const double* partials, index_t nb, double* out, bool accumulate) {
  __shared__ double sh[256];
  double acc = 0;
  for (index_t k = threadIdx.x; k < nb; k += 256) acc += partials[k];
  sh[threadIdx.x] = acc;
  __syncthreads();
  for (int w = 128; w > 0; w >>= 1) {
    if (int(threadIdx.x) < w) sh[threadIdx.x] += sh[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = accumulate ? *out + sh[0] : sh[0];
}

}  // namespace

void cuda_sum_partials(const Context& ctx, const double* partials, index_t nb, double* out,
                       bool accumulate) {
  sum_partials_kernel<<<1, 256, 0, stream_of(ctx)>>>(partials, nb, out, accumulate);
  NWGF_CUDA_LAUNCH_CHECK();
}

}  // namespace nwgf::detail
