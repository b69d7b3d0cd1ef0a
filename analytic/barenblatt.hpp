#pragma once
// The Barenblatt solution of the porous medium equation dU/dt = Delta U^m (m > 1) in R^n, the
// Wasserstein gradient flow of the generalized entropy 1/(m-1) int P^m (variational JKO paper,
// Sect. 4.3, whose "beta" is k here):
//   U(x, T) = T^{-alpha} (C - k |x|^2 T^{-2 alpha / n})_+^{p},  p = 1/(m-1),
//   alpha = n / (n (m-1) + 2),  k = (m-1) alpha / (2 m n),
// with mass M(C) = |S^{n-1}| C^{p + n/2} k^{-n/2} B(n/2, p+1) / 2 for all T, support radius
// R(T) = sqrt(C / k) T^{alpha / n}, and |X|^2 / R(T)^2 ~ Beta(n/2, p+1) under U / M, so
// E|X|^2 = R^2 n / (n + 2p + 2).
// A probability flow needs mass 1: barenblatt_unit_c gives the C of mass 1, whose U is the
// probability flow on the clock T = t0 + t. (The paper's 1-D C = (3/16)^{1/3} has mass 2, the
// code's 3-D/6-D profiles 0.86/0.68: U_C / M solves the equation only on the clock
// T = t0 + t M^{1-m}, so their references run at the wrong speed.)
#include <cstdint>
#include <vector>

#include "nwgf/engine/types.hpp"

namespace nwgf {

struct Barenblatt {
  index_t n = 1;
  double m = 2;
  double c = 1;  // the constant C

  double p() const { return 1 / (m - 1); }
  double alpha() const;
  double k() const;
  double density(double r, double t) const;  // U at |x| = r, time T = t
  double mass() const;
  double support_radius(double t) const;
  double second_moment(double t) const;  // E|X|^2 under U / M
  // The quantile of |X| under U(., t) / M at u in [0, 1].
  double radius_quantile(double u, double t) const;
};

// The Barenblatt profile of mass 1 (C from M(C) = 1).
Barenblatt barenblatt_unit(index_t n, double m);

// rows samples (rows, n), host, of U(., t) / M: |X| by the radius quantile of a Philox uniform,
// the direction a normalised Philox normal vector (element i (n + 1) + j).
void sample_barenblatt(const Barenblatt& b, double t, index_t rows, std::uint64_t seed,
                       std::uint64_t stream, double* out);
// Rows [first, last) of those samples into out ((last - first) x n): the same values (each row
// from Philox by its global index).
void sample_barenblatt_rows(const Barenblatt& b, double t, index_t first, index_t last,
                            std::uint64_t seed, std::uint64_t stream, double* out);

// The W1 distance between the radii |x_i| of x (rows, n) and |X| under U(., t) / M: the 1-D
// quantile coupling, (1/N) sum_i |r_(i) - Q((i - 1/2) / N)|.
double radial_w1(const Barenblatt& b, double t, const double* x, index_t rows);
// Its two parts: the radii |x_i| of x (rows, n) into r (rows), and the W1 of all N radii (in
// any order), so that ranks holding rows compute their radii and one rank the distance.
void row_radii(const double* x, index_t rows, index_t n, double* r);
double radial_w1_of_radii(const Barenblatt& b, double t, std::vector<double> r);

}  // namespace nwgf
