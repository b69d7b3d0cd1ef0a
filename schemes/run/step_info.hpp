#pragma once
// One step of a run as reported to callbacks and observers and stored as one row of metrics.csv
// (schemes/run/run_dir.hpp writes and reads it).
#include <limits>

#include "nwgf/engine/types.hpp"

namespace nwgf {

// NaN: not applicable / not evaluated at this step (an empty cell in metrics.csv).
struct StepInfo {
  static constexpr double none = std::numeric_limits<double>::quiet_NaN();
  index_t step = 0;
  double time = 0, tau = 0;
  double loss = none;        // final training loss of the step (neural schemes)
  double functional = none;  // F(mu_N), V-statistic over all samples
  double wall_seconds = 0;   // this step
  // Interaction energy from a Dirac: unbiased MMD^2 (r of the functional) against exact samples
  // of the limit curve gamma(t), and against the scheme's exact discrete iterate (JKO iterate,
  // Thm 5.2, for backward; Thm 5.4 for forward with r = 1).
  double mmd2_analytic = none;
  double mmd2_iterate = none;
  // Weighted particles (the ift scheme; NaN otherwise, and the columns are then not written):
  // the paper's step count (2 per IFT iteration with a weight step), its MMD^2 (weighted
  // V-statistic, no 1/2), sum w, #{w_i = 0}, effective sample size (sum w)^2 / sum w^2, max w.
  double paper_step = none;
  double mmd2_paper = none;
  double mass = none, zero_weights = none, ess = none, max_weight = none;
  // Variational scheme, KL to a Gaussian from a Gaussian (the OU flow): SymKL of the particles'
  // Gaussian moment fit to the exact discrete JKO iterate and to the continuous flow P_t.
  double symkl_jko = none;
  double symkl_exact = none;
  // Variational scheme, generalized entropy from a Barenblatt profile (the porous medium
  // equation): W1 of the particles' radii to the mass-1 Barenblatt profile at t0 + t, and
  // E|X|^2 of the particles and of that profile.
  double w1_radial = none;
  double second_moment = none;
  double second_moment_exact = none;
  // Aggregation (functional.kernel = quartic_quadratic / log_quadratic, 1-D;
  // schemes/run/aggregation_metrics.hpp): mean distance to the mean (the ring's radius), and W1
  // to the semicircle law.
  double ring_radius = none;
  double w1_semicircle = none;
  // Variational scheme, KL to a Gaussian mixture (schemes/variational/mixture_metrics.hpp): the
  // energy distance of the particles to i.i.d. samples of the target mixture, and the total
  // variation between the target's weights and the fractions of particles whose most probable
  // component (posterior argmax) is each component.
  double energy_distance = none;
  double mixture_tv = none;
};

}  // namespace nwgf
