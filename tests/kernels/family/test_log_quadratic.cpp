// The log-quadratic interaction kernel W(z) = |z|^2/2 - ln|z| (kernels/family/log_quadratic.hpp) through
// pair_energy and pair_gradient (kernels/pairwise.hpp), on every backend present
// (family_checks.hpp: the CPU, and CUDA or the emulated device): the pair functor against long
// double; the sums against a naive long-double loop in double and float on every CPU layout
// (d = 1, 2, 3, 5, 20) and on the CUDA register (small d) and chunked (d = 784) kernels, with and
// without weights, self sums included; the gradient against central differences; the self sums
// (the i == j pairs left out) against the ordered sums through a copy; scale and accumulate; float
// against double; bitwise reproducibility. The family has no parameter (p is ignored).
// tests/CMakeLists.txt runs this file once per SIMD target.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "family_checks.hpp"
#include "nwgf/kernels/family/log_quadratic.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {
namespace {

using namespace family_test;

// W = s/2 - ln(s)/2 for s > 0 in long double; pairs with z = 0 are left out (value and
// gradient 0, the library's coincident rule), both coincident rules are 0.
struct LogQuadraticReference {
  LD value(LD s) const { return s > 0 ? s / 2 - std::log(s) / 2 : 0; }
  LD grad_factor(LD s) const { return s > 0 ? 1 - 1 / s : 0; }  // 2 W'(s)
  LD coincident_rate(LD) const { return 0; }
  LD coincident_grad_factor(LD) const { return 0; }
};

struct LogQuadratic {
  static constexpr const char* name = "LogQuadratic";
  static constexpr bool has_directional = false;
  static LogQuadraticReference reference(double) { return {}; }
  template <class T>
  static void energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                     const T* b, double p, double* out, PairwiseWorkspace* ws) {
    pair_energy<T>(ctx, PairFamily::log_quadratic, p, x, a, y, b, out, ws);
  }
  template <class T>
  static void gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                       const T* b, double p, T scale, PointsView<T> grad, bool accumulate,
                       PairwiseWorkspace* ws) {
    pair_gradient<T>(ctx, PairFamily::log_quadratic, p, x, a, y, b, scale, grad, accumulate, ws);
  }
};

}  // namespace

TEST_CASE("LogQuadratic pair functor: value and gradient factor against long double") {
  const auto kd = LogQuadraticPair<double>::make(1.0);
  const auto kf = LogQuadraticPair<float>::make(1.0);
  for (double s : {1e-30, 1e-6, 0.3, 1.0, 2.0, 10.0}) {
    const LD want = LD(s) / 2 - std::log(LD(s)) / 2, mag = LD(s) / 2 + std::fabs(std::log(LD(s))) / 2;
    INFO("s=" << s);
    CHECK(double(std::fabs(kd.value(s) - want)) <= 4.5e-16 * double(mag));
    CHECK(double(std::fabs(kd.grad_factor(s) - (1 - 1 / LD(s)))) <= 4.5e-16 * double(1 + 1 / LD(s)));
    const LD sf = LD(float(s)), want_f = sf / 2 - std::log(sf) / 2;
    CHECK(double(std::fabs(LD(kf.value(float(s))) - want_f)) <=
          2.4e-7 * double(sf / 2 + std::fabs(std::log(sf)) / 2));
  }
  // The coincident rule: z = 0 pairs are left out.
  CHECK(kd.value(0.0) == 0.0);
  CHECK(kd.grad_factor(0.0) == 0.0);
  CHECK(kf.value(0.0f) == 0.0f);
  CHECK(kf.grad_factor(0.0f) == 0.0f);
  CHECK(kd.grad_factor(1.0) == 0.0);  // |z| = 1: the attraction and repulsion balance
  CHECK(kd.coincident_rate(2.0) == 0.0);
  CHECK(kd.coincident_grad_factor(2.0) == 0.0);
}

TEST_CASE("LogQuadratic sums match a naive long-double loop on every layout") {
  // One coincident pair (left out by every rule: W(0) and f(0) are its contributions). float
  // gradients: 1e-3, the factor 1 - 1/|z|^2 amplifies the rounding of z near close pairs.
  for (index_t d : {1, 2, 3, 5, 20}) {
    for (bool weights : {false, true}) {
      const Problem pb = make_problem(70, 53, d, unsigned(d * 7 + 1), 1);
      for (bool self : {false, true}) {
        const Reference want = reference_sums(LogQuadratic::reference(1.0), pb, weights, self);
        check_sums<LogQuadratic, double>(pb, want, 1.0, weights, self, {1e-12, 0, 1e-12},
                                {1e-11, 0, 1e-10});
        check_sums<LogQuadratic, float>(pb, want, 1.0, weights, self, {1e-4, 0, 1e-3}, {2e-4, 0, 2e-3});
      }
    }
  }
}

TEST_CASE("LogQuadratic sums on the CUDA kernels' shapes (register and chunked)") {
  struct Shape {
    index_t n, m, d;
  };
  const Shape shapes[] = {{300, 257, 2}, {45, 70, 5}, {20, 33, 784}};
  for (const Shape& s : shapes) {
    for (bool weights : {false, true}) {
      const Problem pb = make_problem(s.n, s.m, s.d, unsigned(s.n * 17 + s.d), 1);
      const Reference want = reference_sums(LogQuadratic::reference(1.0), pb, weights, false);
      check_sums<LogQuadratic, double>(pb, want, 1.0, weights, false, {1e-12, 0, 1e-12},
                              {1e-11, 0, 1e-10});
      if (s.d != 5) {
        check_sums<LogQuadratic, float>(pb, want, 1.0, weights, false, {1e-4, 0, 1e-4}, {2e-4, 0, 2e-3});
      }
    }
  }
}

TEST_CASE("LogQuadratic gradient agrees with central finite differences (double)") {
  for (index_t d : {1, 2, 5, 20}) check_gradients_fd<LogQuadratic>(9, 11, d, 1.0, 3u, 1.0);
}

TEST_CASE("LogQuadratic self sums (the i == j pairs left out) equal the ordered sums") {
  for (index_t d : {1, 2, 3}) {
    for (bool weights : {false, true}) {
      // 700: several self-pass blocks and tiles.
      check_self_equals_copy<LogQuadratic, double>(700, d, 1.0, weights, false, 1e-11, 1e-8);
    }
  }
}

TEST_CASE("LogQuadratic scale and accumulate") { check_scale_accumulate<LogQuadratic>(31, 2, 1.0, 7u); }

TEST_CASE("LogQuadratic float agrees with double") {
  const Problem pb = make_problem(300, 257, 2, 3u);
  check_float_agrees_double<LogQuadratic>(pb, 1.0, true, false, 1e-4, 0, 1e-4);
}

TEST_CASE("LogQuadratic sums are bitwise reproducible (CPU: for a fixed thread count)") {
  check_reproducible<LogQuadratic, float>(make_problem(1000, 700, 2, 8u, 2), 1.0, true);
}

TEST_CASE("LogQuadratic coincident rule: the i == j pairs of a self sum are left out") {
  // Two particles at distance 1 in 1-D: the self sum counts the ordered pairs (0,1) and (1,0),
  // each W(1) = 1/2, and no diagonal term (which would be +infinity); the gradient is 0 there
  // (|z| = 1 balances). At distance 2: W = 2 - ln 2 per pair, and the x-side gradient of x_0
  // (y held fixed, kernels/pairwise.hpp) is (1 - 1/4) (-2).
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 1);
    INFO("on " << be.name);
    for (double dist : {1.0, 2.0}) {
      const Buffer<double> x = stage<double>(ctx, {0.0, dist});
      Buffer<double> out(ctx, 1), g(ctx, 2);
      const ConstPointsView<double> xv = points(x, 2, 1);
      pair_energy<double>(ctx, PairFamily::log_quadratic, 1.0, xv, nullptr, xv, nullptr, out.data());
      const double w = dist * dist / 2 - std::log(dist);
      CHECK(fetch(ctx, out)[0] == doctest::Approx(2 * w).epsilon(1e-14));
      pair_gradient<double>(ctx, PairFamily::log_quadratic, 1.0, xv, nullptr, xv, nullptr, 1.0,
                            points(g, 2, 1), false);
      const std::vector<double> gv = fetch(ctx, g);
      const double g0 = (1 - 1 / (dist * dist)) * (-dist);
      CHECK(gv[0] == doctest::Approx(g0).epsilon(1e-14));
      CHECK(gv[1] == doctest::Approx(-g0).epsilon(1e-14));
      CHECK(std::isfinite(gv[0]));
    }
  }
}

}  // namespace nwgf
