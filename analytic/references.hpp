#pragma once
// The closed forms a run is compared with (metrics.csv columns mmd2_analytic, mmd2_iterate), in
// terms of the problem alone (no config; schemes/run/reference.hpp picks the problem of a config):
//   interaction  Sect. 5: F = E_K from a Dirac at `start`; gamma(t) = (limit_scale(r, t) Id)#eta*
//                moved to `start` (Thm 5.1), the JKO iterate (jko_scale Id)#eta* (Thm 5.2), the
//                forward iterate for r = 1 (a_k Id)#eta* (Thm 5.4);
//   line         App. G: mmd, r = 1, d = 1, from delta_a to delta_p;
//   barycenter   App. H, Ex. 4: the mixture of the components (does not depend on t).
#include <cstdint>
#include <vector>

#include "nwgf/analytic/barycenter.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

enum class AnalyticReference { none, interaction, line, barycenter };

struct ReferenceProblem {
  AnalyticReference kind = AnalyticReference::none;
  double r = 1;               // the Riesz exponent of the functional
  std::vector<double> start;  // interaction: the initial Dirac's point (d); line: a (1)
  double target = 0;          // line: the target Dirac's point p != a
  std::vector<BarycenterComponent> components;  // barycenter
};

// m exact samples (m, d), host, of the reference at time t; Philox (seed, stream) as the
// underlying sampler (sample_eta_star, sample_line_flow, sample_barycenter), rows
// [first_row, first_row + m) of its sequence (a sharded run's own rows). kind none: throws.
void sample_reference(const ReferenceProblem& p, double t, index_t m, std::uint64_t seed,
                      std::uint64_t stream, double* out, index_t first_row = 0);

// interaction: m samples (m, d) of (scale Id)#eta* moved to p.start (gamma(t) and the schemes'
// discrete iterates differ only in the scale); rows from first_row as sample_reference.
void sample_interaction_at_scale(const ReferenceProblem& p, double scale, index_t m,
                                 std::uint64_t seed, std::uint64_t stream, double* out,
                                 index_t first_row = 0);

}  // namespace nwgf
