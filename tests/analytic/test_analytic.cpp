// Closed forms of analytic/riesz_flow.hpp against independent computations: 50-digit Gamma
// formulas, Gauss' 2F1(1) theorem, tanh-sinh quadrature of the density and of the first variation
// (optimality of eta*), the Lemma C.6/C.7 bounds and a TOMS 748 root finder for t_{tau,n}.
#include <doctest/doctest.h>

#include <boost/math/constants/constants.hpp>
#include <boost/math/quadrature/tanh_sinh.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/tools/roots.hpp>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cmath>
#include <vector>

#include "nwgf/analytic/riesz_flow.hpp"
#include "nwgf/engine/error.hpp"

using namespace nwgf;
namespace bm = boost::math;

namespace {

const double kPi = bm::constants::pi<double>();

// |S^{d-1}| = 2 pi^{d/2} / Gamma(d/2).
double sphere_area(int d) { return 2.0 * std::pow(kPi, 0.5 * d) / bm::tgamma(0.5 * d); }

// ∫_0^s g(u) rho_s(u) |S^{d-1}| u^{d-1} du over the ball, from the paper's Lebesgue density
// rho_s = A_s (s^2 - u^2)^{1-(r+d)/2}, split at `split` (a kink of g). tanh-sinh's second argument
// is the distance to the nearer endpoint, so s^2 - u^2 = (s-u)(s+u) stays accurate near u = s.
template <class G>
double ball_integral(const EtaStar& e, G g, double split = -1.0) {
  const double alpha = 1.0 - 0.5 * (e.r + e.d);
  const double area = sphere_area(e.d);
  bm::quadrature::tanh_sinh<double> ts;
  auto piece = [&](double a, double b) {
    // uc = b - u (>= 0) on the right half of [a, b], a - u (< 0) on the left half.
    auto f = [&](double u, double uc) {
      const double s_minus_u = b != e.s ? e.s - u : (uc >= 0.0 ? uc : (b - a) + uc);
      return g(u) * area * std::pow(u, e.d - 1) * e.A_s * std::pow(s_minus_u * (e.s + u), alpha);
    };
    return ts.integrate(f, a, b, 1e-12);
  };
  if (split > 0.0 && split < e.s) return piece(0.0, split) + piece(split, e.s);
  return piece(0.0, e.s);
}

// Mean of |x - y|^r over y uniform on the sphere |y| = u, for |x| = rho:
// ∫_0^pi sin^{d-2}(phi) |x-y|^r dphi / ∫_0^pi sin^{d-2}(phi) dphi, |x-y|^2 = (rho-u)^2 + 4 rho u
// sin^2(phi/2).
double sphere_mean_dist_r(int d, double r, double rho, double u) {
  if (d == 1) return 0.5 * (std::pow(std::abs(rho - u), r) + std::pow(rho + u, r));
  bm::quadrature::tanh_sinh<double> ts;
  auto w = [&](double phi) { return std::pow(std::sin(phi), d - 2); };
  auto f = [&](double phi) {
    const double sh = std::sin(0.5 * phi);
    return w(phi) * std::pow((rho - u) * (rho - u) + 4.0 * rho * u * sh * sh, 0.5 * r);
  };
  return ts.integrate(f, 0.0, kPi, 1e-13) / ts.integrate(w, 0.0, kPi, 1e-13);
}

// First variation of nu -> 1/2 ∫|x|^2 dnu + E_K(nu) at eta*: Phi(x) = |x|^2/2 - ∫|x-y|^r deta*(y).
double phi_first_variation(const EtaStar& e, double rho) {
  double potential;
  if (e.ball) {
    potential = ball_integral(
        e, [&](double u) { return sphere_mean_dist_r(e.d, e.r, rho, u); }, rho);
  } else {
    potential = sphere_mean_dist_r(e.d, e.r, rho, e.c);
  }
  return 0.5 * rho * rho - potential;
}

}  // namespace

TEST_CASE("eta*: the paper's special values s = pi/4 (d=2, r=1) and c = 2/3 (d=3, r=1)") {
  const EtaStar b = eta_star(2, 1.0);
  CHECK(b.ball);
  CHECK(b.s == doctest::Approx(kPi / 4).epsilon(1e-15));
  CHECK(b.radius == b.s);
  const EtaStar sph = eta_star(3, 1.0);
  CHECK_FALSE(sph.ball);
  CHECK(sph.c == doctest::Approx(2.0 / 3.0).epsilon(1e-15));
  CHECK(sph.second_moment == doctest::Approx(4.0 / 9.0).epsilon(1e-15));
  // Case split at d + r = 4.
  CHECK(eta_star(3, 0.999).ball);
  CHECK_FALSE(eta_star(4, 0.01).ball);
  CHECK(eta_star(1, 1.99).ball);
  CHECK_THROWS_AS(eta_star(0, 1.0), Error);
  CHECK_THROWS_AS(eta_star(2, 0.0), Error);
  CHECK_THROWS_AS(eta_star(2, 2.0), Error);
  CHECK_THROWS_AS(eta_star(2, std::nan("")), Error);
}

TEST_CASE("2F1(a, b; c; 1) against Gauss' Gamma-function formula") {
  for (int d : {3, 4, 5, 10, 50}) {
    for (double r : {0.5, 1.0, 1.2, 1.5, 1.9}) {
      if (d + r < 4.0) continue;
      const double a = -0.5 * r, b = 0.5 * (2.0 - r - d), c = 0.5 * d;
      const double gauss =
          bm::tgamma(c) * bm::tgamma(c - a - b) / (bm::tgamma(c - a) * bm::tgamma(c - b));
      CAPTURE(d);
      CAPTURE(r);
      CHECK(hyp2f1_at_one(a, b, c) == doctest::Approx(gauss).epsilon(1e-13));
    }
  }
  CHECK_THROWS_AS(hyp2f1_at_one(1.0, 1.0, 1.5), Error);
}

TEST_CASE("eta*: closed form against a 50-digit evaluation by a different route") {
  using mp = boost::multiprecision::cpp_bin_float_50;
  for (int d : {1, 2, 3, 4, 5, 10, 100, 1000}) {
    for (double r : {0.1, 0.5, 1.0, 1.5, 1.99}) {
      const EtaStar e = eta_star(d, r);
      const mp R = r, D = d;
      CAPTURE(d);
      CAPTURE(r);
      if (d + r < 4.0) {
        // s^{2-r} = r Gamma(2-r/2) Gamma((d+r)/2) / Gamma(d/2+1);
        // A_s = Gamma(2-r/2) / (s^{2-r} pi^{d/2} Gamma(2-(r+d)/2))   (B written out as Gammas).
        const mp s_pow =
            R * bm::tgamma(mp(2) - R / 2) * bm::tgamma((D + R) / 2) / bm::tgamma(D / 2 + 1);
        const mp s = exp(log(s_pow) / (2 - R));
        const mp A = bm::tgamma(mp(2) - R / 2) / (s_pow * pow(bm::constants::pi<mp>(), D / 2) *
                                                  bm::tgamma(mp(2) - (R + D) / 2));
        CHECK(std::abs(e.s / double(s) - 1.0) < 1e-13);
        CHECK(std::abs(e.A_s / double(A) - 1.0) < 1e-13);
        CHECK(std::abs(e.second_moment / double(s * s * D / (4 - R)) - 1.0) < 1e-13);
      } else {
        // Gauss: 2F1(-r/2, (2-r-d)/2; d/2; 1) = Gamma(d/2) Gamma(d+r-1) / (Gamma((d+r)/2)
        // Gamma(d-1+r/2)).
        const mp f = bm::tgamma(D / 2) * bm::tgamma(D + R - 1) /
                     (bm::tgamma((D + R) / 2) * bm::tgamma(D - 1 + R / 2));
        const mp c = exp(log(R / 2 * f) / (2 - R));
        CHECK(std::abs(e.c / double(c) - 1.0) < 1e-12);
      }
    }
  }
}

TEST_CASE("eta*: the ball density integrates to 1 and has the stated second moment") {
  for (int d : {1, 2, 3}) {
    for (double r : {0.1, 0.5, 1.0, 1.5, 1.9}) {
      if (d + r >= 4.0) continue;
      const EtaStar e = eta_star(d, r);
      CAPTURE(d);
      CAPTURE(r);
      CHECK(ball_integral(e, [](double) { return 1.0; }) == doctest::Approx(1.0).epsilon(1e-10));
      CHECK(ball_integral(e, [](double u) { return u * u; }) ==
            doctest::Approx(e.second_moment).epsilon(1e-10));
      // The radial CDF (Beta law) against the integrated density.
      for (double q : {0.2, 0.5, 0.9, 0.999}) {
        const double rho = q * e.s;
        const double mass = ball_integral(
            e, [&](double u) { return u <= rho ? 1.0 : 0.0; }, rho);
        CHECK(eta_star_radial_cdf(e, rho) == doctest::Approx(mass).epsilon(1e-9));
        CHECK(eta_star_radial_quantile(e, mass) == doctest::Approx(rho).epsilon(1e-9));
      }
    }
  }
}

TEST_CASE(
    "eta* is optimal: Phi = |x|^2/2 - ∫|x-y|^r deta* is constant on the support, larger off it") {
  struct Case {
    int d;
    double r;
  };
  for (Case k : {Case{1, 0.5}, Case{1, 1.5}, Case{2, 1.0}, Case{2, 0.5}, Case{2, 1.5}, Case{3, 0.5},
                 Case{3, 1.0}, Case{3, 1.5}, Case{5, 1.0}, Case{10, 0.5}}) {
    const EtaStar e = eta_star(k.d, k.r);
    CAPTURE(k.d);
    CAPTURE(k.r);
    const double R = e.radius;
    const double phi0 = phi_first_variation(e, e.ball ? 0.5 * R : R);
    if (e.ball) {
      for (double q : {0.0, 0.2, 0.8, 0.99}) {
        CHECK(phi_first_variation(e, q * R) == doctest::Approx(phi0).epsilon(1e-7));
      }
    } else {
      // A wrong c would make Phi decrease on one side of the sphere. At d + r = 4 the potential
      // of the sphere is |x|^2/2 + const inside it, so Phi is flat there; beyond, strictly larger.
      CHECK(phi_first_variation(e, 1.001 * R) > phi0);
      for (double q : {0.0, 0.5, 0.9}) {
        if (k.d + k.r > 4.0) {
          CHECK(phi_first_variation(e, q * R) > phi0 + 1e-6);
        } else {
          CHECK(phi_first_variation(e, q * R) == doctest::Approx(phi0).epsilon(1e-9));
        }
      }
      if (k.d + k.r > 4.0) CHECK(phi_first_variation(e, 0.999 * R) > phi0);
    }
    for (double q : {1.05, 1.5, 3.0}) CHECK(phi_first_variation(e, q * R) > phi0 + 1e-6);
  }
}

TEST_CASE("jko_times: r = 1 gives n tau; Newton agrees with TOMS 748 on the defining equation") {
  const std::vector<double> t1 = jko_times(1.0, 0.05, 100);
  for (int n = 1; n <= 100; ++n)
    CHECK(t1[n - 1] == doctest::Approx(n * 0.05).epsilon(1e-13));  // n additions of tau
  for (double r : {0.1, 0.5, 0.9, 1.1, 1.5, 1.95}) {
    for (double tau : {0.01, 0.3}) {
      const std::vector<double> t = jko_times(r, tau, 50);
      double prev = 0.0;
      for (int n = 1; n <= 50; ++n) {
        auto h = [&](double x) {
          return std::pow(prev, 1.0 / (2.0 - r)) * std::pow(x, (1.0 - r) / (2.0 - r)) - x + tau;
        };
        std::uintmax_t iters = 200;
        const auto br = bm::tools::toms748_solve(h, tau, prev + 10.0 * tau + 1.0,
                                                 bm::tools::eps_tolerance<double>(50), iters);
        CAPTURE(r);
        CAPTURE(n);
        CHECK(t[n - 1] == doctest::Approx(0.5 * (br.first + br.second)).epsilon(1e-13));
        // Scale form: g_n = g_{n-1} + tau g_n^{r-1}, g = t^{1/(2-r)}.
        const double g = std::pow(t[n - 1], 1.0 / (2.0 - r)),
                     g_prev = std::pow(prev, 1.0 / (2.0 - r));
        CHECK(g == doctest::Approx(g_prev + tau * std::pow(g, r - 1.0)).epsilon(1e-12));
        prev = t[n - 1];
      }
      CHECK(t[0] == doctest::Approx(tau).epsilon(1e-15));
      CHECK(jko_scale(r, tau, 50) ==
            doctest::Approx(std::pow(t[49], 1.0 / (2.0 - r))).epsilon(1e-15));
    }
  }
  CHECK(jko_scale(1.5, 0.1, 0) == 0.0);
  CHECK_THROWS_AS(jko_times(1.0, 0.0, 3), Error);
  CHECK_THROWS_AS(jko_times(2.0, 0.1, 3), Error);
  CHECK_THROWS_AS(jko_times(1.0, 0.1, -1), Error);
}

// Lemma C.6 (ii) / C.7 as printed hold for r >= 1 only. For r < 1 the proof's "same lines" drop a
// term of the wrong sign: numerically t_{tau,n} - t_{tau,n-1} falls below the printed bound
// (r = 0.9, tau = 0.5, n = 395: 0.549937 < 0.549942). Expanding h to second order gives increments
// (2-r) tau + (r-1) tau / (2n) + O(tau/n^2); for r < 1 we check the constant (2-r)/2 in place of
// 1/(4-2r), i.e. c_{tau,n} = (r-1)(2-r) / (2(n-1)), and its sum for C.7.
TEST_CASE("jko_times: Lemma C.6 / C.7 bounds and Remark 5.3's ordering against f") {
  const double slack = 1e-12;
  for (double r : {0.1, 0.5, 0.9, 1.0, 1.1, 1.5, 1.95}) {
    for (double tau : {0.01, 0.05, 0.5}) {
      const int N = 400;
      const std::vector<double> t = jko_times(r, tau, N);
      const double step = (2.0 - r) * tau;
      const double kappa = r >= 1.0 ? 1.0 / (4.0 - 2.0 * r) : 0.5 * (2.0 - r);
      for (int n = 1; n <= N; ++n) {
        const double tn = t[n - 1], tp = n > 1 ? t[n - 2] : 0.0;
        const double scale_slack = slack * tn;
        CAPTURE(r);
        CAPTURE(tau);
        CAPTURE(n);
        const double bound = tau * std::abs(r - 1.0) * (1.0 + kappa * (1.0 + std::log(double(n))));
        const double c_n = n >= 2 ? (r - 1.0) * kappa / (n - 1) : 0.0;
        const double f_tau = std::pow(tn, 1.0 / (2.0 - r)), f = limit_scale(r, n * tau);
        // sign of h(t_prev + tau) = t_prev^{1/(2-r)} ((t_prev + tau)^p - t_prev^p), p = (1-r)/(2-r)
        if (r <= 1.0) CHECK(tn - tp >= tau - scale_slack);
        if (r >= 1.0) CHECK(tn - tp <= tau + scale_slack);
        if (r >= 1.0) {
          CHECK(tn - tp >= step - scale_slack);  // C.6 (i)
          CHECK(tn - n * step >= -scale_slack);  // C.7
          CHECK(tn - n * step <= bound + scale_slack);
          if (n >= 2) CHECK(tn - tp <= step + c_n * tau + scale_slack);  // C.6 (ii)
        }
        if (r <= 1.0) {
          CHECK(tn - tp <= step + scale_slack);
          CHECK(n * step - tn >= -scale_slack);
          CHECK(n * step - tn <= bound + scale_slack);
          if (n >= 2) CHECK(tn - tp >= step + c_n * tau - scale_slack);
        }
        if (r < 1.0) CHECK(f_tau < f);
        if (r > 1.0) CHECK(f_tau > f);
        if (r == 1.0) CHECK(f_tau == doctest::Approx(f).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("jko_scale converges to the limit curve f as tau -> 0 (Thm 5.2 (ii))") {
  for (double r : {0.5, 1.5}) {
    double prev_err = 1e300;
    for (int n : {10, 100, 1000, 10000}) {
      const double err = std::abs(jko_scale(r, 1.0 / n, n) - limit_scale(r, 1.0));
      CAPTURE(r);
      CAPTURE(n);
      CHECK(err < prev_err);
      prev_err = err;
    }
    CHECK(prev_err < 2e-3);
  }
}

TEST_CASE("limit_scale and forward_scales (Thm 5.4, r = 1)") {
  CHECK(limit_scale(1.0, 0.7) == doctest::Approx(0.7).epsilon(1e-15));
  CHECK(limit_scale(1.5, 2.0) == doctest::Approx(1.0).epsilon(1e-15));  // (0.5 * 2)^2
  CHECK(limit_scale(0.5, 1.5) == doctest::Approx(std::pow(2.25, 2.0 / 3.0)).epsilon(1e-15));
  const std::vector<double> a = forward_scales(0.05, 40);
  const std::vector<double> t = jko_times(1.0, 0.05, 40);
  REQUIRE(a.size() == 40);
  for (int k = 0; k < 40; ++k) {
    CHECK(a[k] == doctest::Approx(t[k]).epsilon(1e-12));  // forward = JKO at r = 1
    CHECK(a[k] == doctest::Approx(limit_scale(1.0, (k + 1) * 0.05)).epsilon(1e-14));
  }
  CHECK_THROWS_AS(forward_scales(-1.0, 3), Error);
}
