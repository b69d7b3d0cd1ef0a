#include "nwgf/kernels/vq_sort.hpp"

#include <hwy/base.h>
#include <hwy/contrib/sort/vqsort.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cstddef>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/kernels/radix_sort.hpp"

namespace nwgf {

static_assert(sizeof(WideKey) == sizeof(hwy::K64V64) && alignof(WideKey) == alignof(hwy::K64V64));
static_assert(offsetof(WideKey, index) == offsetof(hwy::K64V64, value) &&
              offsetof(WideKey, bits) == offsetof(hwy::K64V64, key));

namespace {
void check_count(index_t n) {
  if (n < 0 || n >= (index_t(1) << 31)) throw_runtime("vq_sort: n must lie in [0, 2^31)");
}
}  // namespace

// simd_target() applies a target forced by NWGF_SIMD before the first sort dispatches.
VqSorter::VqSorter() : sorter_(std::make_unique<hwy::Sorter>()) { (void)simd_target(); }
VqSorter::~VqSorter() = default;

bool VqSorter::vectorised() {
  (void)simd_target();
  constexpr std::int64_t kVectorTargets = HWY_AVX3 | HWY_AVX2 | HWY_SSE4 | HWY_SSSE3 | HWY_NEON |
                                          HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128;
  return (hwy::SupportedTargets() & kVectorTargets) != 0;
}

void VqSorter::packed(const float* keys, index_t n, std::uint64_t* out) const {
  check_count(n);
  for (index_t i = 0; i < n; ++i)
    out[i] = radix_pack(radix_ordered_bits(keys[i]), std::uint32_t(i));
  if (!vectorised()) return std::sort(out, out + n);
  (*sorter_)(out, std::size_t(n), hwy::SortAscending());
}

void VqSorter::wide(const double* keys, index_t n, WideKey* out) const {
  check_count(n);
  for (index_t i = 0; i < n; ++i) out[i] = WideKey{std::uint64_t(i), radix_ordered_bits(keys[i])};
  if (!vectorised())
    return std::sort(out, out + n,
                     [](const WideKey& a, const WideKey& b) { return a.bits < b.bits; });
  (*sorter_)(reinterpret_cast<hwy::K64V64*>(out), std::size_t(n), hwy::SortAscending());
}

}  // namespace nwgf
