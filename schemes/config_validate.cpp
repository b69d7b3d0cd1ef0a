// Validation of a flow config: the schema's per-key checks, each measure, and the paper's
// constraints (check_paper_constraints), all naming the offending key.
#include <cmath>
#include <string>

#include "nwgf/analytic/gaussian_mixture.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/io/idx.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/schemes/config_schema.hpp"

namespace nwgf {
namespace {

using config_schema::bad;

void check_positive(const std::string& key, double v) {
  if (!(v > 0) || !std::isfinite(v)) bad(key, "must be a finite number > 0");
}
void check_at_least(const std::string& key, index_t v, index_t lo) {
  if (v < lo) bad(key, "must be >= " + std::to_string(lo));
}
std::string quoted(MeasureKind k) {
  std::string s(1, '"');
  s.append(to_text(k));
  s.push_back('"');
  return s;
}

// A covariance: d x d, finite, symmetric and positive definite (Cholesky succeeds).
void check_covariance(const std::string& key, const std::vector<double>& cov, index_t d) {
  if (index_t(cov.size()) != d * d) {
    bad(key, "must be a d x d matrix with d = " + std::to_string(d));
  }
  for (double v : cov) {
    if (!std::isfinite(v)) bad(key, "entries must be finite");
  }
  if (cholesky_factor(cov, d).empty()) {
    bad(key, "must be symmetric and positive definite (a covariance matrix)");
  }
}

void validate_mixture(const std::string& p, const MeasureConfig& m) {
  if (!m.points.empty()) bad(p + ".points", "not for kind = \"mixture\" (give components)");
  if (m.components.empty()) {
    bad(p + ".components", "required for kind = \"mixture\" (one [[" + p +
                               ".components]] table per Gaussian: mean, cov, weight)");
  }
  double sum = 0;
  for (std::size_t k = 0; k < m.components.size(); ++k) {
    const std::string ck = p + ".components[" + std::to_string(k) + "]";
    const MixtureComponent& c = m.components[k];
    if (index_t(c.mean.size()) != m.d) {
      bad(ck + ".mean", "needs d = " + std::to_string(m.d) + " coordinates");
    }
    for (double v : c.mean) {
      if (!std::isfinite(v)) bad(ck + ".mean", "coordinates must be finite");
    }
    check_covariance(ck + ".cov", c.cov, m.d);
    if (!(c.weight >= 0) || !std::isfinite(c.weight)) {
      bad(ck + ".weight", "must be a finite number >= 0");
    }
    sum += c.weight;
  }
  if (!(sum > 0)) bad(p + ".components", "the weights must not all be 0");
}

void validate_measure(const std::string& p, const MeasureConfig& m) {
  if (from_file(m.kind) && m.path.empty()) bad(p + ".path", "required for kind = " + quoted(m.kind));
  if (m.kind == MeasureKind::npy) return;
  check_at_least(p + ".n", m.n, 1);
  if (m.kind == MeasureKind::idx) return;
  if (m.kind == MeasureKind::image) {
    if (!(m.blur >= 0) || !std::isfinite(m.blur) || m.blur > 1000) {
      bad(p + ".blur", "must lie in [0, 1000] (pixels)");
    }
    if (!(m.background >= 0) || !std::isfinite(m.background)) {
      bad(p + ".background", "must be a finite number >= 0");
    }
    check_positive(p + ".box", m.box);
    if (m.d != 2) bad(p + ".d", "an image measure has d = 2");
    return;
  }
  check_at_least(p + ".d", m.d, 1);
  if (m.d > 100000) bad(p + ".d", "must be <= 100000");
  for (const auto& pt : m.points) {
    if (index_t(pt.size()) != m.d) {
      bad(p + ".points", "each point needs d = " + std::to_string(m.d) + " coordinates");
    }
    for (double v : pt) {
      if (!std::isfinite(v)) bad(p + ".points", "coordinates must be finite");
    }
  }
  if (m.kind == MeasureKind::diracs && m.points.empty()) {
    bad(p + ".points", "required for kind = \"diracs\"");
  }
  if (!m.weights.empty()) {
    if (m.kind != MeasureKind::diracs) bad(p + ".weights", "only for kind = \"diracs\"");
    if (m.weights.size() != m.points.size()) bad(p + ".weights", "one weight per point");
    double sum = 0;
    for (double w : m.weights) {
      if (!(w >= 0) || !std::isfinite(w)) bad(p + ".weights", "weights must be finite and >= 0");
      sum += w;
    }
    if (!(sum > 0)) bad(p + ".weights", "weights must not all be 0");
  }
  if (m.kind == MeasureKind::square || m.kind == MeasureKind::square_boundary ||
      m.kind == MeasureKind::circle || (m.kind == MeasureKind::gaussian && m.cov.empty())) {
    check_positive(p + ".radius", m.radius);
  }
  if (!m.cov.empty()) {
    if (m.kind != MeasureKind::gaussian) bad(p + ".cov", "only for kind = \"gaussian\"");
    check_covariance(p + ".cov", m.cov, m.d);
  }
  if (!m.components.empty() && m.kind != MeasureKind::mixture) {
    bad(p + ".components", "only for kind = \"mixture\"");
  }
  if (m.kind == MeasureKind::mixture) validate_mixture(p, m);
  if (m.kind == MeasureKind::uniform && !(m.high > m.low)) bad(p + ".high", "must be > low");
  if (m.kind == MeasureKind::barenblatt) {
    if (!(m.m > 1) || !std::isfinite(m.m)) bad(p + ".m", "the Barenblatt profile needs m > 1");
    check_positive(p + ".t0", m.t0);
    if (!m.points.empty()) bad(p + ".points", "the Barenblatt profile is centred at the origin");
  }
}

// A target's dimension must be the samples' (its d key, or that of its file).
void check_same_dim(const std::string& p, const MeasureConfig& m, index_t d) {
  const index_t dm = measure_dim(m);
  if (dm == d) return;
  const bool file = from_file(m.kind);
  bad(file ? p + ".path" : p + ".d",
      (file ? m.path + " has d = " : "is ") + std::to_string(dm) + ", the initial measure has d = " +
          std::to_string(d));
}

bool atoms(MeasureKind k) { return k == MeasureKind::dirac || k == MeasureKind::diracs; }

}  // namespace

index_t measure_dim(const MeasureConfig& m) {
  if (m.kind == MeasureKind::npy) return read_npy_info(m.path).cols;  // the header only
  if (m.kind == MeasureKind::idx) return read_idx_header(m.path).item_size();
  if (m.kind == MeasureKind::image) return 2;
  return m.d;
}

index_t initial_dim(const FlowConfig& cfg) { return measure_dim(cfg.initial); }

DType resolved_dtype(const FlowConfig& cfg) {
  switch (cfg.dtype) {
    case DTypeChoice::f32:
      return DType::f32;
    case DTypeChoice::f64:
      return DType::f64;
    case DTypeChoice::automatic:
      break;
  }
  return cfg.scheme == SchemeKind::particle || cfg.scheme == SchemeKind::ift ? DType::f64
                                                                              : DType::f32;
}

bool warmup_enabled(const FlowConfig& cfg) {
  return cfg.warmup == Warmup::on || (cfg.warmup == Warmup::automatic && cfg.r < 1);
}

index_t latent_dim(const FlowConfig& cfg) {
  return cfg.latent_dim > 0 ? cfg.latent_dim : initial_dim(cfg);
}

void refuse_forward_at_atoms(double r, const std::string& atoms) {
  if (r < 1) {
    bad("functional.r", "the forward scheme is undefined for r < 1 at a measure with atoms (" +
                            atoms + "): no steepest descent direction exists (paper Sect. 5); "
                            "use the backward scheme");
  }
}

// The kernel and the IFT scheme: what combines with what.
void check_kernel_and_ift(const FlowConfig& c) {
  const bool ift = c.scheme == SchemeKind::ift;
  if (c.kernel == KernelKind::gaussian) {
    if (c.functional != FunctionalKind::mmd) {
      bad("functional.kernel", "gaussian is a kernel of functional.kind = \"mmd\"");
    }
    if (c.scheme != SchemeKind::particle && !ift) {
      bad("functional.kernel", "gaussian runs with flow.scheme = \"particle\" or \"ift\"");
    }
    // The sliced estimator is the Riesz r = 1 kernel's (its 1-D sums by sorting); a Gaussian run
    // would otherwise compute exact sums while the config says sliced.
    if (c.estimator != Estimator::exact) {
      bad("functional.estimator", "the sliced estimator is the riesz kernel's (r = 1); "
                                  "functional.kernel = \"gaussian\" needs estimator = \"exact\"");
    }
  }
  if (c.kernel != KernelKind::riesz && c.kernel != KernelKind::gaussian) {
    if (c.functional != FunctionalKind::interaction) {
      bad("functional.kernel", std::string(to_text(c.kernel)) +
                                   " is a kernel of functional.kind = \"interaction\"");
    }
    if (c.scheme != SchemeKind::particle && c.scheme != SchemeKind::variational) {
      bad("functional.kernel", std::string(to_text(c.kernel)) +
                                   " runs with flow.scheme = \"particle\" or \"variational\"");
    }
    if (c.estimator != Estimator::exact) {
      bad("functional.kernel", std::string(to_text(c.kernel)) + " needs the exact estimator");
    }
  }
  if (ift) {
    if (c.functional != FunctionalKind::mmd) {
      bad("flow.scheme", "ift flows the MMD: needs functional.kind = \"mmd\"");
    }
    if (c.estimator != Estimator::exact) {
      bad("functional.estimator", "the ift scheme needs the exact estimator");
    }
    if (c.ift.weight_step == WeightStep::qp && !(c.ift.eta > 0)) {
      bad("ift.eta", "weight_step = \"qp\" needs eta > 0 (its proximal term is 1/(2 eta) MMD^2)");
    }
    if (c.ift.mass == MassConstraint::nonnegative && c.kernel != KernelKind::gaussian) {
      bad("ift.mass", "nonnegative needs a positive definite kernel (functional.kernel = "
                      "\"gaussian\"): the Riesz MMD is defined for equal masses only");
    }
  }
  if (!c.initial.weights_path.empty()) {
    if (!ift) bad("initial.weights_path", "only for flow.scheme = \"ift\" (weighted particles)");
    if (c.initial.kind != MeasureKind::npy) {
      bad("initial.weights_path", "only for initial.kind = \"npy\" (the weights of its rows)");
    }
  }
}
namespace {
// kind = "sum" and its [[functional.terms]]: what each scheme takes.
void check_terms(const FlowConfig& c) {
  const bool sum = c.functional == FunctionalKind::sum;
  if (sum && c.terms.empty()) {
    bad("functional.terms", "required for kind = \"sum\" (one [[functional.terms]] table per "
                            "term: kind, weight, ...)");
  }
  if (!sum && !c.terms.empty()) bad("functional.terms", "only for kind = \"sum\"");
  if (sum && c.kernel != KernelKind::riesz) {
    bad("functional.kernel", "with kind = \"sum\" each interaction term gives its own kernel");
  }
  if (sum && c.m != 0 && c.initial.kind != MeasureKind::barenblatt) {
    bad("functional.m", "with kind = \"sum\" each entropy term gives its own m");
  }
  const bool potential = has_term(c, FunctionalKind::potential);
  if ((sum || potential) && c.scheme != SchemeKind::particle &&
      c.scheme != SchemeKind::variational) {
    bad("flow.scheme", "functional.kind = \"" + std::string(to_text(c.functional)) +
                           "\" runs with scheme = \"particle\" or \"variational\"");
  }
  index_t densities = 0;
  for (const FunctionalTerm& t : functional_terms(c)) {
    densities += t.kind == FunctionalKind::kl || t.kind == FunctionalKind::entropy;
  }
  if (densities > 1) {
    bad("functional.terms", "at most one kl or entropy term (the variational step has one critic)");
  }
}

// The variational JKO scheme and its density functionals belong together; a KL target or a
// potential is a density (a Gaussian: one mean `points`, standard deviation `radius` or `cov`; a
// mixture).
void check_variational(const FlowConfig& c) {
  const bool density = has_term(c, FunctionalKind::kl) || has_term(c, FunctionalKind::entropy);
  const bool variational = c.scheme == SchemeKind::variational;
  if (density && !variational) {
    bad("flow.scheme", "functional.kind = \"" + std::string(to_text(c.functional)) +
                           "\": a kl or entropy term needs a density: use scheme = "
                           "\"variational\"");
  }
  const bool interaction = has_term(c, FunctionalKind::interaction);
  if (variational) {
    const bool ok = c.functional == FunctionalKind::kl || c.functional == FunctionalKind::entropy ||
                    c.functional == FunctionalKind::potential ||
                    c.functional == FunctionalKind::sum ||
                    c.functional == FunctionalKind::interaction;
    if (!ok) {
      bad("functional.kind", "the variational scheme takes kind = \"kl\", \"entropy\", "
                             "\"potential\", \"interaction\" (a kernel W) or \"sum\"");
    }
    if (c.functional == FunctionalKind::interaction && c.kernel == KernelKind::gaussian) {
      bad("functional.kind", "the variational scheme takes kind = \"interaction\" with an "
                             "interaction kernel W only (functional.kernel = quartic_quadratic, "
                             "log_quadratic, gaussian_attraction or riesz)");
    }
  }
  if (c.fb) {
    if (!variational) bad("flow.fb", "forward-backward is a variational scheme option");
    if (!interaction) {
      bad("flow.fb", "needs an interaction term (the explicit forward step (12) is on W)");
    }
    if (!density && !has_term(c, FunctionalKind::potential)) {
      bad("flow.fb", "needs a kl, entropy or potential term for the JKO part (with interaction "
                     "terms only: fb = false for the backward step, or scheme = \"particle\")");
    }
  }
  if (c.dropout > 0 && !variational) {
    bad("network.dropout", "dropout is implemented for the variational scheme's map T only");
  }
  if (c.dropout > 0 && c.hidden.size() < 2) {
    bad("network.dropout", "needs at least two hidden layers (dropout follows each hidden "
                           "Linear(w, w), not the first layer)");
  }
  const FlowConfig def;
  if (c.map == MapKind::icnn) {
    if (!variational) bad("network.kind", "icnn maps are the variational scheme's");
    if (c.dropout > 0) bad("network.dropout", "an icnn map has no dropout");
    if (c.activation != def.activation) {
      bad("network.activation", "an icnn map's activation is CELU (leave the key out)");
    }
  } else {
    // The icnn keys at their defaults are not written: any other value is a mistake.
    const char* given = c.rank != def.rank                                 ? "network.rank"
                        : c.strong_convexity != def.strong_convexity       ? "network.strong_convexity"
                        : c.pretrain_iterations != def.pretrain_iterations ? "network.pretrain_iterations"
                        : c.pretrain_lr != def.pretrain_lr                 ? "network.pretrain_lr"
                                                                           : nullptr;
    if (given) bad(given, "applies to network.kind = \"icnn\" only");
  }
  if (variational && atoms(c.initial.kind)) {
    bad("initial.kind", "the variational scheme needs an initial measure with a density (KL and "
                        "the entropy are infinite at atoms; the moment fit of Gamma degenerates)");
  }
  if (c.functional == FunctionalKind::entropy && !(c.m > 1 && std::isfinite(c.m))) {
    bad("functional.m", "the generalized entropy 1/(m-1) int P^m needs m > 1");
  }
  if (uses_target_density(c)) {
    if (c.target.kind != MeasureKind::gaussian && c.target.kind != MeasureKind::mixture) {
      bad("target.kind", "kl and potential take a density: kind = \"gaussian\" or \"mixture\"");
    }
    if (c.target.points.size() > 1) {
      bad("target.points", "a gaussian target density has one mean");
    }
  }
}
}  // namespace

void check_paper_constraints(const FlowConfig& c) {
  check_terms(c);
  check_kernel_and_ift(c);
  const index_t d = initial_dim(c);
  if (c.estimator == Estimator::sliced && c.r != 1) {
    bad("functional.estimator", "the sliced estimator needs r = 1");
  }
  // The sliced estimator estimates the Riesz pair sums of interaction, mmd and barycenter in the
  // particle, backward and forward schemes; elsewhere a run would compute exact sums while the
  // config says sliced.
  if (c.estimator == Estimator::sliced && c.functional != FunctionalKind::interaction &&
      c.functional != FunctionalKind::mmd && c.functional != FunctionalKind::barycenter) {
    bad("functional.estimator", std::string(to_text(c.functional)) +
                                    " has only the exact estimator (sliced: interaction, mmd, "
                                    "barycenter with the riesz kernel)");
  }
  if (c.estimator == Estimator::sliced && c.scheme == SchemeKind::variational) {
    bad("functional.estimator", "the variational scheme has only the exact estimator");
  }
  if (c.functional == FunctionalKind::energy33 && d != 2) {
    bad("initial.d", "energy33 is defined for d = 2");
  }
  if (c.scheme == SchemeKind::forward && atoms(c.initial.kind)) {
    if (c.estimator == Estimator::sliced) {
      bad("functional.estimator",
          "the sliced forward scheme cannot start at atoms (sliced directional derivatives miss "
          "the right derivative at coincident points); use estimator = \"exact\"");
    }
    refuse_forward_at_atoms(c.r, "initial.kind = " + quoted(c.initial.kind));
  }
  check_variational(c);
  // Particles at one point get the same gradient and never separate: the flow cannot leave the
  // atoms it starts at (the paper starts its particle flows in a tiny cube, Sect. 6.1).
  const MeasureConfig& m = c.initial;
  const bool coincide = (m.kind == MeasureKind::dirac && m.n > 1) ||
                        (m.kind == MeasureKind::diracs && m.n > index_t(m.points.size()));
  if (c.scheme == SchemeKind::particle && c.functional == FunctionalKind::interaction &&
      !from_file(m.kind) && m.n == 1) {
    bad("initial.n", "the particle scheme with one particle cannot move under the interaction "
                     "energy (its gradient is zero): give n > 1");
  }
  if (c.scheme == SchemeKind::particle && coincide) {
    bad("initial.kind",
        "the particle scheme cannot start at " + quoted(m.kind) + " with n = " +
            std::to_string(m.n) + ": particles at one point get the same gradient and never "
            "separate, so the flow cannot move away from the atoms; start in a small cube around "
            "the point(s) (kind = \"square\", radius = 1e-9, paper Sect. 6.1)");
  }
}

namespace {
// flow.memory = "sharded" (schemes/run/sharded_loop.hpp): what it runs; the rest is refused
// naming the key that asks for it (the backend, the evaluation and the ranks: at run time).
// Every scheme runs every functional it takes (the checks above) and every measure kind (drawn
// or read by rows); the sliced estimator's sums are the Riesz MMD's of the particle scheme.
void check_memory(const FlowConfig& c) {
  if (c.memory != MemoryLayout::sharded) return;
  const std::string why = " with flow.memory = \"sharded\" (each rank holds only its own rows)";
  // (check_paper_constraints has refused sliced outside the Riesz interaction, mmd and
  // barycenter already.)
  if (c.estimator == Estimator::sliced && c.scheme != SchemeKind::particle) {
    bad("functional.estimator", "sliced runs with flow.scheme = \"particle\" only" + why);
  }
}
}  // namespace

void validate(const FlowConfig& c) {
  for (const auto& f : config_schema::flow_fields()) {
    if (f.check) f.check(f.table.empty() ? f.key : f.table + "." + f.key, c);
  }
  if (c.steps == 0 && !(c.t_end > 0)) bad("flow.steps", "give flow.steps > 0 or flow.t_end > 0");

  validate_measure("initial", c.initial);
  const index_t d = initial_dim(c);
  if (c.functional == FunctionalKind::mmd || uses_target_density(c)) {
    validate_measure("target", c.target);
    check_same_dim("target", c.target, d);
  }
  if (c.functional == FunctionalKind::barycenter) {
    if (c.targets.empty()) bad("target.measures", "barycenter needs at least one measure");
    for (std::size_t i = 0; i < c.targets.size(); ++i) {
      const std::string k = "target.measures[" + std::to_string(i) + "]";
      validate_measure(k, c.targets[i]);
      check_same_dim(k, c.targets[i], d);
    }
    if (!c.weights.empty()) {
      if (c.weights.size() != c.targets.size()) bad("target.weights", "one weight per measure");
      double sum = 0;
      for (double w : c.weights) {
        if (!(w >= 0)) bad("target.weights", "weights must be >= 0");
        sum += w;
      }
      if (std::fabs(sum - 1) > 1e-9) bad("target.weights", "weights must sum to 1");
    }
  }
  check_paper_constraints(c);
  check_memory(c);
}

}  // namespace nwgf
