// The attractive Gaussian interaction kernel W(z) = -exp(-|z|^2)/pi (kernels/family/gaussian_attraction.hpp) through
// pair_energy and pair_gradient (kernels/pairwise.hpp), on every backend present
// (family_checks.hpp: the CPU, and CUDA or the emulated device): the pair functor against long
// double; the sums against a naive long-double loop in double and float on every CPU layout
// (d = 1, 2, 3, 5, 20) and on the CUDA register (small d) and chunked (d = 784) kernels, with and
// without weights, self sums included; the gradient against central differences; the self sums
// (the diagonal W(0) = -1/pi included) against the ordered sums through a copy; scale and accumulate; float
// against double; bitwise reproducibility. The family has no parameter (p is ignored).
// tests/CMakeLists.txt runs this file once per SIMD target.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "family_checks.hpp"
#include "nwgf/kernels/family/gaussian_attraction.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {
namespace {

using namespace family_test;

// W = -exp(-s)/pi in long double; smooth, so both coincident rules are 0.
struct GaussianAttractionReference {
  static LD pi() { return 3.141592653589793238462643383279502884L; }
  LD value(LD s) const { return -std::exp(-s) / pi(); }
  LD grad_factor(LD s) const { return 2 * std::exp(-s) / pi(); }  // 2 W'(s)
  LD coincident_rate(LD) const { return 0; }
  LD coincident_grad_factor(LD) const { return 0; }
};

struct GaussianAttraction {
  static constexpr const char* name = "GaussianAttraction";
  static constexpr bool has_directional = false;
  static GaussianAttractionReference reference(double) { return {}; }
  template <class T>
  static void energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                     const T* b, double p, double* out, PairwiseWorkspace* ws) {
    pair_energy<T>(ctx, PairFamily::gaussian_attraction, p, x, a, y, b, out, ws);
  }
  template <class T>
  static void gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                       const T* b, double p, T scale, PointsView<T> grad, bool accumulate,
                       PairwiseWorkspace* ws) {
    pair_gradient<T>(ctx, PairFamily::gaussian_attraction, p, x, a, y, b, scale, grad, accumulate, ws);
  }
};

}  // namespace

TEST_CASE("GaussianAttraction pair functor: value and gradient factor against long double") {
  const auto kd = GaussianAttractionPair<double>::make(1.0);
  const auto kf = GaussianAttractionPair<float>::make(1.0);
  const LD pi = GaussianAttractionReference::pi();
  for (double s : {0.0, 1e-30, 1e-6, 0.3, 2.0, 10.0}) {
    const LD want = -std::exp(-LD(s)) / pi;
    // The rounding of the argument costs s ulp of exp.
    const double ulps = 3.0 + s;
    INFO("s=" << s);
    CHECK(double(std::fabs(kd.value(s) - want)) <= ulps * 2.3e-16 * double(-want));
    CHECK(double(std::fabs(kd.grad_factor(s) + 2 * want)) <= (ulps + 1) * 2.3e-16 * double(-2 * want));
    const LD want_f = -std::exp(-LD(float(s))) / pi;
    CHECK(double(std::fabs(LD(kf.value(float(s))) - want_f)) <= (ulps + 1) * 1.2e-7 * double(-want_f));
  }
  CHECK(kd.coincident_rate(2.0) == 0.0);
  CHECK(kd.coincident_grad_factor(2.0) == 0.0);
}

TEST_CASE("GaussianAttraction sums match a naive long-double loop on every layout") {
  // One coincident pair (left out by every rule: W(0) and f(0) are its contributions).
  for (index_t d : {1, 2, 3, 5, 20}) {
    for (bool weights : {false, true}) {
      const Problem pb = make_problem(70, 53, d, unsigned(d * 7 + 1), 1);
      for (bool self : {false, true}) {
        const Reference want = reference_sums(GaussianAttraction::reference(1.0), pb, weights, self);
        check_sums<GaussianAttraction, double>(pb, want, 1.0, weights, self, {1e-12, 0, 1e-12},
                                {1e-11, 0, 1e-10});
        check_sums<GaussianAttraction, float>(pb, want, 1.0, weights, self, {1e-4, 0, 1e-4}, {2e-4, 0, 2e-3});
      }
    }
  }
}

TEST_CASE("GaussianAttraction sums on the CUDA kernels' shapes (register and chunked)") {
  struct Shape {
    index_t n, m, d;
  };
  const Shape shapes[] = {{300, 257, 2}, {45, 70, 5}, {20, 33, 784}};
  for (const Shape& s : shapes) {
    for (bool weights : {false, true}) {
      const Problem pb = make_problem(s.n, s.m, s.d, unsigned(s.n * 17 + s.d), 1);
      const Reference want = reference_sums(GaussianAttraction::reference(1.0), pb, weights, false);
      check_sums<GaussianAttraction, double>(pb, want, 1.0, weights, false, {1e-12, 0, 1e-12},
                              {1e-11, 0, 1e-10});
      // d = 784: |z|^2 is about 500 and exp(-500) underflows in float (no width to widen).
      if (s.d == 2) {
        check_sums<GaussianAttraction, float>(pb, want, 1.0, weights, false, {1e-4, 0, 1e-4}, {2e-4, 0, 2e-3});
      }
    }
  }
}

TEST_CASE("GaussianAttraction gradient agrees with central finite differences (double)") {
  for (index_t d : {1, 2, 5, 20}) check_gradients_fd<GaussianAttraction>(9, 11, d, 1.0, 3u, 1.0);
}

TEST_CASE("GaussianAttraction self sums (the diagonal W(0) = -1/pi included) equal the ordered sums") {
  for (index_t d : {1, 2, 3}) {
    for (bool weights : {false, true}) {
      // 700: several self-pass blocks and tiles.
      check_self_equals_copy<GaussianAttraction, double>(700, d, 1.0, weights, false, 1e-11, 1e-8);
    }
  }
}

TEST_CASE("GaussianAttraction scale and accumulate") { check_scale_accumulate<GaussianAttraction>(31, 2, 1.0, 7u); }

TEST_CASE("GaussianAttraction float agrees with double") {
  const Problem pb = make_problem(300, 257, 2, 3u);
  check_float_agrees_double<GaussianAttraction>(pb, 1.0, true, false, 1e-4, 0, 1e-4);
}

TEST_CASE("GaussianAttraction sums are bitwise reproducible (CPU: for a fixed thread count)") {
  check_reproducible<GaussianAttraction, float>(make_problem(1000, 700, 2, 8u, 2), 1.0, true);
}

}  // namespace nwgf
