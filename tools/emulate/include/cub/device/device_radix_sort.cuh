#pragma once
// nwgf CUDA emulator: cub::DeviceRadixSort on the host (std::stable_sort on CUB's key bits).
// Follows CUB's contract: the temp-storage query (d_temp_storage == nullptr sets the size and
// returns), a too-small temp storage is an error, keys sort by the order-preserving unsigned image
// of the key restricted to bits [begin_bit, end_bit), stable, with -0.0 equal to +0.0. The temp
// storage is scribbled over (0xFF), so callers that expect it to hold anything afterwards fail.
// The sort is submitted on the given stream: a capturing stream records it.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda_runtime.h"

namespace nwgf::emu {
void report_cub_error(const std::string& why);
}  // namespace nwgf::emu

namespace cub {
namespace emu_detail {

template <class K>
auto radix_bits(K key) {
  using U = std::conditional_t<
      sizeof(K) == 8, std::uint64_t,
      std::conditional_t<sizeof(K) == 4, std::uint32_t,
                         std::conditional_t<sizeof(K) == 2, std::uint16_t, std::uint8_t>>>;
  U u;
  std::memcpy(&u, &key, sizeof u);
  constexpr U top = U(U(1) << (8 * sizeof(U) - 1));
  if constexpr (std::is_floating_point_v<K>) {
    if (u == top) u = 0;  // -0.0 sorts as +0.0
    return U((u & top) ? U(~u) : U(u | top));
  } else if constexpr (std::is_signed_v<K>) {
    return U(u ^ top);
  } else {
    return u;
  }
}

inline std::size_t temp_bytes(std::size_t n, std::size_t key_bytes, std::size_t value_bytes) {
  return 256 + n * (key_bytes + value_bytes);  // like CUB: double buffers plus histograms
}

// Validates the call; true when the caller only asked for the temp-storage size.
template <class K>
bool prologue(const char* what, void* d_temp_storage, std::size_t& temp_storage_bytes,
              std::size_t need, const void* const* device_ptrs, std::size_t nptrs, long long n,
              int begin_bit, int end_bit, cudaError_t& status) {
  status = cudaSuccess;
  if (d_temp_storage == nullptr) {
    temp_storage_bytes = need;
    return true;
  }
  std::string bad;
  if (n < 0)
    bad = "negative num_items";
  else if (begin_bit < 0 || end_bit > int(8 * sizeof(K)) || begin_bit > end_bit)
    bad = "bad bit range";
  else if (temp_storage_bytes < need)
    bad = "temp_storage_bytes " + std::to_string(temp_storage_bytes) + " < " +
          std::to_string(need) + " needed";
  else if (!nwgf::emu::is_device_range(d_temp_storage, temp_storage_bytes))
    bad = "temp storage is not device memory";
  for (std::size_t i = 0; bad.empty() && i < nptrs; ++i) {
    if (n > 0 && !nwgf::emu::is_device_range(device_ptrs[i], 1))
      bad = "an array is not device memory";
  }
  if (!bad.empty()) {
    nwgf::emu::report_cub_error(std::string("cub::DeviceRadixSort::") + what + ": " + bad);
    status = cudaErrorInvalidValue;
    return true;
  }
  return false;
}

template <class K, class V>
void sort(const K* keys_in, K* keys_out, const V* values_in, V* values_out, std::size_t n,
          int begin_bit, int end_bit, bool descending) {
  using U = decltype(radix_bits(K{}));
  const int width = end_bit - begin_bit;
  const U mask = width >= int(8 * sizeof(U)) ? U(~U(0)) : U((U(1) << width) - 1);
  std::vector<U> digit(n);
  for (std::size_t i = 0; i < n; ++i) digit[i] = U(radix_bits(keys_in[i]) >> begin_bit) & mask;
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), std::size_t(0));
  std::stable_sort(perm.begin(), perm.end(), [&](std::size_t a, std::size_t b) {
    return descending ? digit[a] > digit[b] : digit[a] < digit[b];
  });
  std::vector<K> k(n);
  for (std::size_t i = 0; i < n; ++i) k[i] = keys_in[perm[i]];
  if (values_out) {
    std::vector<V> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = values_in[perm[i]];
    std::copy(v.begin(), v.end(), values_out);
  }
  std::copy(k.begin(), k.end(), keys_out);
}

}  // namespace emu_detail

struct DeviceRadixSort {
  template <class K, class V, class N>
  static cudaError_t SortPairs(void* d_temp_storage, std::size_t& temp_storage_bytes,
                               const K* d_keys_in, K* d_keys_out, const V* d_values_in,
                               V* d_values_out, N num_items, int begin_bit = 0,
                               int end_bit = int(8 * sizeof(K)), cudaStream_t stream = nullptr) {
    return pairs("SortPairs", d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out,
                 d_values_in, d_values_out, num_items, begin_bit, end_bit, false, stream);
  }
  template <class K, class V, class N>
  static cudaError_t SortPairsDescending(void* d_temp_storage, std::size_t& temp_storage_bytes,
                                         const K* d_keys_in, K* d_keys_out, const V* d_values_in,
                                         V* d_values_out, N num_items, int begin_bit = 0,
                                         int end_bit = int(8 * sizeof(K)), cudaStream_t stream = nullptr) {
    return pairs("SortPairsDescending", d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out,
                 d_values_in, d_values_out, num_items, begin_bit, end_bit, true, stream);
  }
  template <class K, class N>
  static cudaError_t SortKeys(void* d_temp_storage, std::size_t& temp_storage_bytes,
                              const K* d_keys_in, K* d_keys_out, N num_items, int begin_bit = 0,
                              int end_bit = int(8 * sizeof(K)), cudaStream_t stream = nullptr) {
    return keys("SortKeys", d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out, num_items,
                begin_bit, end_bit, false, stream);
  }
  template <class K, class N>
  static cudaError_t SortKeysDescending(void* d_temp_storage, std::size_t& temp_storage_bytes,
                                        const K* d_keys_in, K* d_keys_out, N num_items,
                                        int begin_bit = 0, int end_bit = int(8 * sizeof(K)),
                                        cudaStream_t stream = nullptr) {
    return keys("SortKeysDescending", d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out,
                num_items, begin_bit, end_bit, true, stream);
  }

 private:
  template <class K, class V, class N>
  static cudaError_t pairs(const char* what, void* temp, std::size_t& bytes, const K* ki, K* ko,
                           const V* vi, V* vo, N n, int b0, int b1, bool desc,
                           cudaStream_t stream) {
    const void* ptrs[] = {ki, ko, vi, vo};
    cudaError_t st;
    if (emu_detail::prologue<K>(what, temp, bytes,
                                emu_detail::temp_bytes(std::size_t(n), sizeof(K), sizeof(V)), ptrs,
                                4, (long long)n, b0, b1, st))
      return st;
    nwgf::emu::submit(stream, [=] {
      std::memset(temp, 0xFF, bytes);
      emu_detail::sort(ki, ko, vi, vo, std::size_t(n), b0, b1, desc);
    });
    return cudaSuccess;
  }
  template <class K, class N>
  static cudaError_t keys(const char* what, void* temp, std::size_t& bytes, const K* ki, K* ko, N n,
                          int b0, int b1, bool desc, cudaStream_t stream) {
    const void* ptrs[] = {ki, ko};
    cudaError_t st;
    if (emu_detail::prologue<K>(what, temp, bytes,
                                emu_detail::temp_bytes(std::size_t(n), sizeof(K), 0), ptrs, 2,
                                (long long)n, b0, b1, st))
      return st;
    nwgf::emu::submit(stream, [=] {
      std::memset(temp, 0xFF, bytes);
      emu_detail::sort<K, char>(ki, ko, nullptr, nullptr, std::size_t(n), b0, b1, desc);
    });
    return cudaSuccess;
  }
};

}  // namespace cub
