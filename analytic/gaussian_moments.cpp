#include "nwgf/analytic/gaussian_moments.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nwgf/engine/error.hpp"

namespace nwgf {

std::optional<std::vector<double>> cholesky(const std::vector<double>& a, index_t d) {
  std::vector<double> l(std::size_t(d * d), 0.0);
  for (index_t j = 0; j < d; ++j) {
    double s = a[std::size_t(j * d + j)];
    for (index_t k = 0; k < j; ++k) s -= l[std::size_t(j * d + k)] * l[std::size_t(j * d + k)];
    if (!(s > 0) || !std::isfinite(s)) return std::nullopt;
    const double ljj = std::sqrt(s);
    l[std::size_t(j * d + j)] = ljj;
    for (index_t i = j + 1; i < d; ++i) {
      double t = a[std::size_t(i * d + j)];
      for (index_t k = 0; k < j; ++k) t -= l[std::size_t(i * d + k)] * l[std::size_t(j * d + k)];
      l[std::size_t(i * d + j)] = t / ljj;
    }
  }
  return l;
}

std::vector<double> spd_inverse_from_cholesky(const std::vector<double>& l, index_t d) {
  // Columns of L^-1 by forward substitution, then A^-1 = L^-T L^-1.
  std::vector<double> li(std::size_t(d * d), 0.0);
  for (index_t c = 0; c < d; ++c) {
    for (index_t i = c; i < d; ++i) {
      double s = i == c ? 1.0 : 0.0;
      for (index_t k = c; k < i; ++k) s -= l[std::size_t(i * d + k)] * li[std::size_t(k * d + c)];
      li[std::size_t(i * d + c)] = s / l[std::size_t(i * d + i)];
    }
  }
  std::vector<double> inv(std::size_t(d * d), 0.0);
  for (index_t i = 0; i < d; ++i)
    for (index_t j = 0; j < d; ++j) {
      double s = 0;
      for (index_t k = std::max(i, j); k < d; ++k)
        s += li[std::size_t(k * d + i)] * li[std::size_t(k * d + j)];
      inv[std::size_t(i * d + j)] = s;
    }
  return inv;
}

double log_det_from_cholesky(const std::vector<double>& l, index_t d) {
  double s = 0;
  for (index_t i = 0; i < d; ++i) s += std::log(l[std::size_t(i * d + i)]);
  return 2 * s;
}

SymmetricEigen symmetric_eigen(const std::vector<double>& a_in, index_t d) {
  std::vector<double> a = a_in, v(std::size_t(d * d), 0.0);
  for (index_t i = 0; i < d; ++i) v[std::size_t(i * d + i)] = 1;
  auto at = [&](std::vector<double>& m, index_t i, index_t j) -> double& {
    return m[std::size_t(i * d + j)];
  };
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, diag = 0;
    for (index_t i = 0; i < d; ++i)
      for (index_t j = 0; j < d; ++j) (i == j ? diag : off) += at(a, i, j) * at(a, i, j);
    if (off <= 1e-30 * diag) break;
    for (index_t p = 0; p < d; ++p)
      for (index_t q = p + 1; q < d; ++q) {
        const double apq = at(a, p, q);
        if (apq == 0) continue;
        // The rotation that zeroes a_pq (Golub & Van Loan, Alg. 8.4.1).
        const double theta = (at(a, q, q) - at(a, p, p)) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (index_t k = 0; k < d; ++k) {  // A <- A J (columns p, q)
          const double akp = at(a, k, p), akq = at(a, k, q);
          at(a, k, p) = c * akp - s * akq;
          at(a, k, q) = s * akp + c * akq;
        }
        for (index_t k = 0; k < d; ++k) {  // A <- J^T A (rows p, q)
          const double apk = at(a, p, k), aqk = at(a, q, k);
          at(a, p, k) = c * apk - s * aqk;
          at(a, q, k) = s * apk + c * aqk;
        }
        for (index_t k = 0; k < d; ++k) {  // V <- V J
          const double vkp = at(v, k, p), vkq = at(v, k, q);
          at(v, k, p) = c * vkp - s * vkq;
          at(v, k, q) = s * vkp + c * vkq;
        }
      }
  }
  std::vector<index_t> order(static_cast<std::size_t>(d));
  std::iota(order.begin(), order.end(), index_t(0));
  std::sort(order.begin(), order.end(),
            [&](index_t x, index_t y) { return at(a, x, x) < at(a, y, y); });
  SymmetricEigen e;
  e.values.resize(std::size_t(d));
  e.vectors.resize(std::size_t(d * d));
  for (index_t k = 0; k < d; ++k) {
    e.values[std::size_t(k)] = at(a, order[std::size_t(k)], order[std::size_t(k)]);
    for (index_t i = 0; i < d; ++i) e.vectors[std::size_t(i * d + k)] = at(v, i, order[std::size_t(k)]);
  }
  return e;
}

double gaussian_kl(const GaussianMoments& p, const GaussianMoments& q) {
  const index_t d = p.dim();
  const auto lp = cholesky(p.cov, d), lq = cholesky(q.cov, d);
  if (!lp || !lq) throw_runtime("gaussian_kl: a covariance is not positive definite");
  const std::vector<double> qi = spd_inverse_from_cholesky(*lq, d);
  double tr = 0, quad = 0;
  for (index_t i = 0; i < d; ++i)
    for (index_t j = 0; j < d; ++j) {
      tr += qi[std::size_t(i * d + j)] * p.cov[std::size_t(j * d + i)];
      quad += (q.mean[std::size_t(i)] - p.mean[std::size_t(i)]) * qi[std::size_t(i * d + j)] *
              (q.mean[std::size_t(j)] - p.mean[std::size_t(j)]);
    }
  return 0.5 * (tr + quad - double(d) + log_det_from_cholesky(*lq, d) -
                log_det_from_cholesky(*lp, d));
}

double symmetric_kl(const GaussianMoments& p, const GaussianMoments& q) {
  return gaussian_kl(p, q) + gaussian_kl(q, p);
}

void moment_sum_mean(const double* x, index_t rows, index_t d, double* mean) {
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < d; ++j) mean[j] += x[i * d + j];
}

void moment_sum_cov(const double* x, index_t rows, index_t d, const double* mean, double* cov) {
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < d; ++j) {
      const double cj = x[i * d + j] - mean[j];
      for (index_t k = 0; k <= j; ++k) cov[j * d + k] += cj * (x[i * d + k] - mean[k]);
    }
}

void moment_finish(GaussianMoments& g, index_t n, index_t d) {
  for (index_t j = 0; j < d; ++j)
    for (index_t k = 0; k <= j; ++k) {
      const double c = g.cov[std::size_t(j * d + k)] / double(n);
      g.cov[std::size_t(j * d + k)] = c;
      g.cov[std::size_t(k * d + j)] = c;
    }
}

GaussianMoments moment_fit(const double* x, index_t n, index_t d) {
  GaussianMoments g;
  g.mean.assign(std::size_t(d), 0.0);
  g.cov.assign(std::size_t(d * d), 0.0);
  moment_sum_mean(x, n, d, g.mean.data());
  for (double& m : g.mean) m /= double(n);
  moment_sum_cov(x, n, d, g.mean.data(), g.cov.data());
  moment_finish(g, n, d);
  return g;
}

}  // namespace nwgf
