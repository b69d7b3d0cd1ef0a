#pragma once
// Which closed form (analytic/references.hpp) a config's run is compared with, and the
// comparison itself: the metrics.csv columns mmd2_analytic and mmd2_iterate.
#include <cstdint>

#include "nwgf/analytic/references.hpp"
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/io/npy.hpp"  // HostMatrix
#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/run/step_info.hpp"

namespace nwgf {

// The closed form of cfg's problem, if any (kind none otherwise). A cloud of radius <= 1e-6
// around one point stands for the Dirac there (the particle flow's start).
//   interaction: the interaction energy from a Dirac;
//   line: mmd, r = 1, d = 1, from a Dirac to another Dirac;
//   barycenter: of unit circles / boundaries of [-1, 1]^2 centred at 0, d = 2.
ReferenceProblem reference_problem(const FlowConfig& cfg);
AnalyticReference analytic_reference(const FlowConfig& cfg);
bool has_analytic_reference(const FlowConfig& cfg);

// m exact samples (m, d) of cfg's reference at time t (throws when there is none).
void sample_reference(const FlowConfig& cfg, double t, index_t m, std::uint64_t seed,
                      std::uint64_t stream, double* out);

// Unbiased MMD^2 of two samples (U-statistics for the self terms, kernels/mmd_sums.hpp), any r.
double mmd2_unbiased(const Context& ctx, const HostMatrix<double>& x, const HostMatrix<double>& y,
                     double r);

// A run's comparison with its closed form at each evaluated step.
class ReferenceMetrics {
 public:
  // n: the run's sample count (the reference sample size when eval.reference is 0).
  ReferenceMetrics(const FlowConfig& cfg, index_t n);
  const ReferenceProblem& problem() const { return problem_; }
  // Whether evaluate() computes anything (a closed form exists and eval.mmd is on).
  bool active() const;
  // s.mmd2_analytic against gamma(s.time) (or the barycenter); for the interaction energy also
  // s.mmd2_iterate against the scheme's exact discrete iterate where it is known (backward:
  // constant steps, or any steps for r = 1; forward: r = 1). x: the samples (n, d) at step n.
  // constant_steps: TimeSteps::constant().
  void evaluate(const Context& ctx, StepInfo& s, index_t step, const HostMatrix<double>& x,
                bool constant_steps) const;
  // The same on sharded samples (flow.memory = "sharded"; ctx a CUDA context: the rows uploaded,
  // the sums on its device, comm then the ranks' DeviceComm when P > 1): x_own is this rank's rows
  // (owned_rows(n, rank, P)) of the samples; every rank draws its own rows of the same reference
  // sample (the same Philox rows as evaluate's, so the same points), and the three sums run
  // through the sharded pair passes (kernels/pairwise_sharded.hpp). Collective; the same values
  // on every rank, bit for bit the same at every rank count. Against evaluate(): the same
  // points and sums over the same pairs, added in another order (all ordered pairs in the row
  // pass, where one process may take the symmetric self pass), so equal to rounding.
  void evaluate_sharded(const Context& ctx, const Comm& comm, StepInfo& s, index_t step,
                        const HostMatrix<double>& x_own, bool constant_steps) const;

 private:
  // The reference sample's size: eval.reference, or n.
  index_t reference_rows() const;
  // The scale of the scheme's exact discrete iterate at step (interaction only), or NaN.
  double iterate_scale(const StepInfo& s, index_t step, bool constant_steps) const;
  // Draws rows [first_row, first_row + rows) of the reference (and of the iterate) and sets
  // s's columns to mmd2(those rows).
  template <class Mmd2>
  void evaluate_with(StepInfo& s, index_t step, bool constant_steps, index_t first_row,
                     index_t rows, index_t d, const Mmd2& mmd2) const;

  const FlowConfig& cfg_;
  ReferenceProblem problem_;
  index_t n_;
};

}  // namespace nwgf
