#include "nwgf/schemes/ift/simplex.hpp"

#include <algorithm>
#include <functional>

namespace nwgf {

void project_simplex_sort(std::vector<double>& v) {
  if (v.empty()) return;
  std::vector<double> u = v;
  std::sort(u.begin(), u.end(), std::greater<double>());
  double cumsum = 0, theta = 0;
  for (std::size_t j = 0; j < u.size(); ++j) {
    cumsum += u[j];
    const double t = (cumsum - 1.0) / double(j + 1);
    if (u[j] - t > 0) theta = t;  // the last j with a positive gap is rho
  }
  for (double& x : v) x = std::max(x - theta, 0.0);
}

void project_simplex_bisection(std::vector<double>& v, int iterations) {
  if (v.empty()) return;
  const auto [lo_it, hi_it] = std::minmax_element(v.begin(), v.end());
  // sum max(v - theta, 0) is decreasing in theta: >= 1 at min v - 1/n, 0 at max v.
  double lo = *lo_it - 1.0 / double(v.size()), hi = *hi_it;
  for (int k = 0; k < iterations; ++k) {
    const double mid = 0.5 * (lo + hi);
    double s = 0;
    for (double x : v) s += std::max(x - mid, 0.0);
    (s > 1.0 ? lo : hi) = mid;
  }
  const double theta = 0.5 * (lo + hi);
  for (double& x : v) x = std::max(x - theta, 0.0);
}

void project_nonnegative(std::vector<double>& v) {
  for (double& x : v) x = std::max(x, 0.0);
}

}  // namespace nwgf
