#pragma once
// Gaussian measures N(mean, cov) in R^d and the dense symmetric-matrix algebra they need
// (d is small: tens). Matrices are row-major std::vector<double> of d * d entries.
//   cholesky          cov = L L^T, L lower triangular (nullopt when cov is not positive definite)
//   symmetric_eigen   cov = U diag(lambda) U^T by cyclic Jacobi rotations, U's columns the
//                     eigenvectors (orthonormal), eigenvalues ascending
//   gaussian_kl       KL(P || Q) = 1/2 [tr(S_Q^-1 S_P) + (m_Q - m_P)^T S_Q^-1 (m_Q - m_P) - d
//                     + ln det S_Q - ln det S_P]
//   symmetric_kl      KL(P || Q) + KL(Q || P) (the variational JKO paper's SymKL)
//   moment_fit        the sample mean and the sample covariance (divisor n) of x (n, d)
#include <optional>
#include <vector>

#include "nwgf/engine/types.hpp"

namespace nwgf {

struct GaussianMoments {
  std::vector<double> mean;  // (d)
  std::vector<double> cov;   // (d, d) row-major, symmetric positive definite
  index_t dim() const { return index_t(mean.size()); }
};

std::optional<std::vector<double>> cholesky(const std::vector<double>& a, index_t d);
// Inverse and ln det of an SPD matrix from its Cholesky factor L.
std::vector<double> spd_inverse_from_cholesky(const std::vector<double>& l, index_t d);
double log_det_from_cholesky(const std::vector<double>& l, index_t d);

struct SymmetricEigen {
  std::vector<double> values;   // (d) ascending
  std::vector<double> vectors;  // (d, d) row-major, column k = the eigenvector of values[k]
};
SymmetricEigen symmetric_eigen(const std::vector<double>& a, index_t d);

// Throws (runtime) when a covariance is not positive definite.
double gaussian_kl(const GaussianMoments& p, const GaussianMoments& q);
double symmetric_kl(const GaussianMoments& p, const GaussianMoments& q);

// x: (n, d) row-major, n >= 1.
GaussianMoments moment_fit(const double* x, index_t n, index_t d);
// moment_fit's passes over `rows` rows of x, so that a caller can continue them across several
// blocks of rows (schemes/variational/gamma.hpp: across ranks in row order) with moment_fit's bits:
// mean[j] += x_ij (row order); then, with mean the final mean, cov[j d + k] (k <= j) +=
// (x_ij - mean_j)(x_ik - mean_k); moment_finish divides by n and mirrors the lower triangle.
void moment_sum_mean(const double* x, index_t rows, index_t d, double* mean);
void moment_sum_cov(const double* x, index_t rows, index_t d, const double* mean, double* cov);
void moment_finish(GaussianMoments& g, index_t n, index_t d);

}  // namespace nwgf
