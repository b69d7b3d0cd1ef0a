#pragma once
// Gaussian kernel density estimates of a 2-D point set on a square grid, for the density picture
// (plot.hpp render_density with DensityEstimate::kde):
//   f(y) = 1/n sum_i phi_h(y - x_i),   phi_h(z) = exp(-|z|^2 / (2 h^2)) / (2 pi h^2),
// one bandwidth h for both axes (the picture has equal aspect), over the n finite points' first
// two coordinates (x2 = 0 for d = 1).
//
// Computed by binning, then convolving (linear binning, Wand 1994): each point's unit mass is
// shared bilinearly among the four cell centres around it, and the grid of masses is convolved
// with the Gaussian separably (rows, then columns). A tap k cells away weighs the 1-D Gaussian's
// mass over that cell, Phi((k + 1/2) c / h) - Phi((k - 1/2) c / h) with c the cell width, so the
// grid holds the estimate averaged over each cell and mass is kept whatever h / c; taps stop at
// 4 h. The grid is padded by 4 h on every side, so points outside the box still add their tails.
// Cost O(n + (G + 8 h / c) G h / c) for G x G cells, against O(G^2 n) for the exact sum; the
// error against the exact sum is O(c^2 / h^2) relative (tests/engine/viz/test_kde.cpp).
#include <vector>

#include "nwgf/engine/types.hpp"

namespace nwgf {

// The square [cx - extent, cx + extent] x [cy - extent, cy + extent] as cells x cells cells.
struct KdeGrid {
  double cx = 0, cy = 0, extent = 1;
  int cells = 256;
};

// Scott's rule for 2-D: h = sigma n^(-1/6), sigma^2 the mean over the drawn coordinates (x1, and
// x2 when d > 1) of the finite points' variances. Fewer than two finite points, or points that
// all coincide, is bad input naming --bandwidth (there is no scale to take h from).
double scott_bandwidth(const double* x, index_t n, index_t d);

// The estimate with bandwidth h (> 0) per unit area on the grid: (cells, cells) row-major, row 0
// at the top (largest x2), column 0 at the left, each value the average over its cell. Bad input
// naming --bandwidth: h not positive and finite, or more than twice the box's width (the padding
// would dwarf the grid); a grid of fewer than 1 or more than 8192 cells a side.
std::vector<double> gaussian_kde(const double* x, index_t n, index_t d, const KdeGrid& grid,
                                 double h);

}  // namespace nwgf
