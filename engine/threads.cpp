#include "nwgf/engine/threads.hpp"

#include <cblas.h>
#include <omp.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>

#include "nwgf/engine/error.hpp"

namespace nwgf {

int default_threads() {
  if (const char* env = std::getenv("NWGF_THREADS"); env && *env) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(env, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > 4096) {
      throw_bad_input(std::string("NWGF_THREADS: expected a thread count >= 1, got '") + env + "'");
    }
    return int(v);
  }
  const int hw = omp_get_num_procs();
  return hw > 0 ? hw : int(std::thread::hardware_concurrency());
}

void set_threads(int n) {
  if (n < 1) throw_bad_input("--threads: expected a thread count >= 1, got " + std::to_string(n));
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

}  // namespace nwgf
