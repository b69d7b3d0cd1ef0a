#pragma once
// Per-element math of Gaussians with full covariance and of Gaussian mixtures, written once as
// NWGF_HD functions (host loops and CUDA kernels alike). Matrices are d x d, row-major.
//
//   Cholesky:    S = L L^T, L lower triangular with a positive diagonal.
//   log N(x; m, S) = -1/2 |L^{-1}(x - m)|^2 - sum_i log L_ii - d/2 log(2 pi)
//   grad_x log N   = -S^{-1}(x - m) = -L^{-T} L^{-1} (x - m)
//   mixture:     log p(x) = log sum_k w_k N(x; m_k, S_k)   (log-sum-exp)
//                grad log p(x) = sum_k r_k(x) grad log N_k(x),  r_k = w_k N_k(x) / p(x)
#include <cmath>

#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf::gaussian_math {

// log(2 pi)
inline constexpr double log_two_pi = 1.8378770664093454835606594728112;

// L (d x d, row-major, lower; the upper part is set to 0) with L L^T = S. Returns false when S is
// not positive definite to working precision (a pivot <= 0 or not finite); S is assumed
// symmetric (only its lower triangle is read).
NWGF_HD bool cholesky(const double* S, index_t d, double* L) {
  for (index_t i = 0; i < d * d; ++i) L[i] = 0;
  for (index_t j = 0; j < d; ++j) {
    double diag = S[j * d + j];
    for (index_t k = 0; k < j; ++k) diag -= L[j * d + k] * L[j * d + k];
    if (!(diag > 0) || !std::isfinite(diag)) return false;
    const double ljj = std::sqrt(diag);
    L[j * d + j] = ljj;
    for (index_t i = j + 1; i < d; ++i) {
      double s = S[i * d + j];
      for (index_t k = 0; k < j; ++k) s -= L[i * d + k] * L[j * d + k];
      L[i * d + j] = s / ljj;
    }
  }
  return true;
}

// sum_i log L_ii = 1/2 log det S.
NWGF_HD double half_log_det(const double* L, index_t d) {
  double s = 0;
  for (index_t i = 0; i < d; ++i) s += std::log(L[i * d + i]);
  return s;
}

// z = L^{-1}(x - m) (forward substitution); z: (d).
NWGF_HD void whiten(const double* x, const double* m, const double* L, index_t d, double* z) {
  for (index_t i = 0; i < d; ++i) {
    double s = x[i] - m[i];
    for (index_t k = 0; k < i; ++k) s -= L[i * d + k] * z[k];
    z[i] = s / L[i * d + i];
  }
}

// z <- L^{-T} z in place (backward substitution).
NWGF_HD void solve_transposed(const double* L, index_t d, double* z) {
  for (index_t i = d - 1; i >= 0; --i) {
    double s = z[i];
    for (index_t k = i + 1; k < d; ++k) s -= L[k * d + i] * z[k];
    z[i] = s / L[i * d + i];
  }
}

// log N(x; m, L L^T); `half_logdet` = half_log_det(L). z: scratch (d), left holding L^{-1}(x - m).
NWGF_HD double gaussian_log_density(const double* x, const double* m, const double* L,
                                    double half_logdet, index_t d, double* z) {
  whiten(x, m, L, d, z);
  double q = 0;
  for (index_t i = 0; i < d; ++i) q += z[i] * z[i];
  return -0.5 * q - half_logdet - 0.5 * double(d) * log_two_pi;
}

// log p(x) of the mixture sum_k w_k N(m_k, L_k L_k^T) and, when grad is not null, grad log p(x)
// (d). means: (K, d); chols: (K, d, d); log_w: (K) log weights (normalised); half_logdets: (K).
// z: scratch (d). One pass over the components with a running maximum (stable log-sum-exp).
NWGF_HD double mixture_log_density(const double* x, index_t K, const double* means,
                                   const double* chols, const double* log_w,
                                   const double* half_logdets, index_t d, double* z,
                                   double* grad) {
  double top = -INFINITY, sum = 0;
  if (grad) {
    for (index_t i = 0; i < d; ++i) grad[i] = 0;
  }
  for (index_t k = 0; k < K; ++k) {
    const double* L = chols + k * d * d;
    const double lk =
        log_w[k] + gaussian_log_density(x, means + k * d, L, half_logdets[k], d, z);
    if (!(lk > -INFINITY)) continue;  // a zero-weight component
    // Rescale what was summed so far to the new maximum: sum <- sum e^{top - lk} + 1.
    double scale_old = 1, e = 1;
    if (lk > top) {
      scale_old = std::exp(top - lk);
      top = lk;
    } else {
      e = std::exp(lk - top);
    }
    sum = sum * scale_old + e;
    if (grad) {
      solve_transposed(L, d, z);  // z = S_k^{-1}(x - m_k)
      for (index_t i = 0; i < d; ++i) grad[i] = grad[i] * scale_old - e * z[i];
    }
  }
  if (grad) {
    for (index_t i = 0; i < d; ++i) grad[i] /= sum;
  }
  return top + std::log(sum);
}

}  // namespace nwgf::gaussian_math
