// CUDA side of schemes/ift/weight_step_device.hpp: the whole weight step in one block, so nothing
// leaves the device and no host synchronisation is needed. The block's reductions and the simplex
// projection are weight_block.cuh's (fixed order: the result does not depend on timing).
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/kernels/reduce.cuh"
#include "nwgf/schemes/ift/weight_block.cuh"
#include "nwgf/schemes/ift/weight_step_device.hpp"
#include "nwgf/schemes/ift/weight_step_math.hpp"

namespace nwgf::detail {
namespace {

template <class T>
__global__ void __launch_bounds__(kThreads)
    weight_step_kernel(DeviceWeightStep s, double* w, const T* g, index_t n, T* w_t) {
  __shared__ double scratch[kThreads / 32 + 1];
  const index_t first = threadIdx.x, stride = kThreads;
  const bool kl = s.kind == WeightStep::kl;
  const bool simplex = s.mass == MassConstraint::simplex;
  const bool kl_sum = kl && simplex && s.normalise == KlNormalise::sum;
  double shift = 0;
  if (kl_sum) {
    double m = INFINITY;
    for (index_t i = first; i < n; i += stride) m = fmin(m, double(g[i]));
    shift = block_all(BlockOp::min, m, scratch);
  }
  // v in place of w; each thread keeps to its own elements from here on.
  for (index_t i = first; i < n; i += stride) {
    w[i] = kl ? kl_weight_value(w[i], double(g[i]), s.eta, shift)
              : pgd_weight_value(w[i], double(g[i]), s.eta);
  }
  if (kl_sum) {
    double part = 0;
    for (index_t i = first; i < n; i += stride) part += w[i];
    const double total = block_all(BlockOp::sum, part, scratch);
    for (index_t i = first; i < n; i += stride) w[i] /= total;
  } else if (simplex) {
    block_project_simplex(w, n, s.bisections, scratch);
  } else if (!kl) {
    for (index_t i = first; i < n; i += stride) w[i] = w[i] > 0 ? w[i] : 0.0;
  }
  for (index_t i = first; i < n; i += stride) w_t[i] = T(w[i]);
}

}  // namespace

template <class T>
void cuda_weight_step(const Context& ctx, const DeviceWeightStep& s, double* w, const T* g,
                      index_t n, T* w_t) {
  if (n <= 0) return;
  weight_step_kernel<T><<<1, kThreads, 0, stream_of(ctx)>>>(s, w, g, n, w_t);
  NWGF_CUDA_LAUNCH_CHECK();
}

template void cuda_weight_step<float>(const Context&, const DeviceWeightStep&, double*,
                                      const float*, index_t, float*);
template void cuda_weight_step<double>(const Context&, const DeviceWeightStep&, double*,
                                       const double*, index_t, double*);

}  // namespace nwgf::detail
