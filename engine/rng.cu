#include "nwgf/engine/cuda_backend.hpp"
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/rng_math.hpp"

namespace nwgf::detail {
namespace {
// One thread per Philox block, grid-stride.
template <class T, bool Normal>
__global__ void rng_fill_kernel(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                                T* out, index_t n, std::uint64_t first, std::uint64_t count, T a,
                                T b) {
  for (std::uint64_t i = std::uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += std::uint64_t(gridDim.x) * blockDim.x) {
    rng_fill_block<T, Normal>(seed, stream, offset, out, n, first + i, a, b);
  }
}

template <class T, bool Normal>
void launch(const Context& ctx, std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
            T* out, index_t n, T a, T b) {
  std::uint64_t first, count;
  rng_block_range<T, Normal>(offset, n, first, count);
  if (count == 0) return;
  constexpr int threads = 256;
  rng_fill_kernel<T, Normal><<<grid_for((long long)count, threads), threads, 0, stream_of(ctx)>>>(
      seed, stream, offset, out, n, first, count, a, b);
  NWGF_CUDA_LAUNCH_CHECK();
}
}  // namespace

template <class T>
void cuda_rng_uniform(const Context& ctx, std::uint64_t seed, std::uint64_t stream,
                      std::uint64_t offset, T* out, index_t n, T lo, T hi) {
  launch<T, false>(ctx, seed, stream, offset, out, n, lo, hi);
}
template <class T>
void cuda_rng_normal(const Context& ctx, std::uint64_t seed, std::uint64_t stream,
                     std::uint64_t offset, T* out, index_t n, T mean, T stddev) {
  launch<T, true>(ctx, seed, stream, offset, out, n, mean, stddev);
}

template void cuda_rng_uniform<float>(const Context&, std::uint64_t, std::uint64_t, std::uint64_t,
                                      float*, index_t, float, float);
template void cuda_rng_uniform<double>(const Context&, std::uint64_t, std::uint64_t,
                                       std::uint64_t, double*, index_t, double, double);
template void cuda_rng_normal<float>(const Context&, std::uint64_t, std::uint64_t, std::uint64_t,
                                     float*, index_t, float, float);
template void cuda_rng_normal<double>(const Context&, std::uint64_t, std::uint64_t, std::uint64_t,
                                      double*, index_t, double, double);

}  // namespace nwgf::detail
