// cuBLAS is loaded when a CUDA context is made, not at start-up (engine/cublas_lib.cu): a
// process of a CUDA build that never uses the CUDA backend (every `nwgf` run on the CPU, every
// `nwgf --version`) no longer maps and relocates libcublas and libcublasLt (~70 ms of CPU each).
// In a CPU-only build the first check holds trivially; CI's Release build has the CUDA backend.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "nwgf/engine/backend.hpp"

namespace {
bool cublas_mapped() {
  std::ifstream maps("/proc/self/maps");
  REQUIRE(maps.good());
  std::stringstream all;
  all << maps.rdbuf();
  return all.str().find("libcublas") != std::string::npos;
}
}  // namespace

TEST_CASE("cuBLAS is not loaded before a CUDA context exists") {
  CHECK_FALSE(cublas_mapped());
  // Asking whether a device is there does not load it either.
  const nwgf::CudaStatus s = nwgf::cuda_status();
  CHECK_FALSE(cublas_mapped());
  if (!s.usable) {
    MESSAGE("no usable CUDA device (" << (s.built ? s.reason : std::string("CPU-only build"))
                                      << "): the loading on first use is not exercised");
    return;
  }
#if !defined(NWGF_CUDA_EMULATE)  // the emulator's cuBLAS is a part of the program
  nwgf::Context ctx(nwgf::Device::cuda);
  CHECK(cublas_mapped());
#endif
}
