// CPU LSD radix sort (kernels/radix_sort.hpp) against std::stable_sort: negatives, +-0.0,
// infinities, many duplicates, the serial path (small n or inside a parallel region) and the
// multi-threaded path (large n).
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "nwgf/kernels/radix_sort.hpp"
#include "tests/kernels/awkward_keys.hpp"

using nwgf::index_t;
using nwgf::test::awkward_keys;

namespace {

// Checks sorted keys/permutation against std::stable_sort, and the radix conventions: keys
// carried bit-exactly with their payload, -0.0 before +0.0, stable among equal bit patterns.
template <class T>
void check_sorted(const std::vector<T>& in, const std::vector<T>& out,
                  const std::vector<std::int32_t>& perm) {
  std::vector<T> ref = in;
  std::stable_sort(ref.begin(), ref.end());
  for (std::size_t i = 0; i < in.size(); ++i) REQUIRE(out[i] == ref[i]);
  std::vector<char> seen(in.size(), 0);
  for (std::size_t i = 0; i < in.size(); ++i) {
    REQUIRE(perm[i] >= 0);
    REQUIRE(std::size_t(perm[i]) < in.size());
    REQUIRE(!seen[std::size_t(perm[i])]);
    seen[std::size_t(perm[i])] = 1;
    REQUIRE(nwgf::radix_ordered_bits(in[std::size_t(perm[i])]) == nwgf::radix_ordered_bits(out[i]));
    if (i > 0) {
      const auto a = nwgf::radix_ordered_bits(out[i - 1]), b = nwgf::radix_ordered_bits(out[i]);
      REQUIRE(a <= b);
      if (a == b) REQUIRE(perm[i - 1] < perm[i]);  // stable
      if (out[i - 1] == T(0) && out[i] == T(0))
        REQUIRE(!(std::signbit(out[i]) && !std::signbit(out[i - 1])));
    }
  }
}

template <class T>
void sort_and_check(index_t n, unsigned seed) {
  const std::vector<T> in = awkward_keys<T>(n, seed);
  std::vector<T> out(static_cast<std::size_t>(n)), tmp(static_cast<std::size_t>(n));
  std::vector<std::int32_t> perm(static_cast<std::size_t>(n)),
      perm_tmp(static_cast<std::size_t>(n));
  nwgf::radix_sort_pairs<T>(in.data(), nullptr, n, out.data(), perm.data(), tmp.data(),
                            perm_tmp.data());
  check_sorted(in, out, perm);
  // Keys only agree with the pairs' keys.
  std::vector<T> keys(static_cast<std::size_t>(n));
  nwgf::radix_sort_keys<T>(in.data(), n, keys.data(), tmp.data());
  for (index_t i = 0; i < n; ++i)
    REQUIRE(nwgf::radix_ordered_bits(keys[std::size_t(i)]) ==
            nwgf::radix_ordered_bits(out[std::size_t(i)]));
  // An explicit payload travels with its key.
  std::vector<std::int32_t> payload(static_cast<std::size_t>(n)),
      carried(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) payload[std::size_t(i)] = std::int32_t(7 * i + 3);
  nwgf::radix_sort_pairs<T>(in.data(), payload.data(), n, out.data(), carried.data(), tmp.data(),
                            perm_tmp.data());
  for (index_t i = 0; i < n; ++i) REQUIRE(carried[std::size_t(i)] == 7 * perm[std::size_t(i)] + 3);
}

}  // namespace

TEST_CASE_TEMPLATE("radix sort matches std::stable_sort, serial path", T, float, double) {
  for (index_t n : {0, 1, 2, 17, 1000, 50000}) sort_and_check<T>(n, unsigned(n) + 1);
}

TEST_CASE_TEMPLATE("radix sort matches std::stable_sort, multi-threaded path", T, float, double) {
  omp_set_num_threads(std::max(2, omp_get_num_procs()));
  sort_and_check<T>(300000, 11);
  sort_and_check<T>(1 << 17, 12);
}

TEST_CASE_TEMPLATE("radix sort inside a parallel region runs per thread", T, float, double) {
  int failures = 0;
#pragma omp parallel num_threads(2) reduction(+ : failures)
  {
    const index_t n = 200000 + omp_get_thread_num();
    const std::vector<T> in = awkward_keys<T>(n, 40u + unsigned(omp_get_thread_num()));
    std::vector<T> out(static_cast<std::size_t>(n)), tmp(static_cast<std::size_t>(n));
    nwgf::radix_sort_keys<T>(in.data(), n, out.data(), tmp.data());
    std::vector<T> ref = in;
    std::sort(ref.begin(), ref.end());
    for (index_t i = 0; i < n; ++i) failures += out[std::size_t(i)] != ref[std::size_t(i)];
  }
  CHECK(failures == 0);
}

TEST_CASE("radix sort: all keys equal and already sorted input") {
  const index_t n = 4000;
  std::vector<float> same(std::size_t(n), 2.5f), out(static_cast<std::size_t>(n)),
      tmp(static_cast<std::size_t>(n));
  std::vector<std::int32_t> perm(static_cast<std::size_t>(n)),
      perm_tmp(static_cast<std::size_t>(n));
  nwgf::radix_sort_pairs<float>(same.data(), nullptr, n, out.data(), perm.data(), tmp.data(),
                                perm_tmp.data());
  for (index_t i = 0; i < n; ++i) {
    CHECK(out[std::size_t(i)] == 2.5f);
    CHECK(perm[std::size_t(i)] == i);
  }
  std::vector<double> asc(static_cast<std::size_t>(n)), outd(static_cast<std::size_t>(n)),
      tmpd(static_cast<std::size_t>(n));
  std::iota(asc.begin(), asc.end(), -100.0);
  nwgf::radix_sort_pairs<double>(asc.data(), nullptr, n, outd.data(), perm.data(), tmpd.data(),
                                 perm_tmp.data());
  for (index_t i = 0; i < n; ++i) CHECK(perm[std::size_t(i)] == i);
}

namespace {

// The packed sort against std::stable_sort of (key, index) in the radix key order (a total
// order on non-NaN floats: -0.0 before +0.0, otherwise the order of <), and against
// radix_sort_pairs<float> with the identity payload: the same permutation, keys bit-exact.
void packed_sort_and_check(const std::vector<float>& in) {
  const index_t n = index_t(in.size());
  std::vector<std::int32_t> ref(in.size());
  std::iota(ref.begin(), ref.end(), 0);
  std::stable_sort(ref.begin(), ref.end(), [&](std::int32_t a, std::int32_t b) {
    return nwgf::radix_ordered_bits(in[std::size_t(a)]) <
           nwgf::radix_ordered_bits(in[std::size_t(b)]);
  });
  std::vector<std::uint64_t> out(in.size()), tmp(in.size());
  nwgf::radix_sort_packed(in.data(), n, out.data(), tmp.data());
  std::vector<float> keys(in.size()), keys_tmp(in.size());
  std::vector<std::int32_t> perm(in.size()), perm_tmp(in.size());
  nwgf::radix_sort_pairs<float>(in.data(), nullptr, n, keys.data(), perm.data(), keys_tmp.data(),
                                perm_tmp.data());
  index_t bad_index = 0, bad_key = 0, bad_pairs = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::int32_t i = std::int32_t(nwgf::radix_packed_index(out[k]));
    const float key = nwgf::radix_packed_key(out[k]);
    bad_index += i != ref[k];
    bad_key += nwgf::radix_ordered_bits(key) != nwgf::radix_ordered_bits(in[std::size_t(ref[k])]);
    bad_pairs += i != perm[k] || nwgf::radix_ordered_bits(key) != nwgf::radix_ordered_bits(keys[k]);
  }
  CHECK(bad_index == 0);
  CHECK(bad_key == 0);
  CHECK(bad_pairs == 0);
}

// Keys whose radix bits differ only in bits [lo, lo + width) (so every other digit of the
// packed sort is shared and its pass skipped), with ties; NaN patterns are stepped over.
std::vector<float> keys_varying_in(index_t n, int lo, int width, unsigned seed) {
  std::mt19937 gen(seed);
  std::vector<float> k(static_cast<std::size_t>(n));
  const std::uint32_t base = 0xA5A5A5A5u & ~(((std::uint32_t(1) << width) - 1) << lo);
  for (auto& v : k) {
    do {
      const std::uint32_t digit = std::uint32_t(gen()) & ((std::uint32_t(1) << width) - 1);
      v = nwgf::radix_key_of_bits(base | ((gen() % 4 == 0 ? 5u : digit) << lo));
    } while (std::isnan(v));
  }
  return k;
}

}  // namespace

TEST_CASE("radix_key_of_bits inverts radix_ordered_bits; radix_pack keeps both halves") {
  for (float v : {0.0f, -0.0f, 1.5f, -1.5f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::denorm_min(),
                  -std::numeric_limits<float>::max()}) {
    const float back = nwgf::radix_key_of_bits(nwgf::radix_ordered_bits(v));
    CHECK(back == v);
    CHECK(std::signbit(back) == std::signbit(v));
    const std::uint64_t e = nwgf::radix_pack(nwgf::radix_ordered_bits(v), 0xFFFFFFFEu);
    CHECK(nwgf::radix_packed_index(e) == 0xFFFFFFFEu);
    CHECK(nwgf::radix_ordered_bits(nwgf::radix_packed_key(e)) == nwgf::radix_ordered_bits(v));
  }
}

TEST_CASE("packed radix sort = std::stable_sort on (key, index), serial path") {
  // Sizes around the 8- and 11-bit bucket counts, the parallel threshold (2^17) and the switch
  // from 11- to 8-bit digits (2^18); run inside a parallel region, so serially.
  const std::vector<index_t> sizes = {0, 1, 2, 3, 255, 256, 257, 2047, 2048, 2049, 4099};
  const std::vector<index_t> large = {(1 << 17) - 1, (1 << 17) + 1, 1 << 18, (1 << 18) + 1};
  std::vector<index_t> all = sizes;
  all.insert(all.end(), large.begin(), large.end());
  for (index_t n : all) {
    CAPTURE(n);
#pragma omp parallel num_threads(2)
    {
#pragma omp single
      packed_sort_and_check(awkward_keys<float>(n, unsigned(n) + 3));
    }
  }
}

TEST_CASE("packed radix sort = std::stable_sort on (key, index), multi-threaded path") {
  omp_set_num_threads(std::max(2, omp_get_num_procs()));
  for (index_t n : {index_t(1) << 17, (index_t(1) << 18) + 1, index_t(300001)}) {
    CAPTURE(n);
    packed_sort_and_check(awkward_keys<float>(n, unsigned(n) + 5));
  }
}

TEST_CASE("packed radix sort: keys differing in one digit only (skipped passes), equal keys") {
  // Both digit widths (n below and above 2^18) and both paths (serial below 2^17 or inside a
  // parallel region; threaded above 2^17 outside one): the parity of the moving passes decides
  // whether the result lands in out or is copied there.
  omp_set_num_threads(std::max(2, omp_get_num_procs()));
  for (index_t n : {index_t(1000), index_t(1) << 18, (index_t(1) << 18) + 7}) {
    for (int lo : {0, 8, 11, 16, 22, 24}) {
      CAPTURE(n);
      CAPTURE(lo);
      const auto keys = keys_varying_in(n, lo, 8, unsigned(lo) + 1);
      packed_sort_and_check(keys);
#pragma omp parallel num_threads(2)
      {
#pragma omp single
        packed_sort_and_check(keys);
      }
    }
    std::vector<float> same(static_cast<std::size_t>(n), -2.5f);
    packed_sort_and_check(same);
    std::vector<float> zeros(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < zeros.size(); ++i) zeros[i] = i % 3 ? 0.0f : -0.0f;
    packed_sort_and_check(zeros);
  }
}
