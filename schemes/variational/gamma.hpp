#pragma once
// The reference measures of the variational JKO step and the KL target's density, host side:
//   kl_target        Q = N(b, S) of [target] kind = "gaussian": b = points[0] (default the
//                    origin), S = cov, or radius^2 Id when cov is not given
//   fit_gaussian     Gamma = mu for KL: the moment fit N(mean, cov) of the particles, with its
//                    Cholesky factor (sampling Z = mean + L eps) and precision (log mu)
//   fit_box          Gamma for the generalized entropy: uniform on [-R, R]^d,
//                    R = 1.5 max_ij |x_ij| (the paper's code), density q = (2R)^-d
#include <vector>

#include "nwgf/analytic/gaussian_moments.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/schemes/config.hpp"

namespace nwgf {

GaussianMoments kl_target(const MeasureConfig& target, index_t d);

struct GaussianFit {
  GaussianMoments moments;
  std::vector<double> cholesky;   // L (d, d), cov = L L^T
  std::vector<double> precision;  // cov^-1
  double log_det = 0;             // ln det cov
};
// x: (n, d) host. A covariance that is not positive definite (a collapsed cloud) is a numerical
// failure (exit 3).
GaussianFit fit_gaussian(const std::vector<double>& x, index_t n, index_t d);
// The same for a given Gaussian (the target).
GaussianFit gaussian_fit_of(const GaussianMoments& g);

double fit_box(const std::vector<double>& x);
// max_ij |x_ij| (0 for no values).
double largest_abs(const std::vector<double>& x);

// moment_fit (analytic/gaussian_moments.hpp) of n rows split across ranks in row order (x: this
// rank's `rows` rows, (rows, d); flow.memory = "sharded"): its two passes' sums run over the
// rows in global row order, continued rank to rank (sum_in_row_order), so every rank gets one
// process's moment fit, bit for bit. Every rank together.
GaussianMoments moment_fit_rows(const Comm& comm, const double* x, index_t rows, index_t n,
                                index_t d);

}  // namespace nwgf
