#include "nwgf/analytic/barenblatt.hpp"

#include <algorithm>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <vector>

#include "nwgf/engine/philox.hpp"

namespace nwgf {
namespace {

const double pi = 3.14159265358979323846;

// |S^{n-1}| = 2 pi^{n/2} / Gamma(n/2).
double sphere_area(index_t n) { return 2 * std::pow(pi, 0.5 * double(n)) / std::tgamma(0.5 * double(n)); }

}  // namespace

double Barenblatt::alpha() const { return double(n) / (double(n) * (m - 1) + 2); }
double Barenblatt::k() const { return (m - 1) * alpha() / (2 * m * double(n)); }

double Barenblatt::density(double r, double t) const {
  const double v = c - k() * r * r * std::pow(t, -2 * alpha() / double(n));
  return v > 0 ? std::pow(t, -alpha()) * std::pow(v, p()) : 0.0;
}

double Barenblatt::mass() const {
  const double h = 0.5 * double(n);
  return sphere_area(n) * std::pow(c, p() + h) * std::pow(k(), -h) * boost::math::beta(h, p() + 1) / 2;
}

double Barenblatt::support_radius(double t) const {
  return std::sqrt(c / k()) * std::pow(t, alpha() / double(n));
}

double Barenblatt::second_moment(double t) const {
  const double r = support_radius(t);
  return r * r * double(n) / (double(n) + 2 * p() + 2);
}

double Barenblatt::radius_quantile(double u, double t) const {
  if (u <= 0) return 0;
  if (u >= 1) return support_radius(t);
  return support_radius(t) * std::sqrt(boost::math::ibeta_inv(0.5 * double(n), p() + 1, u));
}

Barenblatt barenblatt_unit(index_t n, double m) {
  Barenblatt b;
  b.n = n;
  b.m = m;
  b.c = 1;
  // M(C) = M(1) C^{p + n/2}.
  b.c = std::pow(1 / b.mass(), 1 / (b.p() + 0.5 * double(n)));
  return b;
}

void sample_barenblatt(const Barenblatt& b, double t, index_t rows, std::uint64_t seed,
                       std::uint64_t stream, double* out) {
  sample_barenblatt_rows(b, t, 0, rows, seed, stream, out);
}

void sample_barenblatt_rows(const Barenblatt& b, double t, index_t first, index_t last,
                            std::uint64_t seed, std::uint64_t stream, double* out) {
  const index_t n = b.n;
  for (index_t i = first; i < last; ++i) {
    const std::uint64_t at = std::uint64_t(i * (n + 1));
    const double r = b.radius_quantile(philox_uniform<double>(seed, stream, at), t);
    double* row = out + (i - first) * n;
    double norm2 = 0;
    for (index_t j = 0; j < n; ++j) {
      row[j] = philox_normal<double>(seed, stream, at + 1 + std::uint64_t(j));
      norm2 += row[j] * row[j];
    }
    const double s = norm2 > 0 ? r / std::sqrt(norm2) : 0.0;
    for (index_t j = 0; j < n; ++j) row[j] *= s;
  }
}

void row_radii(const double* x, index_t rows, index_t n, double* r) {
  for (index_t i = 0; i < rows; ++i) {
    double s = 0;
    for (index_t j = 0; j < n; ++j) s += x[i * n + j] * x[i * n + j];
    r[i] = std::sqrt(s);
  }
}

double radial_w1(const Barenblatt& b, double t, const double* x, index_t rows) {
  std::vector<double> r(static_cast<std::size_t>(rows));
  row_radii(x, rows, b.n, r.data());
  return radial_w1_of_radii(b, t, std::move(r));
}

double radial_w1_of_radii(const Barenblatt& b, double t, std::vector<double> r) {
  const index_t rows = index_t(r.size());
  std::sort(r.begin(), r.end());
  double w = 0;
  for (index_t i = 0; i < rows; ++i) {
    w += std::fabs(r[std::size_t(i)] - b.radius_quantile((double(i) + 0.5) / double(rows), t));
  }
  return w / double(rows);
}

}  // namespace nwgf
