// CUDA kernel of inverted dropout: one thread per element, the mask from nn/dropout_math.hpp.
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/nn/dropout.hpp"

namespace nwgf::detail {
namespace {

// v (count) <- v ⊙ mask, grid-stride over elements.
template <class T>
__global__ void dropout_kernel(DropoutLayer<T> d, T* v, index_t count) {
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += index_t(gridDim.x) * blockDim.x) {
    v[i] = dropout_element(d, std::uint64_t(i), v[i]);
  }
}

}  // namespace

template <class T>
void cuda_apply_dropout(const Context& ctx, const DropoutLayer<T>& d, T* v, index_t count) {
  if (count < 1) return;
  constexpr int threads = 256;
  dropout_kernel<T>
      <<<grid_for((long long)count, threads), threads, 0, stream_of(ctx)>>>(d, v, count);
  NWGF_CUDA_LAUNCH_CHECK();
}

template void cuda_apply_dropout<float>(const Context&, const DropoutLayer<float>&, float*,
                                        index_t);
template void cuda_apply_dropout<double>(const Context&, const DropoutLayer<double>&, double*,
                                         index_t);

}  // namespace nwgf::detail
