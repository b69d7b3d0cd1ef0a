#pragma once
// The interaction energy of a kernel W (functional.kernel = quartic_quadratic | log_quadratic |
// gaussian_attraction | riesz, kernels/family/; riesz: W(z) = -|z|^r, the MMD kernel's sign, so
// that F = E_K of the Riesz functional) for the particle scheme's sums and the variational
// scheme, with the convention F(mu) = 1/2 ∫∫ W(x - y) dmu(x) dmu(y) (README, "Interaction
// kernels"):
//   F(mu_N) = 1/(2 N^2) sum_ii' W(x_i - x_i')          (V-statistic; log_quadratic: i != i')
//   N grad_{x_i} F_N = 1/N sum_i' grad W(x_i - x_i')
// The batch estimates of the neural schemes are refused (config validation).
#include <memory>

#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/schemes/functional.hpp"

namespace nwgf {

// The pair sums of W: W = sign k with k the pair family's kernel at `param` (kernels/pairwise.hpp;
// riesz: k = |z|^r, sign -1; the other kernels: k = W, sign 1). Bad input for a kernel that is
// not an interaction kernel W.
struct InteractionPairs {
  PairFamily family;
  double param, sign;
};
InteractionPairs interaction_pairs(KernelKind kernel, double r);

template <class T>
std::unique_ptr<Functional<T>> make_kernel_interaction(const Context& ctx, KernelKind kernel,
                                                       double r = 1.0);

}  // namespace nwgf
