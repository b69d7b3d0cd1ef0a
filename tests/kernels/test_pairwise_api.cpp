// What the pairwise front end (kernels/pairwise_api.cpp) does for every family alike, on every
// backend present: bad arguments (dimension mismatch, an empty dimension, a view on another
// device) are rejected with nwgf::Error; and the SIMD dispatch of the CPU pair rows lists every
// target this CPU runs, with NWGF_SIMD naming the one in use (tests/CMakeLists.txt runs this file
// once per SIMD target). The families' math: tests/kernels/family/.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "family/family_checks.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {

using namespace family_test;

TEST_CASE("every SIMD target this CPU runs is listed, and NWGF_SIMD names the one in use") {
  const std::vector<std::string> all = simd_targets();
  REQUIRE(!all.empty());
  CHECK(all.back() == "scalar");
  bool found = false;
  for (const auto& t : all) found = found || t == simd_target();
  CHECK(found);
  CHECK_THROWS_AS(set_simd_target("no-such-target"), Error);
}

TEST_CASE("pairwise entry points reject mismatched dimensions and bad views") {
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 1);
    INFO("on " << be.name);
    const Buffer<double> x = stage<double>(ctx, std::vector<double>(12, 0.5));
    Buffer<double> g(ctx, 12), out(ctx, 1);
    const ConstPointsView<double> x4(x.data(), 4, 3, 3, ctx.device()), y6(x.data(), 6, 2, 2, ctx.device());
    const ConstPointsView<double> empty_d(x.data(), 4, 0, 0, ctx.device());
    const PointsView<double> g4(g.data(), 4, 3, 3, ctx.device());
    CHECK_THROWS_AS(riesz_energy<double>(ctx, x4, nullptr, y6, nullptr, 1.0, out.data()), Error);
    CHECK_THROWS_AS(riesz_gradient<double>(ctx, x4, nullptr, y6, nullptr, 1.0, 1.0, g4, false), Error);
    CHECK_THROWS_AS(riesz_directional<double>(ctx, x4, x4, nullptr, y6, y6, nullptr, 1.0, out.data(),
                                              g4, {}, 1.0, false, nullptr),
                    Error);
    CHECK_THROWS_AS(gaussian_energy<double>(ctx, x4, nullptr, y6, nullptr, 1.0, out.data()), Error);
    CHECK_THROWS_AS(gaussian_gradient<double>(ctx, x4, nullptr, y6, nullptr, 1.0, 1.0, g4, false),
                    Error);
    CHECK_THROWS_AS(riesz_energy<double>(ctx, empty_d, nullptr, empty_d, nullptr, 1.0, out.data()),
                    Error);
    if (be.cuda()) {
      // Host points handed to the CUDA context.
      const std::vector<double> host(12, 0.5);
      const ConstPointsView<double> on_host(host.data(), 4, 3);
      CHECK_THROWS_AS(riesz_energy<double>(ctx, on_host, nullptr, x4, nullptr, 1.0, out.data()), Error);
    }
  }
}

}  // namespace nwgf
