#pragma once
// App. H, Example 4: the MMD barycenter argmin_mu sum_i alpha_i D_K^2(mu, mu_i), sum alpha_i = 1,
// is the mixture mu* = sum_i alpha_i mu_i (Cohen et al. 2021, Prop. 2), for any Riesz kernel.
// The paper's example mixes the uniform measures on the unit circle and on the boundary of
// [-1, 1]^2 (both d = 2).
#include <cstdint>
#include <vector>

#include "nwgf/engine/types.hpp"

namespace nwgf {

enum class Curve2d {
  unit_circle,     // uniform on {|x| = 1}
  square_boundary  // uniform (arc length) on the boundary of [-1, 1]^2
};

struct BarycenterComponent {
  Curve2d curve;
  double alpha;  // weight, >= 0; the weights must sum to 1
};

// The point of `curve` at arc-length fraction u in [0, 1) (counter-clockwise from (1, 0)).
void curve_point(Curve2d curve, double u, double* x);  // x: (2)

// n samples (n x 2, host) of the uniform measure on `curve`; sample i uses the first uniform of
// Philox block i of (seed, stream).
void sample_curve(Curve2d curve, index_t n, std::uint64_t seed, std::uint64_t stream, double* out);

// n samples (n x 2, host) of mu* = sum_i alpha_i mu_i. Sample i uses Philox block
// first_row + i of (seed, stream): its first uniform picks the component (inverse CDF of the
// weights), its second the arc-length position. Throws bad_input (naming alpha) on negative
// weights or weights not summing to 1.
void sample_barycenter(const std::vector<BarycenterComponent>& components, index_t n,
                       std::uint64_t seed, std::uint64_t stream, double* out,
                       index_t first_row = 0);

}  // namespace nwgf
