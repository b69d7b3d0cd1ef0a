#include "nwgf/schemes/ift/weight_step.hpp"

#include <algorithm>
#include <cmath>

#include "nwgf/schemes/ift/simplex.hpp"
#include "nwgf/schemes/ift/weight_step_math.hpp"

namespace nwgf {

void project_mass(std::vector<double>& w, MassConstraint mass) {
  if (mass == MassConstraint::simplex) {
    project_simplex_sort(w);
  } else {
    project_nonnegative(w);
  }
}

void weight_step_pgd(std::vector<double>& w, const std::vector<double>& g, double eta,
                     MassConstraint mass) {
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = pgd_weight_value(w[i], g[i], eta);
  project_mass(w, mass);
}

void weight_step_kl(std::vector<double>& w, const std::vector<double>& g, double eta,
                    MassConstraint mass, KlNormalise normalise) {
  if (mass == MassConstraint::simplex && normalise == KlNormalise::sum) {
    // Dividing by the sum cancels a constant: shift by min g so that no exp overflows.
    const double gmin = *std::min_element(g.begin(), g.end());
    double sum = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      w[i] = kl_weight_value(w[i], g[i], eta, gmin);
      sum += w[i];
    }
    for (double& x : w) x /= sum;
    return;
  }
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = kl_weight_value(w[i], g[i], eta, 0.0);
  if (mass == MassConstraint::simplex) project_simplex_sort(w);
}

WeightStats weight_stats(const std::vector<double>& w) {
  WeightStats s;
  double sq = 0;
  for (double x : w) {
    s.mass += x;
    sq += x * x;
    s.zero_weights += x == 0 ? 1 : 0;
    s.max_weight = std::max(s.max_weight, x);
  }
  s.ess = sq > 0 ? s.mass * s.mass / sq : 0;
  return s;
}

void set_weight_metrics(StepInfo& s, index_t step, WeightStep kind, double mmd2,
                        const WeightStats& ws) {
  s.paper_step = double(kind == WeightStep::none ? step : 2 * step);
  s.mmd2_paper = mmd2;
  s.functional = 0.5 * mmd2;
  s.mass = ws.mass;
  s.zero_weights = ws.zero_weights;
  s.ess = ws.ess;
  s.max_weight = ws.max_weight;
}

}  // namespace nwgf
