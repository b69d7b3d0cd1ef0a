#include "nwgf/analytic/gaussian_mixture.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "nwgf/analytic/gaussian_mixture_math.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/philox.hpp"

namespace nwgf {

std::vector<double> cholesky_factor(const std::vector<double>& S, index_t d) {
  if (d < 1 || index_t(S.size()) != d * d) return {};
  double top = 0;
  for (double v : S) {
    if (!std::isfinite(v)) return {};
    top = std::max(top, std::fabs(v));
  }
  for (index_t i = 0; i < d; ++i) {
    for (index_t j = 0; j < i; ++j) {
      if (std::fabs(S[std::size_t(i * d + j)] - S[std::size_t(j * d + i)]) > 1e-12 * top) return {};
    }
  }
  std::vector<double> L(S.size());
  if (!gaussian_math::cholesky(S.data(), d, L.data())) return {};
  return L;
}

GaussianMixture::GaussianMixture(index_t d, const std::vector<std::vector<double>>& means,
                                 const std::vector<std::vector<double>>& covs,
                                 const std::vector<double>& weights, const std::string& key)
    : d_(d), K_(index_t(means.size())) {
  if (d < 1) throw_bad_input(key + ": d must be >= 1");
  if (K_ < 1) throw_bad_input(key + ": needs at least one component");
  if (covs.size() != means.size() || weights.size() != means.size()) {
    throw_bad_input(key + ": one mean, covariance and weight per component");
  }
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0) || !std::isfinite(w)) throw_bad_input(key + ": weights must be finite and >= 0");
    total += w;
  }
  if (!(total > 0)) throw_bad_input(key + ": weights must not all be 0");
  double acc = 0;
  for (index_t k = 0; k < K_; ++k) {
    const auto& m = means[std::size_t(k)];
    if (index_t(m.size()) != d) throw_bad_input(key + ": each mean needs d coordinates");
    const std::vector<double> L = cholesky_factor(covs[std::size_t(k)], d);
    if (L.empty()) {
      throw_bad_input(key + ": covariance " + std::to_string(k) +
                      " is not a symmetric positive-definite d x d matrix");
    }
    means_.insert(means_.end(), m.begin(), m.end());
    chols_.insert(chols_.end(), L.begin(), L.end());
    const double w = weights[std::size_t(k)] / total;
    log_w_.push_back(std::log(w));
    half_logdet_.push_back(gaussian_math::half_log_det(L.data(), d));
    acc += w;
    cdf_.push_back(acc);
  }
  cdf_.back() = 1.0;
}

double GaussianMixture::log_density(const double* x) const {
  std::vector<double> z(static_cast<std::size_t>(d_));
  return gaussian_math::mixture_log_density(x, K_, means_.data(), chols_.data(), log_w_.data(),
                                            half_logdet_.data(), d_, z.data(), nullptr);
}

double GaussianMixture::log_density_gradient(const double* x, double* grad) const {
  std::vector<double> z(static_cast<std::size_t>(d_));
  return gaussian_math::mixture_log_density(x, K_, means_.data(), chols_.data(), log_w_.data(),
                                            half_logdet_.data(), d_, z.data(), grad);
}

void GaussianMixture::sample(index_t n, std::uint64_t seed, std::uint64_t stream,
                             double* out) const {
  sample_rows(n, 0, n, seed, stream, out);
}

void GaussianMixture::sample_rows(index_t n, index_t first, index_t last, std::uint64_t seed,
                                  std::uint64_t stream, double* out) const {
  // Normals use indices [0, n d); the component uniforms start at the next even index (a double
  // Philox block holds two values of either kind).
  const std::uint64_t base = std::uint64_t(n * d_ + (n * d_) % 2);
  std::vector<double> z(static_cast<std::size_t>(d_));
  for (index_t i = first; i < last; ++i) {
    index_t k = 0;
    if (K_ > 1) {
      const double u = philox_uniform<double>(seed, stream, base + std::uint64_t(i));
      k = index_t(std::upper_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
      k = std::min(k, K_ - 1);
    }
    const double* m = &means_[std::size_t(k * d_)];
    const double* L = &chols_[std::size_t(k * d_ * d_)];
    for (index_t b = 0; b < d_; ++b) {
      z[std::size_t(b)] = philox_normal<double>(seed, stream, std::uint64_t(i * d_ + b));
    }
    double* row = out + (i - first) * d_;
    for (index_t a = 0; a < d_; ++a) {
      double s = m[a];
      for (index_t b = 0; b <= a; ++b) s += L[a * d_ + b] * z[std::size_t(b)];
      row[a] = s;
    }
  }
}

}  // namespace nwgf
