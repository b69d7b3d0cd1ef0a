#include "nwgf/engine/parallel.hpp"

#include <cctype>
#include <cstdlib>
#include <string>

namespace nwgf {

bool passive_waits() {
  // libgomp reads the variable once at start-up, case-insensitively; so do we.
  static const bool passive = [] {
    const char* env = std::getenv("OMP_WAIT_POLICY");
    if (!env) return false;
    std::string v(env);
    for (char& c : v) c = char(std::tolower(static_cast<unsigned char>(c)));
    return v == "passive";
  }();
  return passive;
}

index_t parallel_grain() {
  static const index_t grain = passive_waits() ? index_t(1) << 17 : index_t(1) << 16;
  return grain;
}

}  // namespace nwgf
