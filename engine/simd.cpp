// Target selection over Highway's dynamic dispatch (engine/simd.hpp): restricting the targets
// Highway may choose (hwy::SetSupportedTargetsForTest) to the wanted one and the ones it cannot
// use anyway makes every HWY_DYNAMIC_DISPATCH call pick it.
#include "nwgf/engine/simd.hpp"

#include <hwy/highway.h>
#include <hwy/targets.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>

#include "nwgf/engine/error.hpp"

namespace nwgf {
namespace {

struct Target {
  std::int64_t bit;
  const char* name;
  int bytes;
};

// The targets of the pair rows (kernels/pairwise_rows_targets.hpp: HWY_TARGETS less the
// disabled ones), best first.
constexpr Target kTargets[] = {
    {HWY_AVX3_DL, "avx512_dl", 64}, {HWY_AVX3, "avx512", 64}, {HWY_AVX2, "avx2", 32},
    {HWY_SSE4, "sse4", 16},         {HWY_NEON, "neon", 16},   {HWY_EMU128, "emu128", 16},
    {HWY_SCALAR, "scalar", 8},
};

bool compiled(std::int64_t bit) { return (HWY_TARGETS & bit) != 0; }

// What the CPU supports of what was compiled, before any restriction of ours.
std::int64_t usable_mask() {
  static const std::int64_t mask = [] {
    hwy::SetSupportedTargetsForTest(0);
    std::int64_t m = 0;
    for (const Target& t : kTargets) {
      if (compiled(t.bit) && (hwy::SupportedTargets() & t.bit)) m |= t.bit;
    }
    return m;
  }();
  return mask;
}

std::mutex g_mutex;
const Target* g_current = nullptr;

const Target& best() {
  for (const Target& t : kTargets) {
    if (usable_mask() & t.bit) return t;
  }
  throw_runtime("simd: no usable SIMD target");
}

void select_locked(const std::string& name, const std::string& what) {
  if (name.empty() || name == "auto") {
    hwy::SetSupportedTargetsForTest(0);
    g_current = &best();
    return;
  }
  std::string list;
  for (const Target& t : kTargets) {
    if (!(usable_mask() & t.bit)) continue;
    list += (list.empty() ? "" : ", ") + std::string(t.name);
    if (name != t.name) continue;
    // The wanted target plus the fallback, which Highway requires to stay supported.
    hwy::SetSupportedTargetsForTest(t.bit | HWY_STATIC_TARGET);
    g_current = &t;
    return;
  }
  throw_bad_input(what + ": '" + name + "' is not a SIMD target of this build and CPU (auto, " +
                  list + ")");
}

const Target& current() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_current) {
    const char* env = std::getenv("NWGF_SIMD");
    select_locked(env ? env : "auto", "NWGF_SIMD");
  }
  return *g_current;
}

}  // namespace

std::string simd_target() { return current().name; }

int simd_width_bytes() { return current().bytes; }

std::vector<std::string> simd_targets() {
  std::vector<std::string> out;
  for (const Target& t : kTargets) {
    if (usable_mask() & t.bit) out.emplace_back(t.name);
  }
  return out;
}

void set_simd_target(const std::string& name, const std::string& what) {
  std::lock_guard<std::mutex> lock(g_mutex);
  select_locked(name, what);
}

}  // namespace nwgf
