#pragma once
// Device side of the fixed-order partials (kernels/reduce.hpp): a block's sum in a fixed order
// (warp shuffles, then the warps' sums in warp order by thread 0). No CUB block primitives and no
// __shared__ declarations here (the CUDA emulator rewrites those only in .cu files): the calling
// kernel passes its shared scratch of Threads / 32 doubles.
#include "nwgf/engine/types.hpp"

namespace nwgf::detail {

__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

// The block's sum of v (Threads threads, whole warps): thread 0 gets it, the others 0. Every
// thread of the block calls it; warp_part: shared, Threads / 32 doubles.
template <int Threads>
__device__ __forceinline__ double block_sum(double v, double* warp_part) {
  static_assert(Threads % 32 == 0 && Threads <= 1024, "whole warps");
  v = warp_sum(v);
  const int lane = int(threadIdx.x) % 32, warp = int(threadIdx.x) / 32;
  if (lane == 0) warp_part[warp] = v;
  __syncthreads();
  double s = 0;
  if (threadIdx.x == 0) {
    for (int k = 0; k < Threads / 32; ++k) s += warp_part[k];
  }
  return s;
}

// partials[blockIdx.x] <- the block's sum of v.
template <int Threads>
__device__ __forceinline__ void block_partial(double v, double* partials, double* warp_part) {
  const double s = block_sum<Threads>(v, warp_part);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

}  // namespace nwgf::detail
