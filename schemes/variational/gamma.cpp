#include "nwgf/schemes/variational/gamma.hpp"

#include <cmath>

#include "nwgf/engine/error.hpp"
#include "nwgf/schemes/ift/weight_ranks.hpp"

namespace nwgf {

GaussianMoments kl_target(const MeasureConfig& target, index_t d) {
  GaussianMoments g;
  g.mean = target.points.empty() ? std::vector<double>(std::size_t(d), 0.0) : target.points[0];
  if (!target.cov.empty()) {
    g.cov = target.cov;
    return g;
  }
  g.cov.assign(std::size_t(d * d), 0.0);
  for (index_t i = 0; i < d; ++i) g.cov[std::size_t(i * d + i)] = target.radius * target.radius;
  return g;
}

GaussianFit gaussian_fit_of(const GaussianMoments& g) {
  const index_t d = g.dim();
  const auto l = cholesky(g.cov, d);
  if (!l) throw_numerical("the Gaussian fit of the particles is degenerate (not positive definite)");
  GaussianFit f;
  f.moments = g;
  f.cholesky = *l;
  f.precision = spd_inverse_from_cholesky(*l, d);
  f.log_det = log_det_from_cholesky(*l, d);
  return f;
}

GaussianFit fit_gaussian(const std::vector<double>& x, index_t n, index_t d) {
  return gaussian_fit_of(moment_fit(x.data(), n, d));
}

double largest_abs(const std::vector<double>& x) {
  double m = 0;
  for (double v : x) m = std::max(m, std::fabs(v));
  return m;
}

double fit_box(const std::vector<double>& x) {
  const double m = largest_abs(x);
  if (!(m > 0) || !std::isfinite(m)) throw_numerical("the particles collapsed to the origin");
  return 1.5 * m;
}

// The loops of moment_fit, each pass's sums continued rank to rank.
GaussianMoments moment_fit_rows(const Comm& comm, const double* x, index_t rows, index_t n,
                                index_t d) {
  GaussianMoments g;
  g.mean.assign(std::size_t(d), 0.0);
  g.cov.assign(std::size_t(d * d), 0.0);
  sum_in_row_order(comm, g.mean.data(), int(d),
                   [&](double* mean) { moment_sum_mean(x, rows, d, mean); });
  for (double& m : g.mean) m /= double(n);
  sum_in_row_order(comm, g.cov.data(), int(d * d),
                   [&](double* cov) { moment_sum_cov(x, rows, d, g.mean.data(), cov); });
  moment_finish(g, n, d);
  return g;
}

}  // namespace nwgf
