// The Gaussian kernel family (kernels/family/gaussian.hpp) through the fused pairwise sums on the
// CPU backend (every SIMD target via NWGF_SIMD, tests/CMakeLists.txt): values against an
// independent long-double computation, gradients against central finite differences in double,
// the self sums (diagonal k(0) = 1 included) against the ordered sums through a copy.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "nwgf/kernels/family/gaussian.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {
namespace {

using LD = long double;

struct Points {
  index_t n = 0, m = 0, d = 0;
  std::vector<double> x, a, y, b;  // (n,d) (n) (m,d) (m)
};

Points make_points(index_t n, index_t m, index_t d, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(-1, 1), pos(0.2, 1.5);
  Points p{n, m, d, {}, {}, {}, {}};
  auto fill = [&](std::vector<double>& v, index_t k, auto& dist) {
    v.resize(std::size_t(k));
    for (auto& e : v) e = dist(gen);
  };
  fill(p.x, n * d, u);
  fill(p.a, n, pos);
  fill(p.y, m * d, u);
  fill(p.b, m, pos);
  // One coincident pair: its gradient term is 0, its value 1.
  for (index_t k = 0; k < d; ++k) p.x[std::size_t(d + k)] = p.y[std::size_t(k)];
  return p;
}

// sum_ij a_i b_j exp(-|x_i - y_j|^2 / (2 sigma^2)) and its gradient in x, in long double.
void naive(const Points& p, bool weights, double sigma, LD& energy, std::vector<LD>& grad) {
  energy = 0;
  grad.assign(std::size_t(p.n * p.d), 0);
  const LD var = LD(sigma) * LD(sigma);
  for (index_t i = 0; i < p.n; ++i) {
    for (index_t j = 0; j < p.m; ++j) {
      LD s = 0;
      for (index_t k = 0; k < p.d; ++k) {
        const LD z = LD(p.x[std::size_t(i * p.d + k)]) - LD(p.y[std::size_t(j * p.d + k)]);
        s += z * z;
      }
      const LD w = weights ? LD(p.a[std::size_t(i)]) * LD(p.b[std::size_t(j)]) : 1;
      const LD g = std::exp(-s / (2 * var));
      energy += w * g;
      for (index_t k = 0; k < p.d; ++k) {
        const LD z = LD(p.x[std::size_t(i * p.d + k)]) - LD(p.y[std::size_t(j * p.d + k)]);
        grad[std::size_t(i * p.d + k)] += w * (-g / var) * z;
      }
    }
  }
}

template <class T>
void cpu_sums(const Points& p, bool weights, double sigma, double& energy,
              std::vector<double>& grad) {
  const Context ctx(Device::cpu, 2);
  std::vector<T> x(p.x.begin(), p.x.end()), a(p.a.begin(), p.a.end());
  std::vector<T> y(p.y.begin(), p.y.end()), b(p.b.begin(), p.b.end());
  std::vector<T> g(std::size_t(p.n * p.d));
  const ConstPointsView<T> xv(x.data(), p.n, p.d), yv(y.data(), p.m, p.d);
  gaussian_energy<T>(ctx, xv, weights ? a.data() : nullptr, yv, weights ? b.data() : nullptr,
                     sigma, &energy);
  gaussian_gradient<T>(ctx, xv, weights ? a.data() : nullptr, yv, weights ? b.data() : nullptr,
                       sigma, T(1), PointsView<T>(g.data(), p.n, p.d), false);
  grad.assign(g.begin(), g.end());
}

double max_rel(const std::vector<double>& got, const std::vector<LD>& want) {
  LD scale = 1e-300L, err = 0;
  for (std::size_t k = 0; k < want.size(); ++k) {
    scale = std::max(scale, std::fabs(want[k]));
    err = std::max(err, std::fabs(LD(got[k]) - want[k]));
  }
  return double(err / scale);
}

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
  for (index_t d : {1, 2, 3, 5, 20}) {
    for (double sigma : {0.3, 1.0}) {
      for (bool weights : {false, true}) {
        const Points p = make_points(70, 53, d, unsigned(d * 7 + 1));
        LD want_e;
        std::vector<LD> want_g;
        naive(p, weights, sigma, want_e, want_g);
        double e;
        std::vector<double> g;
        INFO("d=" << d << " sigma=" << sigma << " weights=" << weights);
        cpu_sums<double>(p, weights, sigma, e, g);
        CHECK(double(std::fabs(LD(e) - want_e) / want_e) <= 1e-13);
        CHECK(max_rel(g, want_g) <= 1e-13);
        cpu_sums<float>(p, weights, sigma, e, g);
        CHECK(double(std::fabs(LD(e) - want_e) / want_e) <= 1e-5);
        CHECK(max_rel(g, want_g) <= 1e-5);
      }
    }
  }
}

TEST_CASE("Gaussian gradient agrees with central finite differences (double)") {
  const Context ctx(Device::cpu, 2);
  const double sigma = 0.6, h = 1e-6;
  for (index_t d : {2, 5, 20}) {
    const Points p = make_points(9, 11, d, 3);
    std::vector<double> x = p.x, g(std::size_t(p.n * p.d));
    const ConstPointsView<double> yv(p.y.data(), p.m, d);
    gaussian_gradient<double>(ctx, ConstPointsView<double>(x.data(), p.n, d), p.a.data(), yv,
                              p.b.data(), sigma, 1.0, PointsView<double>(g.data(), p.n, d), false);
    for (std::size_t e = 0; e < x.size(); e += 3) {
      const double x0 = x[e];
      double up, down;
      x[e] = x0 + h;
      gaussian_energy<double>(ctx, ConstPointsView<double>(x.data(), p.n, d), p.a.data(), yv,
                              p.b.data(), sigma, &up);
      x[e] = x0 - h;
      gaussian_energy<double>(ctx, ConstPointsView<double>(x.data(), p.n, d), p.a.data(), yv,
                              p.b.data(), sigma, &down);
      x[e] = x0;
      INFO("d=" << d << " element " << e);
      CHECK(g[e] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-6));
    }
  }
}

TEST_CASE("Gaussian self sums (the diagonal k(0) = 1 included) equal the ordered sums") {
  const Context ctx(Device::cpu, 2);
  for (index_t d : {1, 2, 3}) {
    for (bool weights : {false, true}) {
      const index_t n = 700;  // several self-pass blocks and tiles
      const Points p = make_points(n, 1, d, 11);
      const std::vector<double> copy = p.x, acopy = p.a;
      const double* a = weights ? p.a.data() : nullptr;
      const double* ac = weights ? acopy.data() : nullptr;
      double self = 0, ordered = 0;
      std::vector<double> gs(std::size_t(n * d)), go(std::size_t(n * d));
      const ConstPointsView<double> xv(p.x.data(), n, d), cv(copy.data(), n, d);
      gaussian_energy<double>(ctx, xv, a, xv, a, 0.4, &self);
      gaussian_energy<double>(ctx, xv, a, cv, ac, 0.4, &ordered);
      gaussian_gradient<double>(ctx, xv, a, xv, a, 0.4, 1.0, PointsView<double>(gs.data(), n, d),
                                false);
      gaussian_gradient<double>(ctx, xv, a, cv, ac, 0.4, 1.0, PointsView<double>(go.data(), n, d),
                                false);
      INFO("d=" << d << " weights=" << weights);
      CHECK(self == doctest::Approx(ordered).epsilon(1e-12));
      for (std::size_t e = 0; e < gs.size(); ++e) {
        CHECK(gs[e] == doctest::Approx(go[e]).epsilon(1e-9).scale(1e-6));
      }
    }
  }
}

TEST_CASE("Gaussian width must be positive") {
  const Context ctx(Device::cpu, 1);
  const std::vector<double> x = {0.0, 1.0};
  const ConstPointsView<double> xv(x.data(), 2, 1);
  double out;
  CHECK_THROWS(gaussian_energy<double>(ctx, xv, nullptr, xv, nullptr, 0.0, &out));
  CHECK_THROWS(gaussian_energy<double>(ctx, xv, nullptr, xv, nullptr, -1.0, &out));
  CHECK_THROWS(gaussian_energy<double>(ctx, xv, nullptr, xv, nullptr, std::nan(""), &out));
}

}  // namespace
}  // namespace nwgf
