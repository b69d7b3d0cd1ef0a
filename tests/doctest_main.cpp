// doctest's main for the unit tests. With NWGF_SIMD set (tests/CMakeLists.txt runs the kernel
// tests once per SIMD target), a target this CPU lacks skips the test (exit 77) with the reason.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "nwgf/engine/simd.hpp"

int main(int argc, char** argv) {
  if (const char* want = std::getenv("NWGF_SIMD"); want && *want && std::string(want) != "auto") {
    try {
      nwgf::simd_target();
    } catch (const std::exception& e) {
      std::printf("skipped: %s\n", e.what());
      return 77;
    }
    std::printf("SIMD target: %s\n", want);
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
