#pragma once
// The variational scheme's comparisons with closed forms. The OU flow (analytic/ou_flow.hpp): for
// functional.kind = "kl" to a Gaussian target from a Gaussian initial measure with one centre
// (P_0 = N(m_0, radius^2 Id)), the metrics.csv columns
//   symkl_exact  SymKL(moment fit of the particles, P_t) (the paper's Sect. 4.2 metric), and
//   symkl_jko    SymKL(moment fit, the exact discrete JKO iterate P_k) (constant steps only),
// as plain values (the paper plots log10). symkl_exact cannot fall below the time-discretisation
// error of the JKO scheme itself; symkl_jko shows the solver's error.
#include <optional>

#include "nwgf/analytic/barenblatt.hpp"
#include "nwgf/analytic/ou_flow.hpp"
#include "nwgf/engine/io/npy.hpp"  // HostMatrix
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/run/step_info.hpp"

namespace nwgf {

std::optional<OuProblem> ou_problem(const FlowConfig& cfg);

// The porous medium problem: functional.kind = "entropy" from [initial] kind = "barenblatt" of
// the same m. The columns w1_radial (radial_w1 of analytic/barenblatt.hpp), second_moment (of
// the particles) and second_moment_exact, against the mass-1 profile at t0 + t.
std::optional<Barenblatt> porous_problem(const FlowConfig& cfg);
void evaluate_porous(const Barenblatt& b, double t0, StepInfo& s, const HostMatrix<double>& x);

// x: the particles (n, d) at step `step`, time s.time.
void evaluate_ou(const OuProblem& p, double tau, bool constant_steps, StepInfo& s, index_t step,
                 const HostMatrix<double>& x);
// The same from the particles' moment fit (flow.memory = "sharded": moment_fit_rows).
void evaluate_ou_fit(const OuProblem& p, double tau, bool constant_steps, StepInfo& s, index_t step,
                     const GaussianMoments& fit);

}  // namespace nwgf
