#pragma once
// App. G: the exact Wasserstein gradient flow on the line of F_{delta_0} = D_K^2(., delta_0) +
// const with the negative distance kernel (r = 1), started at delta_{-1}:
//   gamma(t) = 1/(2t) lambda_[-1, -1+2t]                    for 0 < t <= 1/2,
//            = 1/(2t) lambda_[-1, 0] + (1 - 1/(2t)) delta_0  for t > 1/2.
// In quantile form both cases read Q_t(u) = min(-1 + 2 t u, 0): each quantile moves with speed
// 2u until it reaches the target 0 and stays there.
#include <cstdint>

#include "nwgf/engine/types.hpp"

namespace nwgf {

// Quantile function of gamma(t), u in (0, 1); t = 0 gives -1 (delta_{-1}).
double line_flow_quantile(double t, double u);
// CDF of gamma(t) at x.
double line_flow_cdf(double t, double x);
// D_K^2(gamma(t), delta_0) (r = 1, paper's 1/2 factor): 1 - 4t/3 for t <= 1/2, 1/(12 t^2) after.
double line_flow_mmd2(double t);
// n samples (n x 1, host) of gamma(t); sample i is Q_t(philox_uniform<double>(seed, stream,
// first_row + i)).
void sample_line_flow(double t, index_t n, std::uint64_t seed, std::uint64_t stream, double* out,
                      index_t first_row = 0);

}  // namespace nwgf
