#pragma once
// The variational JKO scheme (Fan, Taghvaei, Chen, "Variational Wasserstein gradient flow",
// Alg. 1): each step trains a map T (warm-started, [network]) against a critic h ([critic]) on
// the min-max (9) of schemes/variational/critic_rows.hpp, then pushes the stored particles,
// P_{k+1} = T_k # P_k. (The paper's code instead pushes fresh samples of P_0 through all maps
// T_1..T_k each step; on stored particles a step costs O(1) maps, not O(k).)
//
// Iteration j of step k (J_1 = train.iterations, M = train.batch, J_2 = train.inner):
//   Y: M rows of the particles, Z: M samples of Gamma; ty = T(Y) (fixed during the h steps);
//   J_2 Adam steps on h descending -V (CriticRow), then one Adam step on T descending
//   1/(2a) |Y - T(Y)|^2 + A(T, h) (MapRow; grad of log h(T(Y)) through the critic's input
//   gradient).
// Gamma is refitted at the start of every step: the Gaussian moment fit of the particles (KL),
// or the uniform box [-R, R]^d with R = 1.5 max |x_ij| (entropy), as in the paper's code.
// Both networks and their Adam states persist across steps and are checkpointed.
//
// Sums of functionals (kind = "sum", or one kind; README "Variational JKO"): the kl or entropy
// term (at most one) through the critic, its weight w scaling w A in the map's loss; potential
// terms add w E[V(T Y)] with grad V = -grad ln Q by hand (PotentialRow); interaction terms
// either add w/2 E W(T Y - T Y') (the batch U-statistic, by hand) or, with fb, are the explicit
// forward step (12) x <- x - a w (grad W * P_k)(x) over all particles before the JKO step.
// Without a kl or entropy term no critic is trained (A = 0, no Gamma).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/nn/icnn.hpp"
#include "nwgf/schemes/schemes.hpp"

namespace nwgf {

// The ICNN maps phi_1..phi_k of a run with network.kind = "icnn", in double (each with max_batch
// rows), from its scheme state (a checkpoint's; scalar_bytes = sizeof(T) of the run): for
// densities through the maps (nn/icnn_density.hpp). Bad input naming `what` for any other run.
std::vector<std::unique_ptr<Icnn<double>>> variational_icnn_maps(const FlowConfig& cfg, index_t d,
                                                                 std::uint32_t scalar_bytes,
                                                                 const std::string& state,
                                                                 index_t max_batch,
                                                                 const std::string& what);

template <class T>
std::unique_ptr<Scheme<T>> make_variational_scheme(const Context& ctx, const FlowConfig& cfg,
                                                   index_t n, index_t d);

}  // namespace nwgf
