#include "nwgf/analytic/references.hpp"

#include <cmath>

#include "nwgf/analytic/line_flow.hpp"
#include "nwgf/analytic/riesz_flow.hpp"
#include "nwgf/engine/error.hpp"

namespace nwgf {

void sample_interaction_at_scale(const ReferenceProblem& p, double scale, index_t m,
                                 std::uint64_t seed, std::uint64_t stream, double* out,
                                 index_t first_row) {
  const index_t d = index_t(p.start.size());
  sample_eta_star(int(d), p.r, scale, m, seed, stream, out, first_row);
  for (index_t i = 0; i < m; ++i) {
    for (index_t j = 0; j < d; ++j) out[i * d + j] += p.start[std::size_t(j)];
  }
}

void sample_reference(const ReferenceProblem& p, double t, index_t m, std::uint64_t seed,
                      std::uint64_t stream, double* out, index_t first_row) {
  switch (p.kind) {
    case AnalyticReference::interaction:
      sample_interaction_at_scale(p, limit_scale(p.r, t), m, seed, stream, out, first_row);
      return;
    case AnalyticReference::line: {
      // App. G's flow from delta_{-1} to delta_0, moved to a -> p: the velocity of the r = 1
      // flow is invariant under dilation x -> L x, so the flow over distance L is
      // a + sign(p - a) L (gamma(t / L) + 1).
      const double a = p.start[0];
      const double length = std::fabs(p.target - a), sign = p.target > a ? 1.0 : -1.0;
      sample_line_flow(t / length, m, seed, stream, out, first_row);
      for (index_t i = 0; i < m; ++i) out[i] = a + sign * length * (out[i] + 1);
      return;
    }
    case AnalyticReference::barycenter:
      sample_barycenter(p.components, m, seed, stream, out, first_row);
      return;
    case AnalyticReference::none:
      break;
  }
  throw_runtime("sample_reference: the problem has no analytic reference");
}

}  // namespace nwgf
