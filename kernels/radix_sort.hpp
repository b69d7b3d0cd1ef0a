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

// The float key whose radix_ordered_bits are `bits` (the inverse map).
NWGF_HD float radix_key_of_bits(std::uint32_t bits) {
  const std::uint32_t mask = (bits >> 31) ? std::uint32_t(0x80000000u) : ~std::uint32_t(0);
  const std::uint32_t u = bits ^ mask;
  float key;
  std::memcpy(&key, &u, sizeof key);
  return key;
}

// The double key whose radix_ordered_bits are `bits`.
NWGF_HD double radix_key_of_bits(std::uint64_t bits) {
  const std::uint64_t mask =
      (bits >> 63) ? std::uint64_t(0x8000000000000000ull) : ~std::uint64_t(0);
  const std::uint64_t u = bits ^ mask;
  double key;
  std::memcpy(&key, &u, sizeof key);
  return key;
}

// One packed element: the key's ordered bits in the high half, its index in the low half.
NWGF_HD std::uint64_t radix_pack(std::uint32_t ordered_bits, std::uint32_t index) {
  return (std::uint64_t(ordered_bits) << 32) | index;
}
NWGF_HD std::uint32_t radix_packed_index(std::uint64_t e) { return std::uint32_t(e); }
NWGF_HD float radix_packed_key(std::uint64_t e) {
  return radix_key_of_bits(std::uint32_t(e >> 32));
}

// Packed sort of float keys with their indices: out (n) <- radix_pack(radix_ordered_bits(
// keys_in[i]), i) in ascending order, i.e. by the radix key order (the one radix_sort_pairs
// uses: -0.0 before +0.0) and equal keys by index, the order radix_sort_pairs<float> gives with
// the identity payload. One u64 array moves instead of a key and an index array, and only the
// high 32 bits are sorted on (3 LSD passes of 11 bits up to 2^18 keys, 4 of 8 bits beyond).
// tmp (n) is scratch; n < 2^31. Threads as radix_sort_pairs: all OpenMP threads outside a
// parallel region, serial inside one.
void radix_sort_packed(const float* keys_in, index_t n, std::uint64_t* out, std::uint64_t* tmp);

}  // namespace nwgf
