// Highway's vectorised quicksort of the sliced keys (kernels/vq_sort.hpp) against the radix
// sorts (kernels/radix_sort.hpp, themselves tested against std::stable_sort): negatives, +-0.0,
// infinities, denormals, many duplicates, sizes around the sorting networks' and the vectors'.
// Also run under every SIMD target (tests/CMakeLists.txt: NWGF_SIMD), which VQSort follows.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "nwgf/engine/simd.hpp"
#include "nwgf/kernels/radix_sort.hpp"
#include "nwgf/kernels/vq_sort.hpp"
#include "tests/kernels/awkward_keys.hpp"

using nwgf::index_t;
using nwgf::test::awkward_keys;

namespace {

const std::vector<index_t> kSizes = {0,   1,   2,    3,    7,    8,    9,     15,    16,
                                     17,  31,  32,   33,   127,  128,  129,   255,   256,
                                     257, 511, 1023, 1024, 1025, 4099, 65537, 300001};

}  // namespace

TEST_CASE("VqSorter::packed gives radix_sort_packed's order exactly") {
  std::printf("simd target: %s, Highway's sort vectorised: %d\n", nwgf::simd_target().c_str(),
              int(nwgf::VqSorter::vectorised()));
  const nwgf::VqSorter sorter;
  for (index_t n : kSizes) {
    CAPTURE(n);
    const auto keys = awkward_keys<float>(n, unsigned(n) + 11);
    std::vector<std::uint64_t> ref(keys.size()), tmp(keys.size()), out(keys.size());
    nwgf::radix_sort_packed(keys.data(), n, ref.data(), tmp.data());
    sorter.packed(keys.data(), n, out.data());
    index_t differ = 0;
    for (std::size_t k = 0; k < out.size(); ++k) differ += out[k] != ref[k];
    CHECK(differ == 0);
  }
  // Already sorted, reversed and all-equal inputs (quicksort's special cases).
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    const index_t n = 100000;
    std::vector<float> keys(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i)
      keys[std::size_t(i)] = kind == 0 ? float(i) : kind == 1 ? float(n - i) : 2.5f;
    std::vector<std::uint64_t> ref(keys.size()), tmp(keys.size()), out(keys.size());
    nwgf::radix_sort_packed(keys.data(), n, ref.data(), tmp.data());
    sorter.packed(keys.data(), n, out.data());
    CHECK(out == ref);
  }
}

TEST_CASE("VqSorter::wide sorts f64 keys with their indices (ties in any order)") {
  const nwgf::VqSorter sorter;
  for (index_t n : kSizes) {
    CAPTURE(n);
    const auto keys = awkward_keys<double>(n, unsigned(n) + 13);
    std::vector<double> ref(keys.size()), ref_tmp(keys.size());
    std::vector<std::int32_t> perm(keys.size()), perm_tmp(keys.size());
    nwgf::radix_sort_pairs<double>(keys.data(), nullptr, n, ref.data(), perm.data(), ref_tmp.data(),
                                   perm_tmp.data());
    std::vector<nwgf::WideKey> out(keys.size());
    sorter.wide(keys.data(), n, out.data());
    // The keys in the radix order, each carrying its own index, every index once.
    std::vector<int> seen(keys.size(), 0);
    index_t bad_key = 0, bad_index = 0;
    for (std::size_t k = 0; k < out.size(); ++k) {
      bad_key += out[k].bits != nwgf::radix_ordered_bits(ref[k]);
      const std::uint64_t i = out[k].index;
      if (i >= keys.size() || seen[i]++ || nwgf::radix_ordered_bits(keys[i]) != out[k].bits)
        ++bad_index;
      const double back = nwgf::radix_key_of_bits(out[k].bits);
      bad_key += std::signbit(back) != std::signbit(ref[k]) || !(back == ref[k]);
    }
    CHECK(bad_key == 0);
    CHECK(bad_index == 0);
  }
}
