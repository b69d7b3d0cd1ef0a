#include "nwgf/analytic/riesz_flow.hpp"

#include <algorithm>
#include <boost/math/constants/constants.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/hypergeometric_pFq.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/philox.hpp"

namespace nwgf {
namespace {

void check_d_r(int d, double r) {
  if (d < 1) throw_bad_input("d = " + std::to_string(d) + ": dimension must be >= 1");
  if (!(r > 0.0 && r < 2.0)) throw_bad_input("r = " + std::to_string(r) + ": must lie in (0, 2)");
}

void check_tau(double tau) {
  if (!(tau > 0.0) || !std::isfinite(tau)) {
    throw_bad_input("tau = " + std::to_string(tau) + ": must be positive and finite");
  }
}

// Parameters of the Beta law of |X|^2 / s^2 in the ball case.
double beta_a(const EtaStar& eta) { return 0.5 * eta.d; }
double beta_b(const EtaStar& eta) { return 2.0 - 0.5 * (eta.r + eta.d); }

// t_{tau,k} from t_prev = t_{tau,k-1}: zero of h(t) = t_prev^{1/(2-r)} t^{(1-r)/(2-r)} - t + tau.
// h(tau) >= 0 and h -> -inf, which gives the sign bracket. Newton starts at t_prev + (2-r) tau,
// left of the zero for r >= 1 and right of it for r <= 1 (Lemma C.6 (i)); from there it converges
// monotonically, as h is convex decreasing for r >= 1 and concave for r < 1.
double jko_step(double r, double tau, double t_prev) {
  if (t_prev == 0.0) return tau;
  const double p = (1.0 - r) / (2.0 - r);
  const double log_prev = std::log(t_prev) / (2.0 - r);
  // t_prev^{1/(2-r)} t^p in log form: both factors may overflow alone when r is near 2.
  auto attraction = [&](double t) { return std::exp(log_prev + p * std::log(t)); };
  auto h = [&](double t) { return attraction(t) - t + tau; };
  double lo = tau;
  double hi = 2.0 * (t_prev + tau);
  while (h(hi) >= 0.0) {
    lo = hi;
    hi *= 2.0;
    if (!std::isfinite(hi)) throw_numerical("jko_times: no sign change of h (t_prev overflow)");
  }
  double t = std::clamp(t_prev + (2.0 - r) * tau, lo, hi);
  constexpr double eps = std::numeric_limits<double>::epsilon();
  for (int it = 0; it < 200; ++it) {
    const double ht = h(t);
    if (ht == 0.0) return t;
    (ht > 0.0 ? lo : hi) = t;
    const double dh = attraction(t) * p / t - 1.0;
    const double newton = t - ht / dh;
    if (std::abs(newton - t) <= 4.0 * eps * t) return newton;
    // Outside the bracket only through rounding far from the zero: bisect instead.
    t = (newton > lo && newton < hi) ? newton : 0.5 * (lo + hi);
    if (hi - lo <= 4.0 * eps * hi) return t;
  }
  throw_numerical("jko_times: Newton iteration did not converge");
}

}  // namespace

double hyp2f1_at_one(double a, double b, double c) {
  if (!(c - a - b > 0.0)) {
    throw_bad_input("2F1(a, b; c; 1) diverges unless c - a - b > 0 (got " +
                    std::to_string(c - a - b) + ")");
  }
  return boost::math::hypergeometric_pFq({a, b}, {c}, 1.0);
}

EtaStar eta_star(int d, double r) {
  check_d_r(d, r);
  EtaStar e{d, r, d + r < 4.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  const double dd = d;
  if (e.ball) {
    using boost::math::tgamma;
    const double s_pow = tgamma(2.0 - 0.5 * r) * tgamma(0.5 * (dd + r)) * r /
                         (0.5 * dd * tgamma(0.5 * dd));  // s^{2-r}
    e.s = std::pow(s_pow, 1.0 / (2.0 - r));
    e.A_s = tgamma(0.5 * dd) / s_pow /
            (std::pow(boost::math::constants::pi<double>(), 0.5 * dd) *
             boost::math::beta(0.5 * dd, 2.0 - 0.5 * (r + dd)));
    e.radius = e.s;
    e.second_moment = e.s * e.s * dd / (4.0 - r);  // s^2 E[Beta(d/2, 2-(r+d)/2)]
  } else {
    const double c_pow = 0.5 * r * hyp2f1_at_one(-0.5 * r, 0.5 * (2.0 - r - dd), 0.5 * dd);
    e.c = std::pow(c_pow, 1.0 / (2.0 - r));
    e.radius = e.c;
    e.second_moment = e.c * e.c;
  }
  return e;
}

double eta_star_radial_cdf(const EtaStar& eta, double rho) {
  if (!eta.ball) return rho >= eta.c ? 1.0 : 0.0;
  if (rho <= 0.0) return 0.0;
  if (rho >= eta.s) return 1.0;
  return boost::math::ibeta(beta_a(eta), beta_b(eta), (rho / eta.s) * (rho / eta.s));
}

double eta_star_radial_quantile(const EtaStar& eta, double u) {
  if (!(u > 0.0 && u < 1.0))
    throw_bad_input("radial quantile: u = " + std::to_string(u) + " not in (0, 1)");
  if (!eta.ball) return eta.c;
  return eta.s * std::sqrt(boost::math::ibeta_inv(beta_a(eta), beta_b(eta), u));
}

double limit_scale(double r, double t) {
  check_d_r(1, r);
  if (!(t >= 0.0)) throw_bad_input("t = " + std::to_string(t) + ": must be >= 0");
  return std::pow((2.0 - r) * t, 1.0 / (2.0 - r));
}

std::vector<double> jko_times(double r, double tau, int n) {
  check_d_r(1, r);
  check_tau(tau);
  if (n < 0) throw_bad_input("n = " + std::to_string(n) + ": number of steps must be >= 0");
  std::vector<double> t(n);
  double prev = 0.0;
  for (int k = 0; k < n; ++k) prev = t[k] = jko_step(r, tau, prev);
  return t;
}

double jko_scale(double r, double tau, int n) {
  const std::vector<double> t = jko_times(r, tau, n);
  return n == 0 ? 0.0 : std::pow(t.back(), 1.0 / (2.0 - r));
}

std::vector<double> forward_scales(double tau, int n) {
  check_tau(tau);
  if (n < 0) throw_bad_input("n = " + std::to_string(n) + ": number of steps must be >= 0");
  std::vector<double> a(n);
  for (int k = 0; k < n; ++k) a[k] = (k + 1) * tau;
  return a;
}

void sample_eta_star(int d, double r, double scale, index_t n, std::uint64_t seed,
                     std::uint64_t stream, double* out, index_t first_row) {
  const EtaStar eta = eta_star(d, r);
  if (!(scale >= 0.0) || !std::isfinite(scale)) {
    throw_bad_input("scale = " + std::to_string(scale) + ": must be >= 0 and finite");
  }
  if (n < 0) throw_bad_input("n = " + std::to_string(n) + ": sample count must be >= 0");
  const std::uint64_t normal_blocks = (std::uint64_t(d) + 1) / 2;
  const std::uint64_t blocks_per_sample = normal_blocks + 1;
#pragma omp parallel for schedule(static)
  for (index_t i = 0; i < n; ++i) {
    double* x = out + i * d;  // (d)
    const std::uint64_t base = std::uint64_t(first_row + i) * blocks_per_sample;
    double norm2 = 0.0;
    for (std::uint64_t k = 0; k < normal_blocks; ++k) {
      double z[2];
      philox_normal_block(philox_block(seed, stream, base + k), z);
      for (int j = 0; j < 2 && 2 * k + j < std::uint64_t(d); ++j) {
        x[2 * k + j] = z[j];
        norm2 += z[j] * z[j];
      }
    }
    if (norm2 == 0.0) {  // probability zero; any unit vector keeps the law
      x[0] = 1.0;
      norm2 = 1.0;
    }
    double u[2];
    philox_uniform_block(philox_block(seed, stream, base + normal_blocks), u);
    const double factor = scale * eta_star_radial_quantile(eta, u[0]) / std::sqrt(norm2);
    for (int j = 0; j < d; ++j) x[j] *= factor;
  }
}

}  // namespace nwgf
