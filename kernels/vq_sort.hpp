#pragma once
// The sliced estimator's CPU keys sorted with their indices by Highway's vectorised quicksort
// (VQSort, hwy/contrib/sort: libhwy-contrib), which dispatches at run time to the best SIMD target
// the CPU has (and follows a target forced through engine/simd.hpp). One thread, in place, no
// allocation per sort. Keys must be NaN-free; they are sorted on radix_ordered_bits, i.e. in the
// order of kernels/radix_sort.hpp (negatives first, -0.0 directly before +0.0).
#include <cstdint>
#include <memory>

#include "nwgf/engine/types.hpp"

namespace hwy {
class Sorter;
}

namespace nwgf {

// One f64 element: the key's ordered bits and its index, the layout of Highway's K64V64 (the
// value in the low half, the key compared in the high half).
struct alignas(16) WideKey {
  std::uint64_t index;
  std::uint64_t bits;  // radix_ordered_bits(key)
};

// Holds Highway's sorter state; one per thread (it is not shared between concurrent sorts).
class VqSorter {
 public:
  // Whether Highway's sort has vector code for a target allowed now. Debian builds libhwy-contrib
  // for AVX-512 (not its Ice Lake / Zen 4 variant), AVX2, SSE4 and SSSE3 on x86, so where only
  // avx512_dl or scalar is allowed (NWGF_SIMD) it would run its scalar fallback (a heap sort, with
  // no 128-bit key-value sort at all): the sorts below then use std::sort instead (same order).
  static bool vectorised();

  VqSorter();
  ~VqSorter();
  VqSorter(const VqSorter&) = delete;
  VqSorter& operator=(const VqSorter&) = delete;

  // out (n) <- radix_pack(radix_ordered_bits(keys[i]), i) ascending: the order radix_sort_packed
  // gives (every element is distinct, so the sorted order is unique). n < 2^31.
  void packed(const float* keys, index_t n, std::uint64_t* out) const;
  // out (n) <- {i, radix_ordered_bits(keys[i])} ascending by bits; elements with equal bits come
  // in an unspecified order (only the key is compared). n < 2^31.
  void wide(const double* keys, index_t n, WideKey* out) const;

 private:
  std::unique_ptr<hwy::Sorter> sorter_;
};

}  // namespace nwgf
