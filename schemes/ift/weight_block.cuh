#pragma once
// One CUDA block's share of the IFT weight steps (weight_step.cu, qp.cu): the block's reductions
// (sums in kernels/reduce.cuh's fixed order, min / max by warp shuffles), returned to every
// thread, and the Euclidean projection onto the simplex of a vector the block holds (thread t owns
// the elements t, t + kThreads, ...). Nothing depends on timing.
#include "nwgf/engine/types.hpp"
#include "nwgf/kernels/reduce.cuh"
#include "nwgf/schemes/ift/weight_step_math.hpp"

namespace nwgf::detail {
namespace {

constexpr int kThreads = 512;

enum class BlockOp { sum, min, max };

__device__ __forceinline__ double combine(BlockOp op, double a, double b) {
  return op == BlockOp::sum ? a + b : op == BlockOp::min ? fmin(a, b) : fmax(a, b);
}

// The block's reduction of v, returned to every thread. scratch: kThreads / 32 + 1 doubles of
// shared memory. Sums use reduce.cuh's fixed order.
__device__ double block_all(BlockOp op, double v, double* scratch) {
  double r;
  if (op == BlockOp::sum) {
    r = block_sum<kThreads>(v, scratch);
  } else {
    for (int o = 16; o > 0; o >>= 1) v = combine(op, v, __shfl_down_sync(0xffffffffu, v, o));
    const int lane = int(threadIdx.x) % 32, warp = int(threadIdx.x) / 32;
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    r = scratch[0];
    if (threadIdx.x == 0) {
      for (int k = 1; k < kThreads / 32; ++k) r = combine(op, r, scratch[k]);
    }
  }
  if (threadIdx.x == 0) scratch[kThreads / 32] = r;
  __syncthreads();
  r = scratch[kThreads / 32];
  __syncthreads();  // every thread has read it before the scratch is reused
  return r;
}

// w (n) <- its projection onto the simplex: bisection on theta for a bracket of the threshold,
// then Michelot's exact threshold on the support it finds. scratch as block_all's.
__device__ void block_project_simplex(double* w, index_t n, int bisections, double* scratch) {
  const index_t first = threadIdx.x, stride = kThreads;
  double lo_part = INFINITY, hi_part = -INFINITY;
  for (index_t i = first; i < n; i += stride) {
    lo_part = fmin(lo_part, w[i]);
    hi_part = fmax(hi_part, w[i]);
  }
  // sum max(v - theta, 0) decreases in theta: >= 1 at min v - 1/n, 0 at max v.
  double lo = block_all(BlockOp::min, lo_part, scratch) - 1.0 / double(n);
  double hi = block_all(BlockOp::max, hi_part, scratch);
  for (int k = 0; k < bisections; ++k) {
    const double mid = 0.5 * (lo + hi);
    if (!(mid > lo && mid < hi)) break;  // the bracket is down to adjacent doubles
    double part = 0;
    for (index_t i = first; i < n; i += stride) part += simplex_part(w[i], mid);
    if (block_all(BlockOp::sum, part, scratch) > 1.0) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  // Michelot: from the support {v > lo} (it contains the projection's), the threshold of the
  // support, until the support stops shrinking: then it is the exact one.
  double theta = lo, count = -1;
  for (int round = 0; round < 64; ++round) {
    double sum_part = 0, count_part = 0;
    for (index_t i = first; i < n; i += stride) {
      if (w[i] > theta) {
        sum_part += w[i];
        count_part += 1;
      }
    }
    const double c = block_all(BlockOp::sum, count_part, scratch);
    const double sum = block_all(BlockOp::sum, sum_part, scratch);
    if (c == count || c == 0) break;
    count = c;
    theta = simplex_threshold(sum, c);
  }
  for (index_t i = first; i < n; i += stride) w[i] = simplex_part(w[i], theta);
}

}  // namespace
}  // namespace nwgf::detail
