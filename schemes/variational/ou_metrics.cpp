#include "nwgf/schemes/variational/ou_metrics.hpp"

#include "nwgf/schemes/variational/gamma.hpp"

namespace nwgf {

std::optional<OuProblem> ou_problem(const FlowConfig& cfg) {
  if (cfg.scheme != SchemeKind::variational || cfg.functional != FunctionalKind::kl) return {};
  const MeasureConfig& m = cfg.initial;
  if (m.kind != MeasureKind::gaussian || m.points.size() > 1) return {};
  const index_t d = m.d;
  OuProblem p;
  p.target = kl_target(cfg.target, d);
  p.start = m.points.empty() ? std::vector<double>(std::size_t(d), 0.0) : m.points[0];
  p.start_variance = m.radius * m.radius;
  return p;
}

void evaluate_ou(const OuProblem& p, double tau, bool constant_steps, StepInfo& s, index_t step,
                 const HostMatrix<double>& x) {
  const GaussianMoments fit = moment_fit(x.data.data(), x.rows, x.cols);
  s.symkl_exact = symmetric_kl(fit, ou_continuous(p, s.time));
  if (constant_steps) s.symkl_jko = symmetric_kl(fit, ou_jko_iterate(p, tau, step));
}

}  // namespace nwgf
