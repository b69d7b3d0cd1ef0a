#pragma once
// The one deterministic reduction of the engine's sums, on every backend: fixed-order partials.
// A sum of n terms is cut into fixed pieces (chunks of ReducePolicy::chunk terms, a pass's row
// blocks, CUDA blocks); each piece's partial is a double summed by one owner in index order, and
// the partials are added in piece order by one owner. No atomics on values, so a result depends
// only on the pieces (for the CPU row passes: the thread count; for CUDA: the launch shape).
// CUDA: kernels/reduce.cuh (a block's partial) and cuda_sum_partials below.
#include <algorithm>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

// Chunk of the chunked sums: partials of 8192 terms keep the per-chunk double sums short while
// 1e6 terms make only 122 partials to add; one CUDA block (256 threads) per chunk.
struct ReducePolicy {
  static constexpr index_t chunk = 8192;
  static constexpr int block_threads = 256;
};

// partials[0] + partials[1] + ... in index order.
inline double sum_in_order(const double* partials, index_t n) {
  double s = 0;
  for (index_t k = 0; k < n; ++k) s += partials[k];
  return s;
}

inline index_t chunks_of(index_t n) { return (n + ReducePolicy::chunk - 1) / ReducePolicy::chunk; }

// CPU: sum_i term(i) over i < n: chunk c's partial sums its terms in order, the chunks (spread
// over OpenMP threads, static) are then added in order; the same for any thread count. One
// chunk (the training batches' sums) runs on the calling thread: a team would only wait.
template <class Term>
double chunked_sum(index_t n, const Term& term) {
  const index_t chunks = chunks_of(n);
  std::vector<double> partial(std::size_t(chunks), 0.0);
#if defined(_OPENMP)  // not in nvcc host passes of .cu files, which include this header
#pragma omp parallel for schedule(static) if (chunks > 1)
#endif
  for (index_t c = 0; c < chunks; ++c) {
    double s = 0;
    const index_t hi = std::min(n, (c + 1) * ReducePolicy::chunk);
    for (index_t i = c * ReducePolicy::chunk; i < hi; ++i) s += term(i);
    partial[std::size_t(c)] = s;
  }
  return sum_in_order(partial.data(), chunks);
}

#ifdef NWGF_HAVE_CUDA
namespace detail {
// out (device) (+)= partials[0] + ... + partials[nb - 1] (device), in a fixed order, on ctx's
// stream.
void cuda_sum_partials(const Context& ctx, const double* partials, index_t nb, double* out,
                       bool accumulate = false);
}  // namespace detail
#endif

}  // namespace nwgf
