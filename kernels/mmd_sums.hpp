#pragma once
// MMD^2 of two samples X (n points) and Y (m points) from the three pair sums of the Riesz kernel
// K(x, y) = -|x - y|^r, written once for every caller (kernels/pairwise.cpp mmd2,
// kernels/sliced.cpp sliced_mmd2, the run's comparison with a closed form):
//
//   S_xy = sum_{i,j} |x_i - y_j|^r,   S_xx = sum_{i,i'} |x_i - x_i'|^r,
//   S_yy = sum_{j,j'} |y_j - y_j'|^r   (all ordered pairs; the diagonal terms are 0)
//
//   V-statistic (CONTRACT.md: the paper's D_K^2 with its 1/2 factor, diagonal included):
//     D^2 = S_xy / (n m) - S_xx / (2 n n)       - S_yy / (2 m m)
//   U-statistic (unbiased: the self terms average over the n (n - 1) pairs i != i'):
//     D^2 = S_xy / (n m) - S_xx / (2 n (n - 1)) - S_yy / (2 m (m - 1))
//
// The operation order is fixed (it decides the output bytes): each term is one division by a
// product evaluated left to right, then two subtractions left to right. S_xx / (2 n n) equals
// 0.5 (S_xx / (n n)) exactly (scaling by 2 is exact), so callers that wrote it either way agree.
#include "nwgf/engine/hd.hpp"

namespace nwgf {

enum class MmdStatistic {
  v,  // all pairs, diagonal included
  u   // self terms over distinct pairs (needs n, m >= 2)
};

// n, m: sample sizes as doubles (as the sums are doubles).
NWGF_HD double mmd2_from_sums(double s_xy, double s_xx, double s_yy, double n, double m,
                              MmdStatistic statistic) {
  const double nx = statistic == MmdStatistic::v ? n : n - 1;
  const double my = statistic == MmdStatistic::v ? m : m - 1;
  return s_xy / (n * m) - s_xx / (2 * n * nx) - s_yy / (2 * m * my);
}

}  // namespace nwgf
