// Exact samplers of analytic/ against laws computed independently of them: the radial CDF by
// quadrature of the paper's density (Kolmogorov-Smirnov), moments within Monte Carlo error,
// uniform directions; App. G's flow against its gradient-flow equation and a V-statistic;
// App. H's barycenter; reproducibility across thread counts; the CLI.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <boost/math/constants/constants.hpp>
#include <boost/math/quadrature/tanh_sinh.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "nwgf/analytic/barycenter.hpp"
#include "nwgf/analytic/line_flow.hpp"
#include "nwgf/analytic/riesz_flow.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;
namespace bm = boost::math;

namespace {

const double kPi = bm::constants::pi<double>();

// Kolmogorov-Smirnov statistic sup |F_n - F| of `x` against the continuous CDF `cdf`, each
// sample read as the interval x (1 +- rel): computed radii carry a few ulps of rounding, which
// matters where the density piles up at the ball's edge (d = 2, r = 1.8: 2.8% of the mass lies
// within 3e-16 s of s).
double ks_statistic(std::vector<double> x, const std::function<double(double)>& cdf,
                    double rel = 0.0) {
  std::sort(x.begin(), x.end());
  const double n = double(x.size());
  double dmax = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double lo = x[i] - rel * std::abs(x[i]), hi = x[i] + rel * std::abs(x[i]);
    dmax = std::max({dmax, cdf(lo) - i / n, (i + 1) / n - cdf(hi)});
  }
  return dmax;
}
// KS critical value at level 1e-3: sqrt(-log(5e-4) / 2) / sqrt(n) = 1.949 / sqrt(n).
double ks_critical(std::size_t n) { return 1.95 / std::sqrt(double(n)); }

// P(|X| <= rho) under eta* (ball case) by tanh-sinh quadrature of the Lebesgue density
// A_s (s^2 - u^2)^{1-(r+d)/2} |S^{d-1}| u^{d-1}: independent of the Beta law the sampler uses.
double ball_radial_cdf_quadrature(const EtaStar& e, double rho) {
  if (rho <= 0.0) return 0.0;
  if (rho >= e.s) return 1.0;
  const double area = 2.0 * std::pow(kPi, 0.5 * e.d) / bm::tgamma(0.5 * e.d);
  const double alpha = 1.0 - 0.5 * (e.r + e.d);
  bm::quadrature::tanh_sinh<double> ts;
  // Near u = s the density is singular; there integrate the complement, whose right end is s,
  // using tanh-sinh's distance-to-endpoint argument for s - u.
  auto density = [&](double u, double s_minus_u) {
    return area * std::pow(u, e.d - 1) * e.A_s * std::pow(s_minus_u * (e.s + u), alpha);
  };
  if (rho < 0.5 * e.s)
    return ts.integrate([&](double u) { return density(u, e.s - u); }, 0.0, rho, 1e-12);
  // uc = s - u (>= 0) on the right half of [rho, s], rho - u (< 0) on the left half.
  auto tail = [&](double u, double uc) { return density(u, uc >= 0.0 ? uc : (e.s - rho) + uc); };
  return 1.0 - ts.integrate(tail, rho, e.s, 1e-12);
}

std::vector<double> norms(const std::vector<double>& x, int d) {
  std::vector<double> out(x.size() / d);
  for (std::size_t i = 0; i < out.size(); ++i) {
    double s = 0.0;
    for (int j = 0; j < d; ++j) s += x[i * d + j] * x[i * d + j];
    out[i] = std::sqrt(s);
  }
  return out;
}

// Mean and standard error of v.
std::pair<double, double> mean_se(const std::vector<double>& v) {
  double m = 0.0, q = 0.0;
  for (double x : v) m += x;
  m /= v.size();
  for (double x : v) q += (x - m) * (x - m);
  return {m, std::sqrt(q / (v.size() - 1) / v.size())};
}

// D_K^2 of two 1-D samples for r = 1 (CONTRACT.md V-statistic), O(n^2).
double mmd2_line(const std::vector<double>& x, const std::vector<double>& y) {
  auto mean_dist = [](const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0.0;
    for (double u : a)
      for (double v : b) s += std::abs(u - v);
    return s / (double(a.size()) * b.size());
  };
  return mean_dist(x, y) - 0.5 * mean_dist(x, x) - 0.5 * mean_dist(y, y);
}

// D_K^2 of two 2-D samples for the Riesz kernel with exponent r, O(n m).
double mmd2_plane(const std::vector<double>& x, const std::vector<double>& y, double r) {
  auto mean_dist = [r](const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0.0;
    for (std::size_t i = 0; i < a.size() / 2; ++i)
      for (std::size_t j = 0; j < b.size() / 2; ++j)
        s += std::pow(std::hypot(a[2 * i] - b[2 * j], a[2 * i + 1] - b[2 * j + 1]), r);
    return s / (double(a.size() / 2) * (b.size() / 2));
  };
  return mean_dist(x, y) - 0.5 * mean_dist(x, x) - 0.5 * mean_dist(y, y);
}

double json_number(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\": ";
  const auto p = json.find(k);
  REQUIRE_MESSAGE(p != std::string::npos, key);
  return std::stod(json.substr(p + k.size()));
}

}  // namespace

TEST_CASE("sample_eta_star: radial law (KS vs quadrature), second moment, uniform directions") {
  struct Case {
    int d;
    double r;
  };
  const index_t N = 20000;
  for (Case k : {Case{1, 0.5}, Case{1, 1.5}, Case{2, 1.0}, Case{2, 0.3}, Case{2, 1.8}, Case{3, 0.5},
                 Case{3, 1.0}, Case{5, 1.5}, Case{10, 0.5}}) {
    const EtaStar e = eta_star(k.d, k.r);
    const double scale = 2.0;  // a power of two: radius / scale is exact at the ball's edge
    std::vector<double> x(std::size_t(N) * k.d);
    sample_eta_star(k.d, k.r, scale, N, 42, 7, x.data());
    const std::vector<double> rad = norms(x, k.d);
    CAPTURE(k.d);
    CAPTURE(k.r);
    if (e.ball) {
      const double ks = ks_statistic(
          rad, [&](double rho) { return ball_radial_cdf_quadrature(e, rho / scale); }, 1e-14);
      CHECK(ks < ks_critical(rad.size()));
      CHECK(*std::max_element(rad.begin(), rad.end()) <= scale * e.s * (1 + 1e-14));
    } else {
      for (double v : rad) CHECK(v == doctest::Approx(scale * e.c).epsilon(1e-13));
    }
    std::vector<double> sq(rad.size());
    for (std::size_t i = 0; i < rad.size(); ++i) sq[i] = rad[i] * rad[i];
    const auto [m2, se2] = mean_se(sq);
    CHECK(std::abs(m2 - scale * scale * e.second_moment) <= 4.0 * se2 + 1e-12 * m2);
    // Directions: each coordinate of x/|x| has mean 0 and second moment 1/d.
    for (int j = 0; j < std::min(k.d, 3); ++j) {
      std::vector<double> c(N), c2(N);
      for (index_t i = 0; i < N; ++i) {
        c[i] = x[i * k.d + j] / rad[i];
        c2[i] = c[i] * c[i];
      }
      const auto [m, se] = mean_se(c);
      CHECK(std::abs(m) <= 4.0 * se);
      if (k.d > 1) {
        const auto [q, seq] = mean_se(c2);
        CHECK(std::abs(q - 1.0 / k.d) <= 4.0 * seq);
      }
    }
    if (k.d == 2) {  // the angle is uniform on (-pi, pi]
      std::vector<double> ang(N);
      for (index_t i = 0; i < N; ++i) ang[i] = std::atan2(x[2 * i + 1], x[2 * i]);
      CHECK(ks_statistic(ang, [](double a) { return (a + kPi) / (2.0 * kPi); }) < ks_critical(N));
    }
  }
}

TEST_CASE("sample_eta_star: reproducible from (seed, stream), independent of the thread count") {
  const int d = 3;
  const index_t N = 4001;
  std::vector<double> a(N * d), b(N * d), c(N * d), prefix(100 * d);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  sample_eta_star(d, 0.5, 2.0, N, 9, 1, a.data());
  omp_set_num_threads(std::max(2, threads));
  sample_eta_star(d, 0.5, 2.0, N, 9, 1, b.data());
  sample_eta_star(d, 0.5, 2.0, 100, 9, 1, prefix.data());
  sample_eta_star(d, 0.5, 2.0, N, 9, 2, c.data());
  omp_set_num_threads(threads);
  CHECK(a == b);
  CHECK(std::equal(prefix.begin(), prefix.end(), a.begin()));  // sample i depends on i only
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == c[i];
  CHECK(same == 0);
  CHECK_THROWS_AS(sample_eta_star(d, 0.5, -1.0, 10, 0, 0, a.data()), Error);
  CHECK_THROWS_AS(sample_eta_star(0, 0.5, 1.0, 10, 0, 0, a.data()), Error);
}

TEST_CASE("the samplers' first_row: rows [k, k + m) of the full draw (a sharded run's own rows)") {
  const index_t N = 700, k = 193, m = 250;
  // eta* (d = 3), gamma(t) of the line flow, the barycenter of a circle and a square boundary.
  std::vector<double> full(N * 3), part(m * 3);
  sample_eta_star(3, 1.5, 0.7, N, 4, 8, full.data());
  sample_eta_star(3, 1.5, 0.7, m, 4, 8, part.data(), k);
  CHECK(std::equal(part.begin(), part.end(), full.begin() + k * 3));
  sample_eta_star(3, 1.5, 0.7, m, 4, 8, part.data(), k + 1);  // one row on: other rows
  CHECK_FALSE(std::equal(part.begin(), part.end(), full.begin() + k * 3));
  std::vector<double> lf(N), lp(m);
  sample_line_flow(0.8, N, 4, 8, lf.data());
  sample_line_flow(0.8, m, 4, 8, lp.data(), k);
  CHECK(std::equal(lp.begin(), lp.end(), lf.begin() + k));
  const std::vector<BarycenterComponent> comps{{Curve2d::unit_circle, 0.3},
                                               {Curve2d::square_boundary, 0.7}};
  std::vector<double> bf(N * 2), bp(m * 2);
  sample_barycenter(comps, N, 4, 8, bf.data());
  sample_barycenter(comps, m, 4, 8, bp.data(), k);
  CHECK(std::equal(bp.begin(), bp.end(), bf.begin() + k * 2));
}

TEST_CASE("gamma(t) and mu_tau^n samples: second moments f(t)^2 E|X|^2 and f_tau^2 E|X|^2") {
  const int d = 2;
  const double r = 1.5, tau = 0.05;
  const int n = 8;
  const EtaStar e = eta_star(d, r);
  const index_t N = 20000;
  for (double scale : {limit_scale(r, n * tau), jko_scale(r, tau, n)}) {
    std::vector<double> x(N * d);
    sample_eta_star(d, r, scale, N, 3, 0, x.data());
    std::vector<double> sq = norms(x, d);
    for (double& v : sq) v *= v;
    const auto [m, se] = mean_se(sq);
    CHECK(std::abs(m - scale * scale * e.second_moment) <= 4.0 * se);
  }
}

TEST_CASE(
    "line flow (App. G): solves the quantile gradient flow of F_{delta_0} and its MMD value") {
  // In quantile coordinates, D_K^2(mu, delta_0) = ∫|Q| - 1/2 ∫∫|Q(u)-Q(v)| has L2 gradient
  // sign(Q(u)) - (2u - 1), so the flow is dQ/dt = 2u - 1 - sign(Q) where Q < 0.
  for (double t : {0.1, 0.3, 0.45, 0.7, 2.0}) {
    for (double u : {0.05, 0.2, 0.5, 0.8, 0.95}) {
      const double q = line_flow_quantile(t, u);
      const double h = 1e-6;
      const double dq = (line_flow_quantile(t + h, u) - line_flow_quantile(t - h, u)) / (2 * h);
      CAPTURE(t);
      CAPTURE(u);
      if (q < -1e-5) {
        CHECK(dq == doctest::Approx(2 * u - 1 + 1).epsilon(1e-6));
      } else {
        CHECK(q == 0.0);  // arrived at the target; 2u - 1 lies in the subdifferential [-1, 1]
        CHECK(dq == 0.0);
      }
      CHECK(line_flow_cdf(t, q - 1e-12) <= u);
      if (q < 0.0) CHECK(line_flow_cdf(t, q) == doctest::Approx(u).epsilon(1e-12));
    }
    // Energy dissipation: d/dt D^2(gamma(t), delta_0) = -||dQ/dt||^2 = -∫_0^{min(1, 1/(2t))} (2u)^2
    // du.
    const double m = std::min(1.0, 0.5 / t);
    const double h = 1e-6;
    const double ddt = (line_flow_mmd2(t + h) - line_flow_mmd2(t - h)) / (2 * h);
    CHECK(ddt == doctest::Approx(-4.0 * m * m * m / 3.0).epsilon(1e-6));
    // Value against the V-statistic of exact samples.
    const index_t N = 3000;
    std::vector<double> x(N);
    sample_line_flow(t, N, 5, 0, x.data());
    CHECK(mmd2_line(x, {0.0}) == doctest::Approx(line_flow_mmd2(t)).epsilon(0.03));
    // KS on the absolutely continuous part x < 0; the atom at 0 has mass 1 - 1/(2t) for t > 1/2.
    std::sort(x.begin(), x.end());
    double ks = 0.0;
    index_t atoms = 0;
    for (index_t i = 0; i < N; ++i) {
      if (x[i] == 0.0) {
        ++atoms;
        continue;
      }
      const double f = line_flow_cdf(t, x[i]);
      ks = std::max({ks, std::abs(f - double(i) / N), std::abs(double(i + 1) / N - f)});
    }
    CHECK(ks < ks_critical(N));
    const double atom = std::max(0.0, 1.0 - 0.5 / t);
    CHECK(std::abs(double(atoms) / N - atom) <= 4.0 * std::sqrt(atom * (1 - atom) / N) + 1e-12);
  }
  CHECK(line_flow_mmd2(0.0) == 1.0);  // D^2(delta_{-1}, delta_0) = 1/2 (0 + 0 + 2 * 1)
  CHECK(line_flow_quantile(0.0, 0.3) == -1.0);
  CHECK_THROWS_AS(line_flow_quantile(-1.0, 0.5), Error);
}

TEST_CASE("barycenter (App. H Ex. 4): curves, weights, and the mixture minimises sum alpha_i D^2") {
  const index_t N = 20000;
  std::vector<double> circ(2 * N), sq(2 * N);
  sample_curve(Curve2d::unit_circle, N, 1, 0, circ.data());
  sample_curve(Curve2d::square_boundary, N, 1, 1, sq.data());
  std::vector<double> ang(N), per(N);
  for (index_t i = 0; i < N; ++i) {
    const double *c = &circ[2 * i], *s = &sq[2 * i];
    CHECK(std::hypot(c[0], c[1]) == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(std::max(std::abs(s[0]), std::abs(s[1])) == doctest::Approx(1.0).epsilon(1e-14));
    ang[i] = std::atan2(c[1], c[0]);
    // Side index (right, top, left, bottom) plus the position along it: uniform on [0, 4).
    if (s[0] == 1.0)
      per[i] = 0.5 * (s[1] + 1.0);
    else if (s[1] == 1.0)
      per[i] = 1.0 + 0.5 * (1.0 - s[0]);
    else if (s[0] == -1.0)
      per[i] = 2.0 + 0.5 * (1.0 - s[1]);
    else
      per[i] = 3.0 + 0.5 * (s[0] + 1.0);
  }
  CHECK(ks_statistic(ang, [](double a) { return (a + kPi) / (2 * kPi); }) < ks_critical(N));
  CHECK(ks_statistic(per, [](double p) { return p / 4.0; }) < ks_critical(N));

  // Mixture weights: the fraction of points off the unit circle.
  const double alpha2 = 0.3;
  std::vector<double> mix(2 * N);
  sample_barycenter({{Curve2d::unit_circle, 1 - alpha2}, {Curve2d::square_boundary, alpha2}}, N, 2,
                    0, mix.data());
  double off = 0;
  for (index_t i = 0; i < N; ++i)
    off += std::abs(std::hypot(mix[2 * i], mix[2 * i + 1]) - 1.0) > 1e-9;
  CHECK(std::abs(off / N - alpha2) <= 4.0 * std::sqrt(alpha2 * (1 - alpha2) / N));

  // sum_i alpha_i D_K^2(mu, mu_i) over mixtures mu = (1-b) mu_1 + b mu_2 is smallest at b = alpha_2
  // (Monte Carlo with common reference samples, r = 1 and r = 0.5).
  const index_t M = 1500;
  std::vector<double> ref1(2 * M), ref2(2 * M);
  sample_curve(Curve2d::unit_circle, M, 11, 0, ref1.data());
  sample_curve(Curve2d::square_boundary, M, 11, 1, ref2.data());
  for (double r : {1.0, 0.5}) {
    auto objective = [&](double b) {
      std::vector<double> m(2 * M);
      sample_barycenter({{Curve2d::unit_circle, 1 - b}, {Curve2d::square_boundary, b}}, M, 12, 0,
                        m.data());
      return (1 - alpha2) * mmd2_plane(m, ref1, r) + alpha2 * mmd2_plane(m, ref2, r);
    };
    const double best = objective(alpha2);
    CAPTURE(r);
    CHECK(best < objective(0.0));
    CHECK(best < objective(0.8));
  }
  CHECK_THROWS_AS(sample_barycenter({{Curve2d::unit_circle, 0.5}}, 10, 0, 0, mix.data()), Error);
  CHECK_THROWS_AS(sample_barycenter({{Curve2d::unit_circle, -0.5}, {Curve2d::unit_circle, 1.5}}, 10,
                                    0, 0, mix.data()),
                  Error);
}

TEST_CASE("CLI: nwgf analytic prints eta* and the JKO arrays") {
  auto res = test::run_cli("analytic --d 2 --r 1 --tau 0.1 --steps 4");
  REQUIRE(res.exit_code == 0);
  CHECK(res.out.find("\"case\": \"ball\"") != std::string::npos);
  CHECK(json_number(res.out, "s") == doctest::Approx(kPi / 4).epsilon(1e-15));
  CHECK(json_number(res.out, "radius") == doctest::Approx(kPi / 4).epsilon(1e-15));
  CHECK(json_number(res.out, "A_s") == doctest::Approx(2.0 / (kPi * kPi)).epsilon(1e-14));
  CHECK(res.out.find("\"t_tau\": [0.1") != std::string::npos);
  CHECK(res.out.find("\"f_tau\": [") != std::string::npos);
  CHECK(res.out.find("\"f\": [") != std::string::npos);
  res = test::run_cli("analytic --d 3 --r 1");
  REQUIRE(res.exit_code == 0);
  CHECK(res.out.find("\"case\": \"sphere\"") != std::string::npos);
  CHECK(json_number(res.out, "c") == doctest::Approx(2.0 / 3.0).epsilon(1e-15));
  CHECK(json_number(res.out, "second_moment") == doctest::Approx(4.0 / 9.0).epsilon(1e-15));
  CHECK(res.out.find("t_tau") == std::string::npos);
}

TEST_CASE("CLI: sample-analytic writes exact samples; bad input exits 2 naming the flag") {
  const std::string out = test::tmp_path("analytic_samples.npy");
  auto res =
      test::run_cli("sample-analytic --d 3 --r 1 --t 0.5 --n 1000 --seed 4 --out '" + out + "'");
  REQUIRE(res.exit_code == 0);
  HostMatrix<double> m = read_npy<double>(out);
  REQUIRE(m.rows == 1000);
  REQUIRE(m.cols == 3);
  const std::vector<double> rad = norms(m.data, 3);
  for (double v : rad)
    CHECK(v == doctest::Approx(0.5 * 2.0 / 3.0).epsilon(1e-12));  // f(t) = t at r = 1
  // jko: t = n tau, scale f_tau(n tau).
  res = test::run_cli(
      "sample-analytic --d 2 --r 1.5 --t 0.3 --tau 0.1 --scheme jko --n 500 --out '" + out + "'");
  REQUIRE(res.exit_code == 0);
  CHECK(json_number(res.out, "scale") == doctest::Approx(jko_scale(1.5, 0.1, 3)).epsilon(1e-14));
  m = read_npy<double>(out);
  for (double v : norms(m.data, 2)) CHECK(v <= jko_scale(1.5, 0.1, 3) * eta_star(2, 1.5).s);

  struct Bad {
    std::string args, flag;
  };
  const std::string o = " --out '" + out + "'";
  for (const Bad& b :
       {Bad{"analytic --d 0 --r 1", "--d"}, Bad{"analytic --d 2 --r 2", "--r"},
        Bad{"analytic --d 2 --r 0", "--r"}, Bad{"analytic --d 2 --r 1 --tau -1 --steps 3", "--tau"},
        Bad{"analytic --d 2 --r 1 --tau 0.1", "--steps"},
        Bad{"analytic --d 2 --r 1 --steps 3", "--tau"},
        Bad{"analytic --d 2 --r 1 --tau 0.1 --steps 0", "--steps"},
        Bad{"sample-analytic --d 2 --r 1 --t -1 --n 10" + o, "--t"},
        Bad{"sample-analytic --d 2 --r 1 --t 1 --n 0" + o, "--n"},
        Bad{"sample-analytic --d 2 --r 1 --t 1 --n 10 --scheme euler" + o, "--scheme"},
        Bad{"sample-analytic --d 2 --r 1 --t 1 --n 10 --scheme jko" + o, "--tau"},
        Bad{"sample-analytic --d 2 --r 1 --t 0.25 --tau 0.1 --n 10 --scheme jko" + o, "--t"},
        Bad{"sample-analytic --d 2 --r 1 --t 1 --tau 0 --n 10 --scheme jko" + o, "--tau"},
        Bad{"sample-analytic --d 2 --r 3 --t 1 --n 10" + o, "--r"},
        Bad{"sample-analytic --d 2 --r 1.99 --t 1e6 --n 10" + o, "--t"}}) {
    res = test::run_cli(b.args);
    CAPTURE(b.args);
    CHECK(res.exit_code == 2);
    CHECK(res.err.rfind("error: ", 0) == 0);
    CHECK(res.err.find(b.flag) != std::string::npos);
    CHECK(std::count(res.err.begin(), res.err.end(), '\n') == 1);
  }
}
