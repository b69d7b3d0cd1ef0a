#pragma once
// The per-element body shared by the CPU loop (engine/rng.cpp) and the CUDA kernel
// (engine/rng.cu): write the values of Philox block `b` that fall into [offset, offset + n).
#include <cstdint>

#include "nwgf/engine/philox.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf::detail {

// a + b c with the product rounded on its own. nvcc contracts a + b * c into one FMA (one
// rounding) while the host build (no FMA in the baseline x86-64 ISA) rounds twice, so the scaled
// streams differed between the backends on a GPU (seen on an H200: MLP initial weights); the
// explicitly rounded intrinsics are never contracted.
template <class T>
NWGF_HD T add_product_rn(T a, T b, T c) {
#ifdef __CUDA_ARCH__
  if constexpr (sizeof(T) == 4) {
    return __fadd_rn(a, __fmul_rn(b, c));
  } else {
    return __dadd_rn(a, __dmul_rn(b, c));
  }
#else
  return a + b * c;
#endif
}

template <class T, bool Normal>
NWGF_HD void rng_fill_block(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                            T* out, index_t n, std::uint64_t block, T a, T b) {
  constexpr int k = Normal ? PhiloxTraits<T>::normal_per_block : PhiloxTraits<T>::uniform_per_block;
  T vals[k];
  const PhiloxBlock bits = philox_block(seed, stream, block);
  if constexpr (Normal) {
    philox_normal_block(bits, vals);
  } else {
    philox_uniform_block(bits, vals);
  }
  for (int j = 0; j < k; ++j) {
    const std::uint64_t e = block * k + std::uint64_t(j);
    if (e < offset || e >= offset + std::uint64_t(n)) continue;
    // uniform: a + (b - a) U;  normal: a + b Z
    out[e - offset] = Normal ? add_product_rn(a, b, vals[j]) : add_product_rn(a, T(b - a), vals[j]);
  }
}

// Blocks touched by elements [offset, offset + n).
template <class T, bool Normal>
NWGF_HD void rng_block_range(std::uint64_t offset, index_t n, std::uint64_t& first,
                             std::uint64_t& count) {
  constexpr int k = Normal ? PhiloxTraits<T>::normal_per_block : PhiloxTraits<T>::uniform_per_block;
  first = offset / k;
  const std::uint64_t last = (offset + std::uint64_t(n) + k - 1) / k;
  count = n > 0 ? last - first : 0;
}

}  // namespace nwgf::detail
