#include "nwgf/engine/rng.hpp"

#include "nwgf/engine/cuda_backend.hpp"
#include "nwgf/engine/parallel.hpp"
#include "nwgf/engine/rng_math.hpp"

namespace nwgf {
namespace {
template <class T, bool Normal>
void cpu_fill(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset, T* out, index_t n,
              T a, T b) {
  std::uint64_t first, count;
  detail::rng_block_range<T, Normal>(offset, n, first, count);
  // A Philox block weighs about 64 light operations (engine/parallel.hpp; a normal block: two
  // logarithms and two sine-cosines).
#pragma omp parallel for schedule(static) if (worth_a_team(index_t(count) * 64))
  for (std::int64_t i = 0; i < std::int64_t(count); ++i) {
    detail::rng_fill_block<T, Normal>(seed, stream, offset, out, n, first + std::uint64_t(i), a, b);
  }
}
}  // namespace

template <class T>
void rng_uniform(const Context& ctx, std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                 T* out, index_t n, T lo, T hi) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_rng_uniform(ctx, seed, stream, offset, out, n, lo, hi);
#endif
  (void)ctx;
  cpu_fill<T, false>(seed, stream, offset, out, n, lo, hi);
}

template <class T>
void rng_normal(const Context& ctx, std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                T* out, index_t n, T mean, T stddev) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_rng_normal(ctx, seed, stream, offset, out, n, mean, stddev);
#endif
  (void)ctx;
  cpu_fill<T, true>(seed, stream, offset, out, n, mean, stddev);
}

template void rng_uniform<float>(const Context&, std::uint64_t, std::uint64_t, std::uint64_t,
                                 float*, index_t, float, float);
template void rng_uniform<double>(const Context&, std::uint64_t, std::uint64_t, std::uint64_t,
                                  double*, index_t, double, double);
template void rng_normal<float>(const Context&, std::uint64_t, std::uint64_t, std::uint64_t,
                                float*, index_t, float, float);
template void rng_normal<double>(const Context&, std::uint64_t, std::uint64_t, std::uint64_t,
                                 double*, index_t, double, double);

}  // namespace nwgf
