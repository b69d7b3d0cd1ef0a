// One fused Adam pass over (p, g, m, v): a single grid-stride kernel launch per step. The step
// counter lives on the device: every block computes the bias corrections of t + 1 from it, and
// the last block to finish stores t + 1, so graph replays advance t correctly.
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/nn/mlp_cuda.hpp"
#include "nwgf/nn/mlp_math.hpp"

namespace nwgf::detail {
namespace {

// counter[0] = t (steps so far), counter[1] = blocks finished in this launch (0 between steps).
template <class T>
__global__ void adam_kernel(T* p, T* m, T* v, const T* g, index_t n, double beta1, double beta2,
                            double eps, double lr, long long* counter) {
  const long long t = counter[0] + 1;
  const AdamScalars<T> s = adam_scalars<T>(beta1, beta2, eps, lr, t);
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += index_t(gridDim.x) * blockDim.x) {
    T pi = p[i], mi = m[i], vi = v[i];
    adam_update(pi, mi, vi, g[i], s);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
  }
  // Every thread of this block has read counter[0] before the ticket is taken; the block that
  // takes the last ticket runs after all reads of every block, so it may advance t.
  __syncthreads();
  if (threadIdx.x == 0) {
    auto* done = reinterpret_cast<unsigned long long*>(counter + 1);
    if (atomicAdd(done, 1ULL) == gridDim.x - 1) {
      counter[0] = t;
      *done = 0;
    }
  }
}

}  // namespace

template <class T>
void cuda_adam_step(const Context& ctx, T* params, T* m, T* v, const T* grads, index_t n,
                    double beta1, double beta2, double eps, double lr, long long* counter) {
  constexpr int threads = 256;
  adam_kernel<T><<<grid_for((long long)n, threads), threads, 0, stream_of(ctx)>>>(
      params, m, v, grads, n, beta1, beta2, eps, lr, counter);
  NWGF_CUDA_LAUNCH_CHECK();
}

template void cuda_adam_step<float>(const Context&, float*, float*, float*, const float*, index_t,
                                    double, double, double, double, long long*);
template void cuda_adam_step<double>(const Context&, double*, double*, double*, const double*,
                                     index_t, double, double, double, double, long long*);

}  // namespace nwgf::detail
