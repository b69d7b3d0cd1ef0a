#include "nwgf/schemes/variational/closed_form_metrics.hpp"

#include "nwgf/schemes/variational/gamma.hpp"

namespace nwgf {

std::optional<OuProblem> ou_problem(const FlowConfig& cfg) {
  if (cfg.scheme != SchemeKind::variational || cfg.functional != FunctionalKind::kl) return {};
  if (cfg.target.kind != MeasureKind::gaussian) return {};  // a mixture target has no OU flow
  const MeasureConfig& m = cfg.initial;
  if (m.kind != MeasureKind::gaussian || m.points.size() > 1 || !m.cov.empty()) return {};
  const index_t d = m.d;
  OuProblem p;
  p.target = kl_target(cfg.target, d);
  p.start = m.points.empty() ? std::vector<double>(std::size_t(d), 0.0) : m.points[0];
  p.start_variance = m.radius * m.radius;
  return p;
}

std::optional<Barenblatt> porous_problem(const FlowConfig& cfg) {
  if (cfg.scheme != SchemeKind::variational || cfg.functional != FunctionalKind::entropy) return {};
  if (cfg.initial.kind != MeasureKind::barenblatt || cfg.initial.m != cfg.m) return {};
  return barenblatt_unit(cfg.initial.d, cfg.m);
}

void evaluate_porous(const Barenblatt& b, double t0, StepInfo& s, const HostMatrix<double>& x) {
  s.w1_radial = radial_w1(b, t0 + s.time, x.data.data(), x.rows);
  double m2 = 0;
  for (double v : x.data) m2 += v * v;
  s.second_moment = m2 / double(x.rows);
  s.second_moment_exact = b.second_moment(t0 + s.time);
}

namespace {

// SymKL, or NaN (an empty cell) when a covariance is numerically singular (a start of zero
// width, a collapsed cloud): a metric never stops a run.
double symkl_or_none(const GaussianMoments& a, const GaussianMoments& b) {
  if (!cholesky(a.cov, a.dim()) || !cholesky(b.cov, b.dim())) return StepInfo::none;
  return symmetric_kl(a, b);
}

}  // namespace

void evaluate_ou(const OuProblem& p, double tau, bool constant_steps, StepInfo& s, index_t step,
                 const HostMatrix<double>& x) {
  evaluate_ou_fit(p, tau, constant_steps, s, step, moment_fit(x.data.data(), x.rows, x.cols));
}

void evaluate_ou_fit(const OuProblem& p, double tau, bool constant_steps, StepInfo& s, index_t step,
                     const GaussianMoments& fit) {
  s.symkl_exact = symkl_or_none(fit, ou_continuous(p, s.time));
  if (constant_steps) s.symkl_jko = symkl_or_none(fit, ou_jko_iterate(p, tau, step));
}

}  // namespace nwgf
