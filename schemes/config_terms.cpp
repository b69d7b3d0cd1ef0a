// The terms of a flow's functional: [[functional.terms]] of kind = "sum", or the one kind.
#include "nwgf/schemes/config.hpp"

namespace nwgf {

std::vector<FunctionalTerm> functional_terms(const FlowConfig& cfg) {
  if (cfg.functional == FunctionalKind::sum) return cfg.terms;
  FunctionalTerm t;
  t.kind = cfg.functional;
  t.weight = 1;
  t.kernel = cfg.kernel;
  t.m = cfg.m;
  t.r = cfg.r;
  return {t};
}

bool has_term(const FlowConfig& cfg, FunctionalKind kind) {
  for (const FunctionalTerm& t : functional_terms(cfg)) {
    if (t.kind == kind) return true;
  }
  return false;
}

bool uses_target_density(const FlowConfig& cfg) {
  return has_term(cfg, FunctionalKind::kl) || has_term(cfg, FunctionalKind::potential);
}

}  // namespace nwgf
