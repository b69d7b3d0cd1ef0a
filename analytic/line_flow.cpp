#include "nwgf/analytic/line_flow.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/philox.hpp"

namespace nwgf {
namespace {
void check_t(double t) {
  if (!(t >= 0.0) || !std::isfinite(t)) {
    throw_bad_input("t = " + std::to_string(t) + ": must be >= 0 and finite");
  }
}
}  // namespace

double line_flow_quantile(double t, double u) {
  check_t(t);
  if (!(u > 0.0 && u < 1.0)) throw_bad_input("u = " + std::to_string(u) + ": must lie in (0, 1)");
  return std::min(-1.0 + 2.0 * t * u, 0.0);
}

double line_flow_cdf(double t, double x) {
  check_t(t);
  if (x < -1.0) return 0.0;
  if (x >= 0.0) return 1.0;
  if (t == 0.0) return 1.0;  // delta_{-1}, x >= -1
  return std::min((x + 1.0) / (2.0 * t), 1.0);
}

double line_flow_mmd2(double t) {
  check_t(t);
  return t <= 0.5 ? 1.0 - 4.0 * t / 3.0 : 1.0 / (12.0 * t * t);
}

void sample_line_flow(double t, index_t n, std::uint64_t seed, std::uint64_t stream, double* out,
                      index_t first_row) {
  check_t(t);
  if (n < 0) throw_bad_input("n = " + std::to_string(n) + ": sample count must be >= 0");
#pragma omp parallel for schedule(static)
  for (index_t i = 0; i < n; ++i) {
    const double u = philox_uniform<double>(seed, stream, std::uint64_t(first_row + i));
    out[i] = std::min(-1.0 + 2.0 * t * u, 0.0);
  }
}

}  // namespace nwgf
