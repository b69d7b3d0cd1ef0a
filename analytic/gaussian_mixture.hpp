#pragma once
// Gaussians with full covariance and Gaussian mixtures on the host: the density, its gradient and
// exact Philox samplers (the math: gaussian_mixture_math.hpp).
//
//   p(x) = sum_k w_k N(x; m_k, S_k),  w_k >= 0 normalised to sum 1, S_k symmetric positive
//   definite (d x d, row-major). A single Gaussian is the mixture with one component.
#include <cstdint>
#include <string>
#include <vector>

#include "nwgf/engine/types.hpp"

namespace nwgf {

// L (d x d, row-major, lower) with L L^T = S, or empty when S (d x d, row-major) is not symmetric
// (relative tolerance 1e-12 of the largest entry) or not positive definite.
std::vector<double> cholesky_factor(const std::vector<double>& S, index_t d);

class GaussianMixture {
 public:
  // means: K vectors of d; covs: K matrices d x d row-major; weights: K, >= 0, not all 0
  // (normalised here). Throws bad input (naming `key`) on wrong shapes, negative weights or a
  // covariance that is not symmetric positive definite (validate the config first for messages
  // naming the exact key).
  GaussianMixture(index_t d, const std::vector<std::vector<double>>& means,
                  const std::vector<std::vector<double>>& covs, const std::vector<double>& weights,
                  const std::string& key = "mixture");

  index_t dim() const { return d_; }
  index_t components() const { return K_; }

  // log p(x); x: (d).
  double log_density(const double* x) const;
  // log p(x) and grad log p(x) into grad (d).
  double log_density_gradient(const double* x, double* grad) const;

  // n exact samples into out (n x d, row-major). Sample i: its component from uniform i of
  // (seed, stream) offset past the normals (inverse CDF of the weights; one component: none
  // drawn), then m_k + L_k z with z normals i*d .. i*d + d - 1 of (seed, stream).
  void sample(index_t n, std::uint64_t seed, std::uint64_t stream, double* out) const;
  // Rows [first, last) of those n samples into out ((last - first) x d): the same values.
  void sample_rows(index_t n, index_t first, index_t last, std::uint64_t seed, std::uint64_t stream,
                   double* out) const;

  // The flat arrays of gaussian_math::mixture_log_density (e.g. to copy to a device).
  const std::vector<double>& means() const { return means_; }          // (K, d)
  const std::vector<double>& chols() const { return chols_; }          // (K, d, d)
  const std::vector<double>& log_weights() const { return log_w_; }    // (K)
  const std::vector<double>& half_logdets() const { return half_logdet_; }  // (K)

 private:
  index_t d_ = 0, K_ = 0;
  std::vector<double> means_, chols_, log_w_, half_logdet_, cdf_;
};

}  // namespace nwgf
