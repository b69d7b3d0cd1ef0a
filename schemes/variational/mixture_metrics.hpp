#pragma once
// The variational scheme's check of Gaussian-mixture sampling (functional.kind = "kl" to a
// [target] kind = "mixture": the paper's Sect. 4.1 GMM experiment). No closed form of the flow
// exists; the metrics compare the particles with the target itself, as metrics.csv columns:
//   energy_distance  2 E|X - Y| - E|X - X'| - E|Y - Y'| (V-statistics) between the particles X and
//                    n i.i.d. samples Y of the target mixture (drawn once per run, Philox,
//                    independent of the flow's streams). 0 iff the laws agree; for two independent
//                    samples of one law it is of order 1/n (the sampling floor).
//   mixture_tv       1/2 sum_k |N_k/N - w_k|: N_k the particles whose most probable component
//                    (argmax_k log w_k + log N(x; m_k, S_k)) is k, w_k the target's weights. A
//                    flow that misses or over-fills modes has it of order the missing mass.
#include <cstdint>
#include <optional>

#include "nwgf/analytic/gaussian_mixture.hpp"
#include "nwgf/engine/io/npy.hpp"  // HostMatrix
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/run/step_info.hpp"

namespace nwgf {

struct MixtureProblem {
  GaussianMixture target;
  HostMatrix<double> sample;  // (n, d) i.i.d. samples of the target
  double self_term = 0;       // E|Y - Y'| of the sample (V-statistic)
};

// For the variational scheme with kind = "kl" to a mixture target: the target and n = initial.n
// of its samples (seed = cfg.seed, Philox stream mixture_sample_stream()); otherwise none.
std::optional<MixtureProblem> mixture_problem(const FlowConfig& cfg);
std::uint64_t mixture_sample_stream();

// 1/(n m) sum_ij |x_i - y_j| over the rows of x (n, d) and y (m, d).
double mean_distance(const double* x, index_t n, const double* y, index_t m, index_t d);

// The energy distance of the rows of x to those of y (V-statistics, above).
double energy_distance(const HostMatrix<double>& x, const HostMatrix<double>& y);

// 1/2 sum_k |N_k/N - w_k| (above), the rows of x against the mixture q.
double mixture_tv(const GaussianMixture& q, const HostMatrix<double>& x);
// Its two parts: the counts N_k of the rows of x (exact: rows split across ranks add them up),
// and the value from the counts of n rows in all.
std::vector<index_t> mixture_counts(const GaussianMixture& q, const HostMatrix<double>& x);
double mixture_tv_of_counts(const GaussianMixture& q, const std::vector<index_t>& counts,
                            index_t n);

// Sets energy_distance and mixture_tv of s from the particles x (n, d).
void evaluate_mixture(const MixtureProblem& p, StepInfo& s, const HostMatrix<double>& x);

}  // namespace nwgf
