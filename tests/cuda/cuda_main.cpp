// main() for tests that need a GPU: without a usable CUDA device, print why and exit 77, which
// CTest reports as "skipped" (SKIP_RETURN_CODE).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "nwgf/engine/backend.hpp"

int main(int argc, char** argv) {
  const nwgf::CudaStatus s = nwgf::cuda_status();
  if (!s.usable) {
    std::printf("SKIP: no usable CUDA device: %s\n", s.reason.c_str());
    return 77;
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
