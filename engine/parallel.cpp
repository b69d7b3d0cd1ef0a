#include "nwgf/engine/parallel.hpp"

#include <strings.h>

#include <cstdlib>

namespace nwgf {
namespace {

// Whether idle OpenMP threads sleep (OMP_WAIT_POLICY=passive) rather than spin. libgomp reads
// the variable once at start-up, case-insensitively; so do we.
bool passive_waits() {
  const char* env = std::getenv("OMP_WAIT_POLICY");
  return env && strcasecmp(env, "passive") == 0;
}

}  // namespace

index_t parallel_grain() {
  static const index_t grain = passive_waits() ? index_t(1) << 17 : index_t(1) << 16;
  return grain;
}

}  // namespace nwgf
