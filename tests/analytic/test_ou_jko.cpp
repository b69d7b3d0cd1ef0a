// The OU closed forms (analytic/ou_flow.hpp) and the Gaussian algebra under them, each against an
// independent computation: the exact JKO step against a brute-force 1-D minimisation of the JKO
// objective over Gaussians, the continuous flow against RK4 of the moment ODEs in the standard
// basis, the eigen-decomposition against its definition, KL of rotated Gaussians against the sum
// of 1-D KLs of the unrotated ones.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "nwgf/analytic/gaussian_moments.hpp"
#include "nwgf/analytic/ou_flow.hpp"

using namespace nwgf;

namespace {

double golden_min(const std::function<double(double)>& f, double lo, double hi) {
  const double g = (std::sqrt(5.0) - 1) / 2;
  double a = lo, b = hi, c = b - g * (b - a), d = a + g * (b - a);
  for (int i = 0; i < 200; ++i) {
    if (f(c) < f(d)) b = d; else a = c;
    c = b - g * (b - a);
    d = a + g * (b - a);
  }
  return (a + b) / 2;
}

// S = R diag(s) R^T with R a rotation in the (0,1) and (1,2) planes.
std::vector<double> rotated(const std::vector<double>& s, double t1, double t2,
                            std::vector<double>* rot = nullptr) {
  const double c1 = std::cos(t1), s1 = std::sin(t1), c2 = std::cos(t2), s2 = std::sin(t2);
  const std::vector<double> r1 = {c1, -s1, 0, s1, c1, 0, 0, 0, 1}, r2 = {1, 0, 0, 0, c2, -s2, 0, s2, c2};
  std::vector<double> r(9, 0.0), a(9, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) r[i * 3 + j] += r1[i * 3 + k] * r2[k * 3 + j];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) a[i * 3 + j] += r[i * 3 + k] * s[k] * r[j * 3 + k];
  if (rot) *rot = r;
  return a;
}

}  // namespace

TEST_CASE("the exact OU JKO step is the minimiser of the 1-D JKO objective") {
  for (const double lambda : {0.5, 1.0, 2.0, 7.0})
    for (const double a : {0.01, 0.05, 0.3})
      for (const double v0 : {0.04, 1.0, 3.0}) {
        const double m0 = 0.7, b = -1.3;
        double m = m0, v = v0;
        ou_jko_step_1d(lambda, b, a, m, v);
        // W_2^2 = (m - m')^2 + (sqrt v0 - sigma)^2; KL(N(m', sigma^2) || N(b, 1/lambda)).
        const double mb = golden_min(
            [&](double x) { return (x - m0) * (x - m0) / (2 * a) + lambda * (x - b) * (x - b) / 2; },
            -10, 10);
        const double sb = golden_min(
            [&](double s) {
              return (std::sqrt(v0) - s) * (std::sqrt(v0) - s) / (2 * a) + lambda * s * s / 2 -
                     std::log(s);
            },
            1e-6, 10);
        CHECK(m == doctest::Approx(mb).epsilon(1e-7));
        CHECK(std::sqrt(v) == doctest::Approx(sb).epsilon(1e-7));
      }
}

TEST_CASE("the continuous OU flow against RK4 of the moment ODEs; JKO iterates approach it") {
  OuProblem p;
  p.target.mean = {0.5, -1, 2};
  p.target.cov = rotated({0.6, 0.8, 1.0}, 0.4, 1.1);
  p.start = {0.1, 0.2, -0.3};
  p.start_variance = 1.3;
  const auto l = cholesky(p.target.cov, 3);
  REQUIRE(l);
  const std::vector<double> A = spd_inverse_from_cholesky(*l, 3);
  // dm/dt = -A (m - b), dS/dt = 2 I - A S - S A.
  auto rhs = [&](const std::vector<double>& y) {
    std::vector<double> f(12, 0.0);
    for (int i = 0; i < 3; ++i) {
      for (int k = 0; k < 3; ++k) f[i] -= A[i * 3 + k] * (y[k] - p.target.mean[k]);
      for (int j = 0; j < 3; ++j) {
        double s = i == j ? 2.0 : 0.0;
        for (int k = 0; k < 3; ++k) s -= A[i * 3 + k] * y[3 + k * 3 + j] + y[3 + i * 3 + k] * A[k * 3 + j];
        f[3 + i * 3 + j] = s;
      }
    }
    return f;
  };
  std::vector<double> y = {0.1, 0.2, -0.3, 1.3, 0, 0, 0, 1.3, 0, 0, 0, 1.3};
  const double t = 0.9, h = 1e-3;
  for (int s = 0; s < 900; ++s) {
    auto k1 = rhs(y), y2 = y;
    for (int i = 0; i < 12; ++i) y2[i] = y[i] + h / 2 * k1[i];
    auto k2 = rhs(y2);
    for (int i = 0; i < 12; ++i) y2[i] = y[i] + h / 2 * k2[i];
    auto k3 = rhs(y2);
    for (int i = 0; i < 12; ++i) y2[i] = y[i] + h * k3[i];
    auto k4 = rhs(y2);
    for (int i = 0; i < 12; ++i) y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  }
  const GaussianMoments g = ou_continuous(p, t);
  for (int i = 0; i < 3; ++i) CHECK(g.mean[i] == doctest::Approx(y[i]).epsilon(1e-10));
  for (int i = 0; i < 9; ++i) CHECK(g.cov[i] == doctest::Approx(y[3 + i]).epsilon(1e-10).scale(1));
  // The JKO scheme is first order in a: SymKL(iterate, P_t) falls like a^2.
  const double e1 = symmetric_kl(ou_jko_iterate(p, 0.1, 9), g);
  const double e2 = symmetric_kl(ou_jko_iterate(p, 0.05, 18), g);
  CHECK(e1 > 0);
  CHECK(e1 / e2 == doctest::Approx(4).epsilon(0.15));
  CHECK(symmetric_kl(ou_jko_iterate(p, 0.05, 0), ou_continuous(p, 0)) < 1e-14);
}

TEST_CASE("Gaussian algebra: eigen-decomposition, Cholesky inverse, KL of rotated Gaussians") {
  std::vector<double> r;
  const std::vector<double> s = {0.3, 1.7, 4.0}, a = rotated(s, 0.7, -0.4, &r);
  const SymmetricEigen e = symmetric_eigen(a, 3);
  for (int k = 0; k < 3; ++k) CHECK(e.values[k] == doctest::Approx(s[k]).epsilon(1e-13));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double back = 0, orth = 0;
      for (int k = 0; k < 3; ++k) {
        back += e.vectors[i * 3 + k] * e.values[k] * e.vectors[j * 3 + k];
        orth += e.vectors[k * 3 + i] * e.vectors[k * 3 + j];
      }
      CHECK(back == doctest::Approx(a[i * 3 + j]).scale(1).epsilon(1e-13));
      CHECK(orth == doctest::Approx(i == j ? 1.0 : 0.0).scale(1).epsilon(1e-13));
    }
  const auto l = cholesky(a, 3);
  REQUIRE(l);
  const auto inv = spd_inverse_from_cholesky(*l, 3);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double id = 0;
      for (int k = 0; k < 3; ++k) id += a[i * 3 + k] * inv[k * 3 + j];
      CHECK(id == doctest::Approx(i == j ? 1.0 : 0.0).scale(1).epsilon(1e-13));
    }
  CHECK(log_det_from_cholesky(*l, 3) == doctest::Approx(std::log(0.3 * 1.7 * 4.0)).epsilon(1e-13));
  CHECK_FALSE(cholesky({1, 2, 2, 1}, 2));
  // KL of N(R m, R diag(s) R^T) to N(R n, R diag(u) R^T) = sum of the 1-D KLs.
  const std::vector<double> m = {0.2, -1, 0.5}, n = {1, 0, -0.5}, u = {1.1, 0.4, 2.5};
  GaussianMoments p{{0, 0, 0}, a}, q{{0, 0, 0}, rotated(u, 0.7, -0.4)};
  double want = 0;
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < 3; ++i) {
      p.mean[i] += r[i * 3 + k] * m[k];
      q.mean[i] += r[i * 3 + k] * n[k];
    }
    want += 0.5 * (s[k] / u[k] + (m[k] - n[k]) * (m[k] - n[k]) / u[k] - 1 + std::log(u[k] / s[k]));
  }
  CHECK(gaussian_kl(p, q) == doctest::Approx(want).epsilon(1e-12));
  // moment_fit: mean and covariance (divisor n) of four points.
  const std::vector<double> x = {0, 0, 2, 0, 0, 4, 2, 4};
  const GaussianMoments f = moment_fit(x.data(), 4, 2);
  CHECK(f.mean == std::vector<double>{1, 2});
  CHECK(f.cov == std::vector<double>{1, 0, 0, 4});
}
