#include "nwgf/engine/viz/kde.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "nwgf/engine/error.hpp"

namespace nwgf {
namespace {

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

}  // namespace

double scott_bandwidth(const double* x, index_t n, index_t d) {
  const int axes = d > 1 ? 2 : 1;
  double mean[2] = {0, 0}, m2[2] = {0, 0};  // Welford, per drawn coordinate
  index_t count = 0;
  for (index_t i = 0; i < n; ++i) {
    const double p[2] = {x[i * d], d > 1 ? x[i * d + 1] : 0.0};
    if (!std::isfinite(p[0]) || !std::isfinite(p[1])) continue;
    ++count;
    for (int a = 0; a < axes; ++a) {
      const double delta = p[a] - mean[a];
      mean[a] += delta / double(count);
      m2[a] += delta * (p[a] - mean[a]);
    }
  }
  if (count < 2) {
    throw_bad_input("--bandwidth: Scott's rule needs at least 2 finite points, got " +
                    std::to_string(count) + "; give --bandwidth H");
  }
  const double var = (m2[0] + m2[1]) / double(count - 1) / axes;
  if (!(var > 0) || !std::isfinite(var)) {
    throw_bad_input(
        "--bandwidth: the points coincide, so Scott's rule has no scale; "
        "give --bandwidth H");
  }
  return std::sqrt(var) * std::pow(double(count), -1.0 / 6.0);
}

std::vector<double> gaussian_kde(const double* x, index_t n, index_t d, const KdeGrid& grid,
                                 double h) {
  const int G = grid.cells;
  if (G < 1 || G > 8192)
    throw_bad_input("kde: " + std::to_string(G) + " cells is not in [1, 8192]");
  if (!(grid.extent > 0) || !std::isfinite(grid.extent)) {
    throw_bad_input("kde: the box's half-width " + num(grid.extent) + " is not positive");
  }
  if (!(h > 0) || !std::isfinite(h)) {
    throw_bad_input("--bandwidth: " + num(h) + " is not a positive finite number");
  }
  const double width = 2 * grid.extent, c = width / G;
  if (h > 2 * width) {
    throw_bad_input("--bandwidth: " + num(h) + " is more than twice the shown box's width " +
                    num(width) + " (a smaller H or a larger --extent)");
  }
  // Taps 0..R of the 1-D Gaussian, each the mass over its cell: w[k] = Phi((k + 1/2) c / h) -
  // Phi((k - 1/2) c / h), symmetric in k.
  const int R = std::max(1, int(std::ceil(4 * h / c)));
  std::vector<double> w(std::size_t(R) + 1);
  const double a = c / (h * std::sqrt(2.0));
  w[0] = std::erf(0.5 * a);
  for (int k = 1; k <= R; ++k)
    w[std::size_t(k)] = 0.5 * (std::erfc((k - 0.5) * a) - std::erfc((k + 0.5) * a));

  // Pass 1 (binning and the convolution along x1 in one): T (G + 2R, G), padded row r + R holding
  // grid row r. A point's mass goes bilinearly to the two cell-centre rows and columns around it;
  // each of its columns u spreads over the visible columns within R of u.
  const int P = G + 2 * R;
  std::vector<double> T(std::size_t(P) * std::size_t(G), 0.0);
  const double left = grid.cx - grid.extent, top = grid.cy + grid.extent;
  index_t count = 0;
  for (index_t i = 0; i < n; ++i) {
    const double px = x[i * d], py = d > 1 ? x[i * d + 1] : 0.0;
    if (!std::isfinite(px) || !std::isfinite(py)) continue;
    ++count;
    const double fu = (px - left) / c - 0.5, fv = (top - py) / c - 0.5;       // cell-centre indices
    if (!(fu > -R - 1 && fu < G + R && fv > -R - 1 && fv < G + R)) continue;  // no reach
    const int u0 = int(std::floor(fu)), v0 = int(std::floor(fv));
    const double au = fu - u0, av = fv - v0;
    for (int dv = 0; dv < 2; ++dv) {
      const int row = v0 + dv + R;
      const double mv = dv == 0 ? 1 - av : av;
      if (row < 0 || row >= P || mv == 0) continue;
      double* t = T.data() + std::size_t(row) * std::size_t(G);
      for (int du = 0; du < 2; ++du) {
        const int u = u0 + du;
        const double m = mv * (du == 0 ? 1 - au : au);
        if (m == 0) continue;
        const int q0 = std::max(0, u - R), q1 = std::min(G - 1, u + R);
        for (int q = q0; q <= q1; ++q) t[q] += m * w[std::size_t(std::abs(q - u))];
      }
    }
  }
  // Pass 2: along x2. F[r][q] = sum_k w[|k|] T[r + R + k][q], scaled to a density.
  std::vector<double> F(std::size_t(G) * std::size_t(G), 0.0);
  const double scale = count > 0 ? 1.0 / (double(count) * c * c) : 0.0;
  for (int r = 0; r < G; ++r) {
    double* f = F.data() + std::size_t(r) * std::size_t(G);
    for (int k = -R; k <= R; ++k) {
      const double wk = w[std::size_t(std::abs(k))] * scale;
      const double* t = T.data() + std::size_t(r + R + k) * std::size_t(G);
      for (int q = 0; q < G; ++q) f[q] += wk * t[q];
    }
  }
  return F;
}

}  // namespace nwgf
