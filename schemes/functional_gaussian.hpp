#pragma once
// The MMD functional with the Gaussian kernel K(x, y) = exp(-gamma |x - y|^2) (CONTRACT.md's
// D_K^2 = E_K(mu - nu) = 1/2 MMD^2 of the IFT paper), for the particle scheme:
//   F(mu_N) = 1/2 [ 1/N^2 sum_ii' K(x_i, x_i') - 2/N sum_ij b_j K(x_i, y_j) + sum_jj' b_j b_j' K ]
//   N grad_{x_i} F_N = 1/N sum_i' grad K(x_i, x_i') - sum_j b_j grad K(x_i, y_j)
// and the batch estimate of the backward scheme (two independent batches y1, y2 of B rows):
//   F^ = 1/(2 B^2) sum K(y1_i, y2_j) - 1/(2B) sum_i sum_j b_j K(y_i, t_j) + 1/2 b'K_TT b.
// The forward scheme's directional derivative is the Riesz family's only (config validation).
#include <memory>

#include "nwgf/schemes/functional.hpp"

namespace nwgf {

template <class T>
std::unique_ptr<Functional<T>> make_gaussian_mmd(const Context& ctx, double gamma, index_t d,
                                                 const std::vector<WeightedPoints>& targets);

}  // namespace nwgf
