#include "nwgf/schemes/run/reference.hpp"

#include <cmath>

#include "nwgf/analytic/riesz_flow.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/kernels/mmd_sums.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/pairwise_sharded.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/schemes.hpp"

namespace nwgf {
namespace {

bool dirac_like(const MeasureConfig& m) {
  const bool tiny = (m.kind == MeasureKind::square || m.kind == MeasureKind::circle ||
                     m.kind == MeasureKind::gaussian) &&
                    m.points.size() <= 1 && m.cov.empty() && m.radius <= 1e-6;
  return m.kind == MeasureKind::dirac || tiny;
}

std::vector<double> first_point(const MeasureConfig& m) { return measure_points(m)[0]; }

bool unit_curve_at_origin(const MeasureConfig& m) {
  if (m.kind != MeasureKind::circle && m.kind != MeasureKind::square_boundary) return false;
  if (m.d != 2 || m.radius != 1 || m.points.size() > 1) return false;
  return m.points.empty() || (m.points[0][0] == 0 && m.points[0][1] == 0);
}

}  // namespace

ReferenceProblem reference_problem(const FlowConfig& cfg) {
  ReferenceProblem p;
  p.r = cfg.r;
  // The closed forms are those of the Riesz flows of the particle and neural schemes.
  if (cfg.kernel != KernelKind::riesz || cfg.scheme == SchemeKind::ift) return p;
  if (cfg.functional == FunctionalKind::interaction && dirac_like(cfg.initial)) {
    p.kind = AnalyticReference::interaction;
    p.start = first_point(cfg.initial);
    return p;
  }
  if (cfg.functional == FunctionalKind::mmd && cfg.r == 1 && cfg.initial.d == 1 && dirac_like(cfg.initial) &&
      (cfg.target.kind == MeasureKind::dirac ||
       (cfg.target.kind == MeasureKind::diracs && cfg.target.points.size() == 1)) &&
      first_point(cfg.initial)[0] != first_point(cfg.target)[0]) {
    p.kind = AnalyticReference::line;
    p.start = first_point(cfg.initial);
    p.target = first_point(cfg.target)[0];
    return p;
  }
  if (cfg.functional == FunctionalKind::barycenter && cfg.initial.d == 2 && !cfg.targets.empty()) {
    bool all = true;
    for (const auto& m : cfg.targets) all = all && unit_curve_at_origin(m);
    if (all) {
      p.kind = AnalyticReference::barycenter;
      for (std::size_t k = 0; k < cfg.targets.size(); ++k) {
        p.components.push_back(
            {cfg.targets[k].kind == MeasureKind::circle ? Curve2d::unit_circle : Curve2d::square_boundary,
             cfg.weights.empty() ? 1.0 / double(cfg.targets.size()) : cfg.weights[k]});
      }
    }
  }
  return p;
}

AnalyticReference analytic_reference(const FlowConfig& cfg) { return reference_problem(cfg).kind; }

bool has_analytic_reference(const FlowConfig& cfg) {
  return analytic_reference(cfg) != AnalyticReference::none;
}

void sample_reference(const FlowConfig& cfg, double t, index_t m, std::uint64_t seed,
                      std::uint64_t stream, double* out) {
  const ReferenceProblem p = reference_problem(cfg);
  if (p.kind == AnalyticReference::none) {
    throw_runtime("sample_reference: the config has no analytic reference");
  }
  sample_reference(p, t, m, seed, stream, out);
}

double mmd2_unbiased(const Context& ctx, const HostMatrix<double>& x, const HostMatrix<double>& y,
                     double r) {
  const auto bx = upload(ctx, x.data), by = upload(ctx, y.data);
  const ConstPointsView<double> vx(bx.data(), x.rows, x.cols, bx.device());
  const ConstPointsView<double> vy(by.data(), y.rows, y.cols, by.device());
  const double sxy = riesz_energy_value<double>(ctx, vx, nullptr, vy, nullptr, r);
  const double sxx = riesz_energy_value<double>(ctx, vx, nullptr, vx, nullptr, r);
  const double syy = riesz_energy_value<double>(ctx, vy, nullptr, vy, nullptr, r);
  return mmd2_from_sums(sxy, sxx, syy, double(x.rows), double(y.rows), MmdStatistic::u);
}

ReferenceMetrics::ReferenceMetrics(const FlowConfig& cfg, index_t n)
    : cfg_(cfg), problem_(reference_problem(cfg)), n_(n) {}

bool ReferenceMetrics::active() const {
  return problem_.kind != AnalyticReference::none && cfg_.eval_mmd;
}

double ReferenceMetrics::iterate_scale(const StepInfo& s, index_t step, bool constant_steps) const {
  if (problem_.kind != AnalyticReference::interaction) return StepInfo::none;
  if (cfg_.scheme == SchemeKind::backward) {
    if (constant_steps) return jko_scale(cfg_.r, cfg_.tau, int(step));
    if (cfg_.r == 1) return s.time;  // t_{tau,n} = sum of the steps for r = 1
  } else if (cfg_.scheme == SchemeKind::forward && cfg_.r == 1) {
    return s.time;  // Thm 5.4: a_k = a_{k-1} + tau_k
  }
  return StepInfo::none;
}

template <class Mmd2>
void ReferenceMetrics::evaluate_with(StepInfo& s, index_t step, bool constant_steps,
                                     index_t first_row, index_t rows, index_t d,
                                     const Mmd2& mmd2) const {
  if (!active()) return;
  HostMatrix<double> y;
  y.rows = rows;
  y.cols = d;
  y.data.resize(std::size_t(y.rows * y.cols));
  const std::uint64_t stream = random_stream(RandomPurpose::reference, std::uint64_t(step));
  sample_reference(problem_, s.time, y.rows, cfg_.seed, stream, y.data.data(), first_row);
  s.mmd2_analytic = mmd2(y);
  const double iterate = iterate_scale(s, step, constant_steps);
  if (std::isfinite(iterate)) {
    sample_interaction_at_scale(problem_, iterate, y.rows, cfg_.seed,
                                stream | (std::uint64_t(1) << 40), y.data.data(), first_row);
    s.mmd2_iterate = mmd2(y);
  }
}

index_t ReferenceMetrics::reference_rows() const { return cfg_.reference > 0 ? cfg_.reference : n_; }

void ReferenceMetrics::evaluate(const Context& ctx, StepInfo& s, index_t step,
                                const HostMatrix<double>& x, bool constant_steps) const {
  evaluate_with(s, step, constant_steps, 0, reference_rows(), x.cols,
                [&](const HostMatrix<double>& y) { return mmd2_unbiased(ctx, x, y, cfg_.r); });
}

void ReferenceMetrics::evaluate_sharded(const Context& ctx, const Comm& comm, StepInfo& s,
                                        index_t step, const HostMatrix<double>& x_own,
                                        bool constant_steps) const {
  const index_t m = reference_rows();
  const auto [y0, y1] = owned_rows(m, comm.rank(), comm.size());
  // On a CUDA context (the sharded CUDA runner) the own rows go up and the sums run on the
  // device; on the CPU they run in place.
  const bool cuda = ctx.is_cuda();
  const Buffer<double> dx = cuda ? upload(ctx, x_own.data) : Buffer<double>();
  const ConstPointsView<double> vx(cuda ? dx.data() : x_own.data.data(), x_own.rows, x_own.cols,
                                   ctx.device());
  evaluate_with(s, step, constant_steps, y0, y1 - y0, x_own.cols, [&](const HostMatrix<double>& y) {
    const Buffer<double> dy = cuda ? upload(ctx, y.data) : Buffer<double>();
    const ConstPointsView<double> vy(cuda ? dy.data() : y.data.data(), y.rows, y.cols,
                                     ctx.device());
    double sxy = 0, sxx = 0, syy = 0;
    pair_energy_sharded<double>(ctx, comm, PairFamily::riesz, cfg_.r, vx, nullptr, n_, vy, nullptr,
                                m, &sxy);
    pair_energy_sharded<double>(ctx, comm, PairFamily::riesz, cfg_.r, vx, nullptr, n_, vx, nullptr,
                                n_, &sxx);
    pair_energy_sharded<double>(ctx, comm, PairFamily::riesz, cfg_.r, vy, nullptr, m, vy, nullptr,
                                m, &syy);
    return mmd2_from_sums(sxy, sxx, syy, double(n_), double(m), MmdStatistic::u);
  });
}

}  // namespace nwgf
