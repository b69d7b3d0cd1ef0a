#pragma once
// The MMD (weight) step of an IFT iteration (Gladin et al. 2024, eq. (14) second half, Alg. 1),
// on the host: w (n) the weights before the step, g (n) the witness g(x'_i) at the new positions
// with the old weights (weighted_mmd.hpp), eta > 0.
//   pgd   w <- P(w - 2 eta g)             one projected-gradient step on MMD^2 (the IFT code's)
//   kl    w <- w exp(-eta g), then / sum (kl_normalise = sum) or P (project, the IFT code's)
//   qp    w <- argmin_{b in C} 1/2 b'H b - c'b,  H = (1 + 1/eta) K(X', X'),
//         c = K(X', Y) b_nu + (1/eta) K(X', X_ref) w   (eq. (23); X_ref = X' for "half", the
//         positions before the step for "previous", Alg. 1 / eq. (24)), by FISTA (qp.hpp)
// P / C: the simplex (mass = simplex, spherical IFT) or {w >= 0} (nonnegative).
#include <vector>

#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/config_enums.hpp"
#include "nwgf/schemes/run/step_info.hpp"

namespace nwgf {

// pgd and kl (qp: qp.hpp). w is updated in place.
void weight_step_pgd(std::vector<double>& w, const std::vector<double>& g, double eta,
                     MassConstraint mass);
void weight_step_kl(std::vector<double>& w, const std::vector<double>& g, double eta,
                    MassConstraint mass, KlNormalise normalise);
// The projection of the mass constraint (simplex: sort-based).
void project_mass(std::vector<double>& w, MassConstraint mass);

// The weight metrics: sum, count of exact zeros, effective sample size (sum w)^2 / sum w^2
// (= 1 / sum w^2 on the simplex), max.
struct WeightStats {
  double mass = 0, ess = 0, max_weight = 0;
  double zero_weights = 0;
};
WeightStats weight_stats(const std::vector<double>& w);

// An IFT evaluation's metrics.csv columns (replicated and sharded runs alike): mmd2_paper = mmd2
// (the paper's weighted V-statistic), functional = its half, the weight metrics, and the paper's
// step count (two half steps per iteration, one with weight_step = none).
void set_weight_metrics(StepInfo& s, index_t step, WeightStep kind, double mmd2,
                        const WeightStats& ws);

}  // namespace nwgf
