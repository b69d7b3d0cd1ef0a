#pragma once
// Interaction-force transport (IFT) gradient flows of the MMD (Gladin, Dvurechensky, Mielke, Zhu,
// NeurIPS 2024) on weighted particles mu = sum_i w_i delta_{x_i}. One iteration (eq. (14),
// Alg. 1) is a Wasserstein (position) step, then an MMD (weight) step:
//   position  weighted:   x_i <- x_i - tau n w_i grad g(x~_i)   (the paper's code; zero-weight
//                         particles freeze; the code's learning rate lr = tau n / 2)
//             unweighted: x_i <- x_i - tau grad g(x~_i)         (eq. (15)); both are the MMD
//                         particle flow at uniform weights
//             x~ = x + noise z, z ~ N(0, Id), while noise > 0 and the iteration <= noise_off
//             (Arbel et al.'s noisy MMD flow); the witness g is built from x~ (noise_witness =
//             noisy, the IFT code's) or from x (clean, Arbel et al.'s)
//   weight    pgd, kl, qp (weight_step.hpp, qp.hpp) with g at the new positions and the old
//             weights, or none (the MMD flow of Arbel et al.)
// The witness g, its gradient and the metrics' MMD^2 are pairwise kernel passes on the run's
// device (weighted_mmd.hpp); the O(n) weight updates run on the host (the weights are copied
// back once per iteration). At uniform weights without noise or resampling the position step is
// the functional's particle gradient, so weight_step = "none" is the particle scheme bit for bit.
#include <memory>

#include "nwgf/schemes/schemes.hpp"

namespace nwgf {

template <class T>
std::unique_ptr<Scheme<T>> make_ift_scheme(const Context& ctx, const FlowConfig& cfg,
                                           Functional<T>& f, index_t n, index_t d);

// The initial weights of a run: [initial] weights_path, else uniform 1/n. Bad input naming
// initial.weights_path for a file of the wrong length, negative entries, or (mass = simplex)
// a sum other than 1 (relative 1e-9).
std::vector<double> initial_weights(const FlowConfig& cfg, index_t n);

}  // namespace nwgf
