#include "nwgf/kernels/radix_sort.hpp"

#include <omp.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "nwgf/engine/error.hpp"

namespace nwgf {
namespace {

constexpr int kDigitBits = 11;
constexpr int kBuckets = 1 << kDigitBits;
// Below this many keys one thread sorts: thread start-up and per-thread histograms cost more.
constexpr index_t kParallelMin = index_t(1) << 17;

template <class T>
constexpr int passes_of() {
  return (8 * int(sizeof(T)) + kDigitBits - 1) / kDigitBits;
}

template <class T>
std::uint32_t digit_of(T key, int pass) {
  return std::uint32_t(radix_ordered_bits(key) >> (pass * kDigitBits)) & (kBuckets - 1);
}

// After the passes: the sorted data in (src_k, src_v) lands in the outputs if it is not there
// already (a pass skipped for a shared digit, or n = 0); src_v == nullptr is the identity payload.
template <class T>
void copy_result(const T* src_k, const std::int32_t* src_v, index_t n, T* keys_out,
                 std::int32_t* vals_out) {
  if (src_k != keys_out) std::copy(src_k, src_k + n, keys_out);
  if (vals_out && src_v != vals_out) {
    if (src_v) {
      std::copy(src_v, src_v + n, vals_out);
    } else {
      for (index_t i = 0; i < n; ++i) vals_out[i] = std::int32_t(i);
    }
  }
}

// One thread: all pass histograms from one read, then one scatter per pass. A pass whose keys
// all share one digit is skipped. vals == nullptr (and vals_in == nullptr) sorts keys only.
template <class T>
void sort_serial(const T* keys_in, const std::int32_t* vals_in, index_t n, T* keys_out,
                 std::int32_t* vals_out, T* keys_tmp, std::int32_t* vals_tmp) {
  constexpr int P = passes_of<T>();
  std::uint32_t hist[P][kBuckets] = {};
  for (index_t i = 0; i < n; ++i) {
    const auto b = radix_ordered_bits(keys_in[i]);
    for (int p = 0; p < P; ++p) ++hist[p][std::uint32_t(b >> (p * kDigitBits)) & (kBuckets - 1)];
  }
  const bool with_vals = vals_out != nullptr;
  const T* src_k = keys_in;
  const std::int32_t* src_v = vals_in;  // nullptr: identity payload
  // Count the passes that move data so the last one lands in *_out.
  int moving = 0;
  for (int p = 0; p < P; ++p)
    moving += std::find(hist[p], hist[p] + kBuckets, std::uint32_t(n)) == hist[p] + kBuckets;
  bool to_out = moving % 2 == 1;
  for (int p = 0; p < P; ++p) {
    std::uint32_t* h = hist[p];
    if (std::find(h, h + kBuckets, std::uint32_t(n)) != h + kBuckets) continue;
    std::uint32_t sum = 0;
    for (int b = 0; b < kBuckets; ++b) sum += std::exchange(h[b], sum);
    T* dst_k = to_out ? keys_out : keys_tmp;
    std::int32_t* dst_v = to_out ? vals_out : vals_tmp;
    const int shift = p * kDigitBits;
    for (index_t i = 0; i < n; ++i) {
      const T k = src_k[i];
      const std::uint32_t pos = h[std::uint32_t(radix_ordered_bits(k) >> shift) & (kBuckets - 1)]++;
      dst_k[pos] = k;
      if (with_vals) dst_v[pos] = src_v ? src_v[i] : std::int32_t(i);
    }
    src_k = dst_k;
    src_v = dst_v;
    to_out = !to_out;
  }
  copy_result(src_k, src_v, n, keys_out, vals_out);
}

// All threads: per pass, each thread histograms its contiguous slice; offsets ordered by
// (digit, thread) keep the scatter stable.
// The parallel passes' offsets: hist holds `threads` histograms of `buckets` counts, thread-major;
// each count becomes the thread's first destination in its bucket (bucket-major, then thread
// order, so the sort stays stable). True where one bucket holds all n keys: the pass is skipped.
inline bool exclusive_offsets(index_t* hist, int buckets, int threads, index_t n) {
  index_t sum = 0;
  bool skip = false;
  for (int b = 0; b < buckets; ++b) {
    const index_t before = sum;
    for (int u = 0; u < threads; ++u) sum += std::exchange(hist[std::size_t(u) * buckets + b], sum);
    if (sum - before == n) skip = true;
  }
  return skip;
}

template <class T>
void sort_parallel(const T* keys_in, const std::int32_t* vals_in, index_t n, T* keys_out,
                   std::int32_t* vals_out, T* keys_tmp, std::int32_t* vals_tmp, int threads) {
  constexpr int P = passes_of<T>();
  const bool with_vals = vals_out != nullptr;
  std::vector<index_t> hist(std::size_t(threads) * kBuckets);
  const T* src_k = keys_in;
  const std::int32_t* src_v = vals_in;
  T* bufs_k[2] = {keys_tmp, keys_out};
  std::int32_t* bufs_v[2] = {vals_tmp, vals_out};
  int target = P % 2;  // index into bufs of the next destination, so the last pass hits *_out
  for (int p = 0; p < P; ++p) {
    T* dst_k = bufs_k[target];
    std::int32_t* dst_v = bufs_v[target];
    bool skip = false;
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
      const index_t lo = n * t / threads, hi = n * (t + 1) / threads;
      index_t* h = hist.data() + std::size_t(t) * kBuckets;
      std::fill(h, h + kBuckets, 0);
      for (index_t i = lo; i < hi; ++i) ++h[digit_of(src_k[i], p)];
#pragma omp barrier
#pragma omp single
      skip = exclusive_offsets(hist.data(), kBuckets, threads, n);
      if (!skip) {
        for (index_t i = lo; i < hi; ++i) {
          const T k = src_k[i];
          const index_t pos = h[digit_of(k, p)]++;
          dst_k[pos] = k;
          if (with_vals) dst_v[pos] = src_v ? src_v[i] : std::int32_t(i);
        }
      }
    }
    if (skip) continue;
    src_k = dst_k;
    src_v = dst_v;
    target ^= 1;
  }
  copy_result(src_k, src_v, n, keys_out, vals_out);
}

template <class T>
void sort_dispatch(const T* keys_in, const std::int32_t* vals_in, index_t n, T* keys_out,
                   std::int32_t* vals_out, T* keys_tmp, std::int32_t* vals_tmp) {
  if (n < 0 || n >= (index_t(1) << 31)) throw_runtime("radix_sort: n must lie in [0, 2^31)");
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads > 1 && n >= kParallelMin) {
    sort_parallel(keys_in, vals_in, n, keys_out, vals_out, keys_tmp, vals_tmp, threads);
  } else {
    sort_serial(keys_in, vals_in, n, keys_out, vals_out, keys_tmp, vals_tmp);
  }
}

// ---- Packed (key bits << 32 | index) sort of float keys. ----

// Up to this many keys the packed sort uses 3 passes of 11-bit digits (2048 buckets), beyond it
// 4 passes of 8 bits: once the two u64 arrays (16 bytes a key) outgrow the L2 cache the 2048
// scattered write streams cost more than the extra pass (measured on a Zen 4 with 2 MiB L2:
// 11 bits 1.5x faster at 2^18 keys, 8 bits 1.4x faster at 2^19 and beyond).
constexpr index_t kPackedWideMax = index_t(1) << 18;

// Digit width of the packed sort (a template parameter so both widths can be measured).
template <int DB>
struct PackedDigits {
  static constexpr int bits = DB;
  static constexpr int buckets = 1 << DB;
  static constexpr int passes = (32 + DB - 1) / DB;
  static std::uint32_t digit(std::uint64_t e, int p) {
    return std::uint32_t(e >> (32 + p * DB)) & (buckets - 1);
  }
};

// One pass: elements [lo, hi) of the source go to dst at the running offsets h. src == nullptr
// reads the keys instead and packs them with their index (the first pass that moves data).
template <class D>
void packed_scatter(const float* keys, const std::uint64_t* src, index_t lo, index_t hi, int p,
                    std::uint64_t* dst, index_t* h) {
  if (src) {
    for (index_t i = lo; i < hi; ++i) {
      const std::uint64_t e = src[i];
      dst[h[D::digit(e, p)]++] = e;
    }
  } else {
    for (index_t i = lo; i < hi; ++i) {
      const std::uint64_t e = radix_pack(radix_ordered_bits(keys[i]), std::uint32_t(i));
      dst[h[D::digit(e, p)]++] = e;
    }
  }
}

// When every pass was skipped (n < 2 or all keys share their bits), the input is already sorted.
inline void packed_identity(const float* keys, index_t n, std::uint64_t* out) {
  for (index_t i = 0; i < n; ++i)
    out[i] = radix_pack(radix_ordered_bits(keys[i]), std::uint32_t(i));
}

template <class D>
void packed_serial(const float* keys, index_t n, std::uint64_t* out, std::uint64_t* tmp) {
  constexpr int P = D::passes, B = D::buckets;
  index_t hist[P][B] = {};
  for (index_t i = 0; i < n; ++i) {
    const std::uint64_t e = std::uint64_t(radix_ordered_bits(keys[i])) << 32;
    for (int p = 0; p < P; ++p) ++hist[p][D::digit(e, p)];
  }
  bool moves[P];
  int moving = 0;
  for (int p = 0; p < P; ++p) {
    moves[p] = std::find(hist[p], hist[p] + B, n) == hist[p] + B;
    moving += moves[p];
  }
  if (moving == 0) return packed_identity(keys, n, out);
  bool to_out = moving % 2 == 1;  // so the last moving pass lands in out
  const std::uint64_t* src = nullptr;
  for (int p = 0; p < P; ++p) {
    if (!moves[p]) continue;
    index_t* h = hist[p];
    index_t sum = 0;
    for (int b = 0; b < B; ++b) sum += std::exchange(h[b], sum);
    std::uint64_t* dst = to_out ? out : tmp;
    packed_scatter<D>(keys, src, 0, n, p, dst, h);
    src = dst;
    to_out = !to_out;
  }
}

template <class D>
void packed_parallel(const float* keys, index_t n, std::uint64_t* out, std::uint64_t* tmp,
                     int threads) {
  constexpr int P = D::passes, B = D::buckets;
  std::vector<index_t> hist(std::size_t(threads) * B);
  const std::uint64_t* src = nullptr;
  std::uint64_t* bufs[2] = {tmp, out};
  int target = P % 2;  // the next destination, so that the last pass hits out
  int moved = 0;
  for (int p = 0; p < P; ++p) {
    std::uint64_t* dst = bufs[target];
    bool skip = false;
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
      const index_t lo = n * t / threads, hi = n * (t + 1) / threads;
      index_t* h = hist.data() + std::size_t(t) * B;
      std::fill(h, h + B, 0);
      if (src) {
        for (index_t i = lo; i < hi; ++i) ++h[D::digit(src[i], p)];
      } else {
        for (index_t i = lo; i < hi; ++i)
          ++h[D::digit(std::uint64_t(radix_ordered_bits(keys[i])) << 32, p)];
      }
#pragma omp barrier
#pragma omp single
      skip = exclusive_offsets(hist.data(), B, threads, n);
      if (!skip) packed_scatter<D>(keys, src, lo, hi, p, dst, h);
    }
    if (skip) continue;
    src = dst;
    target ^= 1;
    ++moved;
  }
  if (moved == 0) return packed_identity(keys, n, out);
  if (src != out) std::copy(src, src + n, out);  // a skipped pass left the result in tmp
}

template <class D>
void packed_dispatch(const float* keys, index_t n, std::uint64_t* out, std::uint64_t* tmp) {
  if (n < 0 || n >= (index_t(1) << 31)) throw_runtime("radix_sort: n must lie in [0, 2^31)");
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads > 1 && n >= kParallelMin) {
    packed_parallel<D>(keys, n, out, tmp, threads);
  } else {
    packed_serial<D>(keys, n, out, tmp);
  }
}

}  // namespace

void radix_sort_packed(const float* keys_in, index_t n, std::uint64_t* out, std::uint64_t* tmp) {
  if (n <= kPackedWideMax) return packed_dispatch<PackedDigits<11>>(keys_in, n, out, tmp);
  packed_dispatch<PackedDigits<8>>(keys_in, n, out, tmp);
}

template <class T>
void radix_sort_pairs(const T* keys_in, const std::int32_t* vals_in, index_t n, T* keys_out,
                      std::int32_t* vals_out, T* keys_tmp, std::int32_t* vals_tmp) {
  sort_dispatch(keys_in, vals_in, n, keys_out, vals_out, keys_tmp, vals_tmp);
}

template <class T>
void radix_sort_keys(const T* keys_in, index_t n, T* keys_out, T* keys_tmp) {
  sort_dispatch<T>(keys_in, nullptr, n, keys_out, nullptr, keys_tmp, nullptr);
}

template void radix_sort_pairs<float>(const float*, const std::int32_t*, index_t, float*,
                                      std::int32_t*, float*, std::int32_t*);
template void radix_sort_pairs<double>(const double*, const std::int32_t*, index_t, double*,
                                       std::int32_t*, double*, std::int32_t*);
template void radix_sort_keys<float>(const float*, index_t, float*, float*);
template void radix_sort_keys<double>(const double*, index_t, double*, double*);

}  // namespace nwgf
