#include "nwgf/analytic/barycenter.hpp"

#include <boost/math/constants/constants.hpp>
#include <cmath>
#include <string>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/philox.hpp"

namespace nwgf {

void curve_point(Curve2d curve, double u, double* x) {
  if (curve == Curve2d::unit_circle) {
    const double phi = 2.0 * boost::math::constants::pi<double>() * u;
    x[0] = std::cos(phi);
    x[1] = std::sin(phi);
    return;
  }
  // Perimeter 8, walked counter-clockwise from (1, 0): right half-side, top, left, bottom, rest.
  const double a = 8.0 * u;
  if (a < 1.0) {
    x[0] = 1.0, x[1] = a;
  } else if (a < 3.0) {
    x[0] = 2.0 - a, x[1] = 1.0;
  } else if (a < 5.0) {
    x[0] = -1.0, x[1] = 4.0 - a;
  } else if (a < 7.0) {
    x[0] = a - 6.0, x[1] = -1.0;
  } else {
    x[0] = 1.0, x[1] = a - 8.0;
  }
}

void sample_curve(Curve2d curve, index_t n, std::uint64_t seed, std::uint64_t stream, double* out) {
  if (n < 0) throw_bad_input("n = " + std::to_string(n) + ": sample count must be >= 0");
#pragma omp parallel for schedule(static)
  for (index_t i = 0; i < n; ++i) {
    double u[2];
    philox_uniform_block(philox_block(seed, stream, std::uint64_t(i)), u);
    curve_point(curve, u[0], out + 2 * i);
  }
}

void sample_barycenter(const std::vector<BarycenterComponent>& components, index_t n,
                       std::uint64_t seed, std::uint64_t stream, double* out,
                       index_t first_row) {
  if (components.empty()) throw_bad_input("alpha: the barycenter needs at least one measure");
  double total = 0.0;
  for (const auto& c : components) {
    if (!(c.alpha >= 0.0))
      throw_bad_input("alpha = " + std::to_string(c.alpha) + ": weights must be >= 0");
    total += c.alpha;
  }
  if (std::abs(total - 1.0) > 1e-12) {
    throw_bad_input("alpha: weights sum to " + std::to_string(total) + ", must sum to 1");
  }
  if (n < 0) throw_bad_input("n = " + std::to_string(n) + ": sample count must be >= 0");
  const int m = int(components.size());
#pragma omp parallel for schedule(static)
  for (index_t i = 0; i < n; ++i) {
    double u[2];
    philox_uniform_block(philox_block(seed, stream, std::uint64_t(first_row + i)), u);
    int k = 0;
    double cum = components[0].alpha;
    while (k + 1 < m && u[0] >= cum) cum += components[++k].alpha;
    curve_point(components[k].curve, u[1], out + 2 * i);
  }
}

}  // namespace nwgf
