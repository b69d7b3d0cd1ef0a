#pragma once
// The aggregation flows' closed-form steady states (functional.kind = "interaction" with an
// interaction kernel W, the particle scheme), as metrics.csv columns:
//   ring_radius    kernel = quartic_quadratic (any d): mean_i |x_i - mean x|. In 2-D the steady
//                  state is the uniform ring of radius 1/sqrt(3) = 0.5774 (README, "Interaction
//                  kernels"; the paper's caption says 0.5).
//   w1_semicircle  kernel = log_quadratic, d = 1: W1 of the particles to the semicircle law
//                  (1/pi) sqrt(2 - x^2) on [-sqrt2, sqrt2], the steady state.
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/io/npy.hpp"  // HostMatrix
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/run/step_info.hpp"

namespace nwgf {

// Whether cfg's run has one of the columns above.
bool has_aggregation_metrics(const FlowConfig& cfg);
// Sets the column(s) of cfg's kernel from the particles x (n, d).
void evaluate_aggregation(const FlowConfig& cfg, StepInfo& s, const HostMatrix<double>& x);

// mean_i |x_i - mean x| of the rows of x.
double mean_radius(const HostMatrix<double>& x);
// The same over n rows split across ranks in row order (x: this rank's rows; flow.memory =
// "sharded"): both sums continued rank to rank (sum_in_row_order), one process's bits. Every
// rank together.
double mean_radius_rows(const Comm& comm, const HostMatrix<double>& x, index_t n);
// The semicircle law on [-sqrt2, sqrt2]: its CDF, and W1 of the equally weighted points x (1-D)
// to it, exact up to the quantiles' bisection (1e-15).
double semicircle_cdf(double x);
double w1_to_semicircle(std::vector<double> x);

}  // namespace nwgf
