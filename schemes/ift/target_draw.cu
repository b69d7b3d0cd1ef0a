// CUDA side of schemes/ift/target_draw.hpp: one thread per row of the sample, grid-stride.
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/schemes/ift/target_draw.hpp"

namespace nwgf::detail {
namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void target_draw_kernel(TargetDrawArgs a, T* y) {
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < a.n;
       i += index_t(gridDim.x) * blockDim.x) {
    target_draw_row(a, i, y);
  }
}

}  // namespace

template <class T>
void cuda_target_draw(const Context& ctx, const TargetDrawArgs& a, T* y) {
  if (a.n == 0) return;
  target_draw_kernel<T><<<grid_for((long long)a.n, kThreads), kThreads, 0, stream_of(ctx)>>>(a, y);
  NWGF_CUDA_LAUNCH_CHECK();
}

template void cuda_target_draw<float>(const Context&, const TargetDrawArgs&, float*);
template void cuda_target_draw<double>(const Context&, const TargetDrawArgs&, double*);

}  // namespace nwgf::detail
