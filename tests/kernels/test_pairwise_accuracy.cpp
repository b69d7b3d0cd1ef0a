// Accuracy of the CPU pair rows (kernels/pairwise_rows.cpp) against long double over the whole
// range of distances: tiny (subnormal |z|^2), huge, coincident, for r = 1, the r = 1/2 and 3/2
// paths and the general exp/log path. tests/CMakeLists.txt runs this once per SIMD target.
//
// One row x = 0 against m = 64 copies of one point y = (delta, 0, ...) with weights (1, 0, ..., 0):
// every vector of pairs takes the path it would take unweighted (the estimate where all |z|^2 are
// normal), and the sum is the first term exactly (the others are +0), so the result's error is
// the per-pair error. Bounds: 4 ulp (4 * 2^-23 relative) in float, 1e-14 in double.
#include <doctest/doctest.h>

#include <cfloat>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {
namespace {

using LD = long double;

template <class T>
double bound() {
  return sizeof(T) == 4 ? 4.0 * std::ldexp(1.0, -23) : 1e-14;
}

struct PairSums {
  double energy, grad0;
};

template <class T>
PairSums one_pair(const Context& ctx, T delta, index_t d, double r) {
  const index_t m = 64;
  std::vector<T> x(std::size_t(d), T(0)), y(std::size_t(m * d), T(0)), b(std::size_t(m), T(0));
  for (index_t j = 0; j < m; ++j) y[std::size_t(j * d)] = delta;
  b[0] = T(1);
  PairSums out{};
  const ConstPointsView<T> xv(x.data(), 1, d), yv(y.data(), m, d);
  riesz_energy<T>(ctx, xv, nullptr, yv, b.data(), r, &out.energy);
  std::vector<T> g(static_cast<std::size_t>(d), T(0));
  riesz_gradient<T>(ctx, xv, nullptr, yv, b.data(), r, T(1), PointsView<T>(g.data(), 1, d), false);
  out.grad0 = double(g[0]);
  return out;
}

template <class T>
void check_range(double lo_exp, double hi_exp, double r, index_t d) {
  Context ctx(Device::cpu, 1);
  double worst_e = 0, worst_g = 0, at_e = 0, at_g = 0;
  for (double e = lo_exp; e <= hi_exp; e += 0.37) {
    const T delta = T(std::pow(10.0, e));
    if (!(delta > T(0)) || !(LD(delta) * LD(delta) >= LD(std::numeric_limits<T>::denorm_min()))) continue;
    // The reference from the same rounded s = delta^2 the kernel sees (z = -delta exactly).
    const T s = delta * delta;
    if (!(s > T(0)) || !std::isfinite(s)) continue;
    const LD ls = LD(s);
    const LD value = powl(ls, LD(r) / 2);
    const LD grad = -LD(r) * powl(ls, (LD(r) - 2) / 2) * LD(delta);
    const PairSums got = one_pair<T>(ctx, delta, d, r);
    // Results below the least normal number of T carry fewer bits: their error is judged
    // against that number.
    const LD tiny = LD(std::numeric_limits<T>::min());
    const double re = double(fabsl(LD(got.energy) - value) / std::max(fabsl(value), tiny));
    const double rg = double(fabsl(LD(got.grad0) - grad) / std::max(fabsl(grad), tiny));
    if (re > worst_e) worst_e = re, at_e = double(delta);
    if (rg > worst_g) worst_g = rg, at_g = double(delta);
  }
  INFO("SIMD " << simd_target() << ", " << (sizeof(T) == 4 ? "f32" : "f64") << ", d = " << d
               << ", r = " << r << ": energy error " << worst_e << " at |z| = " << at_e
               << ", gradient error " << worst_g << " at |z| = " << at_g);
  CHECK(worst_e <= bound<T>());
  CHECK(worst_g <= bound<T>());
}

const double exponents[] = {1.0, 0.5, 1.5, 0.3, 1.2, 1.9, 0.05};

}  // namespace

TEST_CASE("per-pair accuracy over the whole range of distances (float)") {
  // |z| from 1e-21 (|z|^2 subnormal below 1.1e-19) to 1e18 (|z|^2 near FLT_MAX).
  for (double r : exponents) {
    for (index_t d : {1, 2, 3, 5, 20}) check_range<float>(-21.5, 18.5, r, d);
  }
}

TEST_CASE("per-pair accuracy over the whole range of distances (double)") {
  // |z| from 1e-160 (|z|^2 subnormal below 1.5e-154) to 1e150.
  for (double r : exponents) {
    for (index_t d : {1, 2, 3, 5, 20}) check_range<double>(-160.0, 150.0, r, d);
  }
}

TEST_CASE("pair sums over mixed scales and coincident points") {
  // 300 x 277 points whose scales span 1e-6 .. 1e6, some coinciding: the sums against long double.
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> u(-1, 1), ex(-6, 6);
  const index_t n = 300, m = 277, d = 2;
  std::vector<double> x(std::size_t(n * d)), y(std::size_t(m * d));
  for (index_t i = 0; i < n; ++i) {
    const double sc = std::pow(10.0, ex(gen));
    for (index_t k = 0; k < d; ++k) x[std::size_t(i * d + k)] = sc * u(gen);
  }
  for (index_t j = 0; j < m; ++j) {
    const double sc = std::pow(10.0, ex(gen));
    for (index_t k = 0; k < d; ++k) y[std::size_t(j * d + k)] = sc * u(gen);
  }
  for (index_t c = 0; c < 20; ++c) {
    for (index_t k = 0; k < d; ++k) x[std::size_t((11 * c) * d + k)] = y[std::size_t((7 * c) * d + k)];
  }
  Context ctx(Device::cpu, 2);
  for (double r : exponents) {
    LD ref = 0;
    for (index_t i = 0; i < n; ++i) {
      for (index_t j = 0; j < m; ++j) {
        LD s = 0;
        for (index_t k = 0; k < d; ++k) {
          const LD z = LD(x[std::size_t(i * d + k)]) - LD(y[std::size_t(j * d + k)]);
          s += z * z;
        }
        if (s > 0) ref += powl(s, LD(r) / 2);
      }
    }
    double got = 0;
    riesz_energy<double>(ctx, ConstPointsView<double>(x.data(), n, d), nullptr,
                         ConstPointsView<double>(y.data(), m, d), nullptr, r, &got);
    INFO("SIMD " << simd_target() << ", r = " << r);
    CHECK(double(fabsl((LD(got) - ref) / ref)) <= 1e-14);
  }
}

TEST_CASE("every SIMD target this CPU runs is listed, and NWGF_SIMD names the one in use") {
  const std::vector<std::string> all = simd_targets();
  REQUIRE(!all.empty());
  CHECK(all.back() == "scalar");
  bool found = false;
  for (const auto& t : all) found = found || t == simd_target();
  CHECK(found);
  CHECK_THROWS_AS(set_simd_target("no-such-target"), Error);
}

}  // namespace nwgf
