// One fused Adam pass over (p, g, m, v): a single grid-stride kernel launch per step.
#include "engine/cuda_check.cuh"
#include "engine/cuda_context.cuh"
#include "nn/mlp_cuda.hpp"
#include "nn/mlp_math.hpp"

namespace nwgf::detail {
namespace {

template <class T>
__global__ void adam_kernel(T* p, T* m, T* v, const T* g, index_t n, AdamScalars<T> s) {
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += index_t(gridDim.x) * blockDim.x) {
    T pi = p[i], mi = m[i], vi = v[i];
    adam_update(pi, mi, vi, g[i], s);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

template <class T>
void cuda_adam_step(const Context& ctx, T* params, T* m, T* v, const T* grads, index_t n,
                    const AdamScalars<T>& s) {
  constexpr int threads = 256;
  adam_kernel<T><<<grid_for((long long)n, threads), threads, 0, stream_of(ctx)>>>(params, m, v,
                                                                                  grads, n, s);
  NWGF_CUDA_LAUNCH_CHECK();
}

template void cuda_adam_step<float>(const Context&, float*, float*, float*, const float*, index_t,
                                    const AdamScalars<float>&);
template void cuda_adam_step<double>(const Context&, double*, double*, double*, const double*,
                                     index_t, const AdamScalars<double>&);

}  // namespace nwgf::detail
