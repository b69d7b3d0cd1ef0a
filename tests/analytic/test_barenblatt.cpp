// The Barenblatt profile (analytic/barenblatt.hpp) against independent computations: the mass and
// E|X|^2 by radial quadrature of the density, the mass-1 constant, the paper's 1-D constant of
// mass 2, the PDE dU/dt = Delta U^m by finite differences inside the support, and the sampler's
// radii against the exact quantiles (radial W1).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nwgf/analytic/barenblatt.hpp"

using namespace nwgf;

namespace {

const double pi = 3.14159265358979323846;

// int_0^R f(r) |S^{n-1}| r^{n-1} dr by composite Simpson on 20000 panels.
template <class F>
double radial_integral(index_t n, double R, F f) {
  const double area = n == 1 ? 2.0 : (n == 2 ? 2 * pi : (n == 3 ? 4 * pi : 0.0));
  const int N = 20000;
  const double h = R / N;
  double s = 0;
  for (int i = 0; i <= N; ++i) {
    const double r = i * h, w = (i == 0 || i == N) ? 1 : (i % 2 ? 4 : 2);
    s += w * f(r) * std::pow(r, double(n - 1));
  }
  return area * s * h / 3;
}

}  // namespace

TEST_CASE("Barenblatt: mass and second moment against quadrature; the mass-1 constant") {
  for (const index_t n : {1, 2, 3})
    for (const double m : {2.0, 3.0, 1.5}) {
      const Barenblatt b = barenblatt_unit(n, m);
      const double t = 0.7, R = b.support_radius(t);
      INFO("n = " << n << ", m = " << m);
      CHECK(b.density(R * 1.0001, t) == 0.0);
      CHECK(b.density(0.5 * R, t) > 0.0);
      const double mass = radial_integral(n, R, [&](double r) { return b.density(r, t); });
      CHECK(mass == doctest::Approx(1.0).epsilon(1e-5));
      const double m2 = radial_integral(n, R, [&](double r) { return r * r * b.density(r, t); });
      CHECK(b.second_moment(t) == doctest::Approx(m2).epsilon(1e-5));
      // Mass is the same at every time.
      const double mass2 = radial_integral(n, b.support_radius(3.0), [&](double r) { return b.density(r, 3.0); });
      CHECK(mass2 == doctest::Approx(1.0).epsilon(1e-5));
    }
  // The variational JKO paper's 1-D constant C = (3/16)^{1/3}, m = 2, has mass 2.
  Barenblatt paper;
  paper.n = 1;
  paper.m = 2;
  paper.c = std::cbrt(3.0 / 16);
  CHECK(paper.mass() == doctest::Approx(2.0).epsilon(1e-12));
  CHECK(barenblatt_unit(1, 2).c == doctest::Approx(0.36056).epsilon(1e-4));
}

TEST_CASE("Barenblatt solves dU/dt = Delta U^m inside its support (finite differences)") {
  for (const index_t n : {1, 3}) {
    const Barenblatt b = barenblatt_unit(n, 2.0);
    const double t = 0.01, R = b.support_radius(t);
    for (const double frac : {0.1, 0.4, 0.7}) {
      const double r = frac * R, h = 1e-4 * R, dt = 1e-6 * t;
      const double ut = (b.density(r, t + dt) - b.density(r, t - dt)) / (2 * dt);
      auto um = [&](double q) { return std::pow(b.density(q, t), b.m); };
      // Radial Laplacian: f'' + (n - 1) f' / r.
      const double d2 = (um(r + h) - 2 * um(r) + um(r - h)) / (h * h);
      const double d1 = (um(r + h) - um(r - h)) / (2 * h);
      INFO("n = " << n << ", r / R = " << frac);
      CHECK(ut == doctest::Approx(d2 + double(n - 1) * d1 / r).epsilon(1e-4));
    }
  }
}

TEST_CASE("Barenblatt sampler: radii follow the exact quantiles") {
  for (const index_t n : {1, 3}) {
    const Barenblatt b = barenblatt_unit(n, 2.0);
    const index_t N = 20000;
    std::vector<double> x(static_cast<std::size_t>(N * n));
    sample_barenblatt(b, 0.002, N, 9, 1, x.data());
    const double R = b.support_radius(0.002);
    const double w = radial_w1(b, 0.002, x.data(), N);
    INFO("n = " << n << ": W1 / R = " << w / R);
    CHECK(w < 0.02 * R);
    double m2 = 0;
    for (double v : x) m2 += v * v;
    CHECK(m2 / double(N) == doctest::Approx(b.second_moment(0.002)).epsilon(0.03));
    // A profile at a later time is far in W1.
    CHECK(radial_w1(b, 0.004, x.data(), N) > 0.05 * R);
  }
}
