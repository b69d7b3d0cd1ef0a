// The Gaussian kernel family exp(-|x - y|^2 / (2 sigma^2)) (kernels/family/gaussian.hpp) through
// gaussian_energy and gaussian_gradient (kernels/pairwise.hpp), on every backend present
// (family_checks.hpp: the CPU, and CUDA or the emulated device): the pair functor against long
// double; the sums against a naive long-double loop in double and float on every CPU layout
// (d = 1, 2, 3, 5, 20) and on the CUDA register (small d) and chunked (d = 784) kernels, with and
// without weights, self sums included; the gradient against central differences; the self sums
// (the diagonal k(0) = 1 included) against the ordered sums through a copy; scale and
// accumulate; float against double; bitwise reproducibility; the width must be positive.
// tests/CMakeLists.txt runs this file once per SIMD target.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "family_checks.hpp"
#include "nwgf/kernels/family/gaussian.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {
namespace {

using namespace family_test;

// k(s) = exp(-s / (2 sigma^2)) in long double; smooth, so both coincident rules are 0.
struct GaussianReference {
  LD var;  // sigma^2
  LD value(LD s) const { return std::exp(-s / (2 * var)); }
  LD grad_factor(LD s) const { return -value(s) / var; }
  LD coincident_rate(LD) const { return 0; }
  LD coincident_grad_factor(LD) const { return 0; }
};

struct Gaussian {
  static constexpr const char* name = "Gaussian";
  static constexpr bool has_directional = false;
  static GaussianReference reference(double sigma) { return {LD(sigma) * LD(sigma)}; }
  template <class T>
  static void energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                     const T* b, double sigma, double* out, PairwiseWorkspace* ws) {
    gaussian_energy<T>(ctx, x, a, y, b, sigma, out, ws);
  }
  template <class T>
  static void gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                       const T* b, double sigma, T scale, PointsView<T> grad, bool accumulate,
                       PairwiseWorkspace* ws) {
    gaussian_gradient<T>(ctx, x, a, y, b, sigma, scale, grad, accumulate, ws);
  }
};

}  // namespace

TEST_CASE("Gaussian pair functor: value and gradient factor against long double") {
  for (double sigma : {0.1, 0.7, 3.0}) {
    const auto kd = GaussianPair<double>::make(sigma);
    const auto kf = GaussianPair<float>::make(sigma);
    for (double s : {0.0, 1e-30, 1e-6, 0.3, 2.0, 10.0}) {
      const LD var = LD(sigma) * LD(sigma), want = std::exp(-LD(s) / (2 * var));
      // The rounding of the exponent's argument a = -s / (2 sigma^2) costs |a| ulp of exp.
      const double ulps = 2.0 + double(LD(s) / (2 * var));
      INFO("sigma=" << sigma << " s=" << s);
      CHECK(double(std::fabs(kd.value(s) - want)) <= ulps * 2.3e-16 * double(want) + 1e-300);
      CHECK(double(std::fabs(kd.grad_factor(s) + want / var)) <=
            (ulps + 1) * 2.3e-16 * double(want / var) + 1e-300);
      const LD want_f = std::exp(-LD(float(s)) / (2 * var));
      CHECK(double(std::fabs(LD(kf.value(float(s))) - want_f)) <=
            (ulps + 1) * 1.2e-7 * double(want_f) + 1e-37);
    }
    CHECK(kd.coincident_rate(2.0) == 0.0);
    CHECK(kd.coincident_grad_factor(2.0) == 0.0);
  }
}

TEST_CASE("Gaussian sums match a naive long-double loop on every layout") {
  // One coincident pair: its gradient term is 0, its value 1. CUDA against the CPU: 1e-12 (f64),
  // 2e-5 (f32) for the energy, ten times that for the gradient.
  for (index_t d : {1, 2, 3, 5, 20}) {
    for (double sigma : {0.3, 1.0}) {
      for (bool weights : {false, true}) {
        const Problem pb = make_problem(70, 53, d, unsigned(d * 7 + 1), 1);
        for (bool self : {false, true}) {
          const Reference want = reference_sums(Gaussian::reference(sigma), pb, weights, self);
          check_sums<Gaussian, double>(pb, want, sigma, weights, self, {1e-13, 0, 1e-13},
                                       {1e-12, 0, 1e-11});
          check_sums<Gaussian, float>(pb, want, sigma, weights, self, {1e-5, 0, 1e-5},
                                      {2e-5, 0, 2e-4});
        }
      }
    }
  }
}

TEST_CASE("Gaussian sums on the CUDA kernels' shapes (register and chunked)") {
  struct Shape {
    index_t n, m, d;
    double sigma_scale;  // d = 784: wider, so that the sums are not all underflow
  };
  const Shape shapes[] = {{300, 257, 2, 1}, {45, 70, 5, 1}, {20, 33, 784, 10}};
  for (const Shape& s : shapes) {
    const double agree = s.d > 16 ? 1e-11 : 1e-12;
    for (double sigma : {0.5, 2.0}) {
      for (bool weights : {false, true}) {
        const Problem pb = make_problem(s.n, s.m, s.d, unsigned(s.n * 17 + s.d), 1);
        const double p = sigma * s.sigma_scale;
        const Reference want = reference_sums(Gaussian::reference(p), pb, weights, false);
        check_sums<Gaussian, double>(pb, want, p, weights, false, {1e-13, 0, 1e-13},
                                     {agree, 0, 10 * agree});
        if (s.d != 5) {
          check_sums<Gaussian, float>(pb, want, p, weights, false, {1e-5, 0, 1e-5},
                                      {2e-5, 0, 2e-4});
        }
      }
    }
  }
}

TEST_CASE("Gaussian gradient agrees with central finite differences (double)") {
  for (index_t d : {2, 5, 20}) check_gradients_fd<Gaussian>(9, 11, d, 0.6, 3u, 1.0);
}

TEST_CASE("Gaussian self sums (the diagonal k(0) = 1 included) equal the ordered sums") {
  for (index_t d : {1, 2, 3}) {
    for (bool weights : {false, true}) {
      // 700: several self-pass blocks and tiles.
      check_self_equals_copy<Gaussian, double>(700, d, 0.4, weights, false, 1e-12, 1e-9);
    }
  }
}

TEST_CASE("Gaussian scale and accumulate") { check_scale_accumulate<Gaussian>(31, 2, 0.8, 7u); }

TEST_CASE("Gaussian float agrees with double") {
  const Problem pb = make_problem(300, 257, 2, 3u);
  for (double sigma : {0.3, 1.0}) {
    check_float_agrees_double<Gaussian>(pb, sigma, true, false, 1e-5, 0, 1e-5);
  }
}

TEST_CASE("Gaussian sums are bitwise reproducible (CPU: for a fixed thread count)") {
  check_reproducible<Gaussian, float>(make_problem(1000, 700, 2, 8u, 2), 0.5, true);
}

TEST_CASE("Gaussian width must be positive") {
  for (const Backend& be : backends()) {
    const Context ctx(be.device, 1);
    INFO("on " << be.name);
    const Buffer<double> x = stage<double>(ctx, {0.0, 1.0});
    Buffer<double> out(ctx, 1);
    const ConstPointsView<double> xv = points(x, 2, 1);
    CHECK_THROWS(gaussian_energy<double>(ctx, xv, nullptr, xv, nullptr, 0.0, out.data()));
    CHECK_THROWS(gaussian_energy<double>(ctx, xv, nullptr, xv, nullptr, -1.0, out.data()));
    CHECK_THROWS(gaussian_energy<double>(ctx, xv, nullptr, xv, nullptr, std::nan(""), out.data()));
  }
}

}  // namespace nwgf
