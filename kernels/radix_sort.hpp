#pragma once
// LSD radix sort of float / double keys with an int32 payload on the CPU (11-bit digits: 3
// passes for float, 6 for double). Keys are mapped to unsigned integers that order like the
// floats (sign bit flipped for positives, all bits flipped for negatives), so negatives sort
// before positives and -0.0 directly before +0.0; NaNs are not supported. The sort is stable.
// Called outside an OpenMP parallel region it uses all OpenMP threads (per-thread histograms,
// digit-major offsets keep it stable); inside one (e.g. one sort per thread) it runs serially.
#include <cstdint>
#include <cstring>

#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

template <class T>
struct RadixKeyTraits;
template <>
struct RadixKeyTraits<float> {
  using Bits = std::uint32_t;
};
template <>
struct RadixKeyTraits<double> {
  using Bits = std::uint64_t;
};

// The order-preserving unsigned image of a float key.
template <class T>
NWGF_HD typename RadixKeyTraits<T>::Bits radix_ordered_bits(T key) {
  using Bits = typename RadixKeyTraits<T>::Bits;
  Bits u;
  std::memcpy(&u, &key, sizeof u);
  constexpr int top = 8 * sizeof(Bits) - 1;
  const Bits mask = Bits(Bits(0) - (u >> top)) | (Bits(1) << top);
  return u ^ mask;
}

// keys_out (n) <- keys_in sorted ascending, vals_out (n) <- the payload carried along
// (vals_in == nullptr means the payload 0, 1, ..., n-1, i.e. vals_out is the sorting
// permutation). keys_in / vals_in are not modified; *_tmp (n) are scratch. n < 2^31.
template <class T>
void radix_sort_pairs(const T* keys_in, const std::int32_t* vals_in, index_t n, T* keys_out,
                      std::int32_t* vals_out, T* keys_tmp, std::int32_t* vals_tmp);

// keys_out (n) <- keys_in sorted ascending; keys_tmp (n) is scratch.
template <class T>
void radix_sort_keys(const T* keys_in, index_t n, T* keys_out, T* keys_tmp);

}  // namespace nwgf
