// The Riesz kernel family |x - y|^r (kernels/family/riesz.hpp) through riesz_energy,
// riesz_gradient, riesz_directional and mmd2 (kernels/pairwise.hpp), on every backend present
// (family_checks.hpp: the CPU, and CUDA or the emulated device): energy, gradient and directional
// sums against a naive long-double loop in double and float, small d (CPU tiles, CUDA register
// kernel) and d = 784 (row-major rows, the chunked CUDA kernel), with and without weights, self
// sums included; the coincident-pair rules (counted; |u| and u/|u| for r = 1, 0 for r > 1, left
// out for r < 1); gradients against central differences; scale and accumulate; float against
// double; bitwise reproducibility; the self sums over unordered pairs against the ordered sums;
// mmd2 as the CONTRACT V-statistic; the sums over mixed scales. On the CPU only: the per-pair
// accuracy of the pair rows (kernels/pairwise_rows-inl.h, 4 ulp in float, 1e-14 in double) over the
// whole range of distances. tests/CMakeLists.txt runs this file once per SIMD target.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "family_checks.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {
namespace {

using namespace family_test;

// k(s) = s^{r/2} in long double, f = 2 k'(s) = r s^{r/2} / s (s > 0), with the coincident rules
// of kernels/family/riesz.hpp: |u| and u/|u| for r = 1, 0 otherwise (for r < 1 the rate is
// +infinity; the sums leave it out and count).
struct RieszReference {
  LD r;
  LD value(LD s) const { return std::pow(s, r / 2); }
  LD grad_factor(LD s) const { return r * value(s) / s; }
  LD coincident_rate(LD uu) const { return r == 1 ? std::sqrt(uu) : LD(0); }
  LD coincident_grad_factor(LD uu) const { return r == 1 && uu > 0 ? 1 / std::sqrt(uu) : LD(0); }
};

struct Riesz {
  static constexpr const char* name = "Riesz";
  static constexpr bool has_directional = true;
  static RieszReference reference(double r) { return {LD(r)}; }
  template <class T>
  static void energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                     const T* b, double r, double* out, PairwiseWorkspace* ws) {
    riesz_energy<T>(ctx, x, a, y, b, r, out, ws);
  }
  template <class T>
  static void gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                       const T* b, double r, T scale, PointsView<T> grad, bool accumulate,
                       PairwiseWorkspace* ws) {
    riesz_gradient<T>(ctx, x, a, y, b, r, scale, grad, accumulate, ws);
  }
  template <class T>
  static void directional(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> v,
                          const T* a, ConstPointsView<T> y, ConstPointsView<T> w, const T* b,
                          double r, double* out, PointsView<T> grad_v, PointsView<T> grad_w,
                          T scale, bool accumulate, index_t* coincident, PairwiseWorkspace* ws) {
    riesz_directional<T>(ctx, x, v, a, y, w, b, r, out, grad_v, grad_w, scale, accumulate,
                         coincident, ws);
  }
};

struct Shape {
  index_t n, m, d;
};

}  // namespace

TEST_CASE("Riesz sums match a naive long-double loop (double and float)") {
  // N, M not multiples of the CPU tile or row block; d = 1, 2, 3 (specialised), 5 (general), 784
  // (row-major); r = 1, 1/2, 3/2 (reciprocal square roots) and 0.3, 1.2 (exp/log). On CUDA the
  // same shapes span its kernels: two blocks of 128 rows and eight shared tiles of Y plus a
  // ragged one (130 x 1030, register kernel), ragged tiles of 16 points (d = 5) and a ragged
  // chunk of 32 coordinates (d = 784, chunked kernel). Float: the sums between distinct sets.
  // Emulated: 200 columns of Y (a shared tile and a ragged one), r = 0.3 left out; below, the
  // self sums and float with weights only.
  const index_t m2 = kEmulated ? 200 : 1030;
  const std::vector<double> exponents =
      kEmulated ? std::vector<double>{1.0, 0.5, 1.5, 1.2} : std::vector<double>{1.0, 0.5, 1.5, 0.3, 1.2};
  const Shape shapes[] = {{70, 53, 1}, {130, m2, 2}, {65, 129, 3}, {33, 41, 5}, {9, 70, 784}};
  for (const Shape& s : shapes) {
    // CUDA against the CPU: the d = 784 sums (chunked kernel) get ten times the tolerance.
    const double agree = s.d > 16 ? 1e-11 : 1e-12;
    for (double r : exponents) {
      for (bool weights : {false, true}) {
        const Problem pb = make_problem(s.n, s.m, s.d, 11u + unsigned(s.d), 3);
        for (bool self : {false, true}) {
          if (kEmulated && self && !weights) continue;
          const Reference want = reference_sums(Riesz::reference(r), pb, weights, self);
          check_sums<Riesz, double>(pb, want, r, weights, self, {1e-11, 1e-11, 1e-11},
                                    {agree, 10 * agree, 10 * agree});
          if (!self && (weights || !kEmulated)) {
            check_sums<Riesz, float>(pb, want, r, weights, self, {1e-5, 1e-4, 1e-5},
                                     {2e-5, 2e-4, 2e-4});
          }
        }
      }
    }
  }
}

TEST_CASE("Riesz coincident pairs: counted, |u| for r = 1, 0 for r > 1") {
  const Problem pb = make_problem(40, 30, 2, 5u, 4);
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 2);
    INFO("on " << be.name);
    for (double r : {1.0, 1.5, 0.7}) {
      const Sums got = run_sums<Riesz, double>(ctx, pb, r, true, false);
      const Reference ref = reference_sums(Riesz::reference(r), pb, true, false);
      CHECK(ref.coincident == 4);
      CHECK(got.coincident == 4);
      if (r >= 1.0) CHECK(got.rate == doctest::Approx(double(ref.rate)).epsilon(1e-12));
    }
    // Self sum: the diagonal is N coincident pairs, and u = 0 there contributes nothing.
    const Sums self = run_sums<Riesz, double>(ctx, pb, 1.0, false, true);
    CHECK(self.coincident >= 40);
  }
}

TEST_CASE("Riesz r = 1 directional gradient at a coincident pair is u/|u|") {
  // One pair, x = y: D(v, w) = |v - w| exactly, so dD/dv = (v-w)/|v-w|, dD/dw = -(v-w)/|v-w|.
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 1);
    INFO("on " << be.name);
    const Buffer<double> x = stage<double>(ctx, {0.3, -0.2}), v = stage<double>(ctx, {0.5, 1.0}),
                         w = stage<double>(ctx, {-0.5, 0.25});
    Buffer<double> gvb(ctx, 2), gwb(ctx, 2), out(ctx, 1);
    index_t coinc = 0;
    riesz_directional<double>(ctx, points(x, 1, 2), points(v, 1, 2), nullptr, points(x, 1, 2),
                              points(w, 1, 2), nullptr, 1.0, out.data(), points(gvb, 1, 2),
                              points(gwb, 1, 2), 1.0, false, &coinc);
    const double rate = fetch(ctx, out)[0];
    const std::vector<double> gv = fetch(ctx, gvb), gw = fetch(ctx, gwb);
    const double nu = std::hypot(1.0, 0.75);
    CHECK(coinc == 1);
    CHECK(rate == doctest::Approx(nu).epsilon(1e-15));
    CHECK(gv[0] == doctest::Approx(1.0 / nu));
    CHECK(gv[1] == doctest::Approx(0.75 / nu));
    CHECK(gw[0] == doctest::Approx(-1.0 / nu));
    CHECK(gw[1] == doctest::Approx(-0.75 / nu));
  }
}

TEST_CASE("Riesz gradients agree with central finite differences") {
  for (index_t d : {1, 2, 7}) {
    for (double r : {1.0, 0.6, 1.7}) check_gradients_fd<Riesz>(17, 23, d, r, 99u + unsigned(d));
  }
}

TEST_CASE("Riesz scale and accumulate; grad_v and grad_w may alias when accumulating") {
  check_scale_accumulate<Riesz>(31, 2, 1.3, 7u);
}

TEST_CASE("Riesz float agrees with double") {
  const Problem pb = make_problem(300, 257, 2, 3u);
  for (double r : {1.0, 0.5, 1.5}) check_float_agrees_double<Riesz>(pb, r, true, false, 2e-6, 1e-4, 1e-5);
  check_float_agrees_double<Riesz>(make_problem(40, 37, 784, 4u), 1.0, false, true, 1e-5, 0, 0);
}

TEST_CASE("Riesz sums are bitwise reproducible (CPU: for a fixed thread count)") {
  check_reproducible<Riesz, float>(make_problem(1000, 700, 2, 8u, 2), 1.0, true);
}

TEST_CASE("Riesz self sums over unordered pairs equal the ordered sums") {
  // The CPU's self sums (Y = X, b = a, d <= 3) run over unordered pairs (kernels/pairwise.cpp);
  // the sizes span several of its row blocks and tiles (emulated: three CUDA blocks), and the
  // last row block's rows are not a multiple of the rows the symmetric gradient takes together
  // (2 or 4: kernels/pairwise_rows-inl.h, rows_sym_gradient).
  const index_t n64 = kEmulated ? 301 : 2603, n32 = kEmulated ? 301 : 1101;
  for (index_t d : {1, 2, 3}) {
    for (double r : {1.0, 0.5, 1.3}) {
      for (bool weights : {false, true}) {
        check_self_equals_copy<Riesz, double>(n64, d, r, weights, true, 1e-12);
        check_self_equals_copy<Riesz, float>(n32, d, r, weights, true, 2e-5);
      }
    }
  }
}

namespace {

// The long-double V-statistic of kernels/pairwise.hpp: mean |x - y|^r - 1/2 mean |x - x'|^r -
// 1/2 mean |y - y'|^r.
double mmd2_reference(const Problem& pb, double r) {
  Problem ys = pb;
  ys.n = pb.m;
  ys.x = pb.y;
  ys.v = pb.w;
  ys.a = pb.b;
  const RieszReference k = Riesz::reference(r);
  const LD n = LD(pb.n), m = LD(pb.m);
  const LD xy = reference_sums(k, pb, false, false, true).energy;
  const LD xx = reference_sums(k, pb, false, true, true).energy;
  const LD yy = reference_sums(k, ys, false, true, true).energy;
  return double(xy / (n * m) - xx / (2 * n * n) - yy / (2 * m * m));
}

}  // namespace

TEST_CASE("mmd2 is the CONTRACT V-statistic and bad input is rejected") {
  const Problem pb = make_problem(25, 19, 3, 21u);
  // A second pair of samples: standard normals against normals shifted by 1/2.
  Problem normals = make_problem(200, 150, 3, 5u);
  std::mt19937_64 gen(5);
  std::normal_distribution<double> g(0, 1);
  for (auto& e : normals.x) e = g(gen);
  for (auto& e : normals.y) e = g(gen) + 0.5;
  const double want = mmd2_reference(pb, 1.2), want_normals = mmd2_reference(normals, 1.3);
  double cpu_normals = 0;
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 2);
    INFO("on " << be.name);
    const Buffer<double> x = stage<double>(ctx, pb.x), y = stage<double>(ctx, pb.y);
    CHECK(mmd2<double>(ctx, points(x, 25, 3), points(y, 19, 3), 1.2) ==
          doctest::Approx(want).epsilon(1e-12));
    CHECK(mmd2<double>(ctx, points(x, 25, 3), points(x, 25, 3), 1.2) == doctest::Approx(0.0));
    CHECK_THROWS_AS(mmd2<double>(ctx, points(x, 25, 3), points(y, 19, 2), 1.0), Error);
    CHECK_THROWS_AS(mmd2<double>(ctx, points(x, 25, 3), points(y, 19, 3), 2.0), Error);
    CHECK_THROWS_AS(mmd2<double>(ctx, points(x, 25, 3), points(y, 19, 3), 0.0), Error);
    const Buffer<double> nx = stage<double>(ctx, normals.x), ny = stage<double>(ctx, normals.y);
    const double got = mmd2<double>(ctx, points(nx, 200, 3), points(ny, 150, 3), 1.3);
    CHECK(got == doctest::Approx(want_normals).epsilon(1e-12));
    if (be.cuda()) {
      CHECK(got == doctest::Approx(cpu_normals).epsilon(1e-12));
    } else {
      cpu_normals = got;
    }
  }
}

TEST_CASE("Riesz sums over mixed scales and coincident points") {
  // 300 x 277 points whose scales span 1e-6 .. 1e6, some coinciding: the energy against long
  // double, within 1e-14 on the CPU; the device takes s^{r/2} as exp2((r/2) log2 s), whose
  // error grows with |log2 s| (up to 40 here): 1e-13 on CUDA.
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> u(-1, 1), ex(-6, 6);
  Problem pb;
  pb.n = 300;
  pb.m = 277;
  pb.d = 2;
  const index_t d = pb.d;
  pb.x.resize(std::size_t(pb.n * d));
  pb.y.resize(std::size_t(pb.m * d));
  for (index_t i = 0; i < pb.n; ++i) {
    const double sc = std::pow(10.0, ex(gen));
    for (index_t k = 0; k < d; ++k) pb.x[std::size_t(i * d + k)] = sc * u(gen);
  }
  for (index_t j = 0; j < pb.m; ++j) {
    const double sc = std::pow(10.0, ex(gen));
    for (index_t k = 0; k < d; ++k) pb.y[std::size_t(j * d + k)] = sc * u(gen);
  }
  for (index_t c = 0; c < 20; ++c) {
    for (index_t k = 0; k < d; ++k) {
      pb.x[std::size_t((11 * c) * d + k)] = pb.y[std::size_t((7 * c) * d + k)];
    }
  }
  pb.v = pb.x;  // velocities: not used (the energy alone)
  pb.w = pb.y;
  const double exponents[] = {1.0, 0.5, 1.5, 0.3, 1.2, 1.9, 0.05};
  std::vector<LD> refs;
  for (double r : exponents) refs.push_back(reference_sums(Riesz::reference(r), pb, false, false, true).energy);
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 2);
    const Buffer<double> x = stage<double>(ctx, pb.x), y = stage<double>(ctx, pb.y);
    Buffer<double> out(ctx, 1);
    for (std::size_t e = 0; e < std::size(exponents); ++e) {
      const double r = exponents[e];
      const LD ref = refs[e];
      riesz_energy<double>(ctx, points(x, pb.n, d), nullptr, points(y, pb.m, d), nullptr, r,
                           out.data());
      const double got = fetch(ctx, out)[0];
      INFO("on " << be.name << ", SIMD " << simd_target() << ", r = " << r);
      CHECK(double(fabsl((LD(got) - ref) / ref)) <= (be.cuda() ? 1e-13 : 1e-14));
    }
  }
}

// ---- the CPU pair rows' per-pair accuracy -------------------------------------------------------
// One row x = 0 against m = 64 copies of one point y = (delta, 0, ...) with weights
// (1, 0, ..., 0): every vector of pairs takes the path it would take unweighted (the estimate
// where all |z|^2 are normal), and the sum is the first term exactly (the others are +0), so the
// result's error is the per-pair error. Bounds: 4 ulp (4 * 2^-23 relative) in float, 1e-14 in
// double. The CPU backend only: the bound is the SIMD rows' (the device's powers are
// exp2(p log2 s) in T, checked through the sums above).
namespace {

template <class T>
double pair_bound() {
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
  const Context ctx(Device::cpu, 1);
  double worst_e = 0, worst_g = 0, at_e = 0, at_g = 0;
  for (double e = lo_exp; e <= hi_exp; e += 0.37) {
    const T delta = T(std::pow(10.0, e));
    if (!(delta > T(0)) || !(LD(delta) * LD(delta) >= LD(std::numeric_limits<T>::denorm_min()))) {
      continue;
    }
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
  CHECK(worst_e <= pair_bound<T>());
  CHECK(worst_g <= pair_bound<T>());
}

const double range_exponents[] = {1.0, 0.5, 1.5, 0.3, 1.2, 1.9, 0.05};

}  // namespace

TEST_CASE("Riesz per-pair accuracy over the whole range of distances (CPU, float)") {
  // |z| from 1e-21 (|z|^2 subnormal below 1.1e-19) to 1e18 (|z|^2 near FLT_MAX).
  for (double r : range_exponents) {
    for (index_t d : {1, 2, 3, 5, 20}) check_range<float>(-21.5, 18.5, r, d);
  }
}

TEST_CASE("Riesz per-pair accuracy over the whole range of distances (CPU, double)") {
  // |z| from 1e-160 (|z|^2 subnormal below 1.5e-154) to 1e150.
  for (double r : range_exponents) {
    for (index_t d : {1, 2, 3, 5, 20}) check_range<double>(-160.0, 150.0, r, d);
  }
}

}  // namespace nwgf
