#pragma once
// The qp weight step (qp.hpp) on the CUDA backend (qp.cu), so that an IFT iteration with
// weight_step = "qp" keeps its weights on the device and is capturable into a CUDA graph: the
// Gram matrix K(X', X') in double (one kernel), then a fixed sequence of kernels (the products
// K v over all blocks, the O(n) steps in one block): c = K w - g + ref / eta,
// L = 1.02 (1 + 1/eta) lambda_max(K) by 100 power iterations, FISTA from w with the projection of
// weight_block.cuh, the iterate with the lowest objective kept. The host's algorithm step for
// step; its sums are fixed-order block reductions and the simplex projection bisection + Michelot
// instead of the sort, so the weights agree with the host's to rounding, not bit for bit.
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/schemes/config_enums.hpp"

namespace nwgf::detail {

struct DeviceQp {
  PairFamily family = PairFamily::gaussian;  // K = sign k(|x - y|^2) (IftKernel)
  double param = 1, sign = 1;
  double eta = 0.1;
  index_t iterations = 200;
  MassConstraint mass = MassConstraint::simplex;
  int bisections = 64;
  double* gram = nullptr;     // (n, n) scratch, ctx's device
  double* scratch = nullptr;  // (8 n + 5) scratch, ctx's device
};

#ifdef NWGF_HAVE_CUDA
// w (n doubles, device) <- the qp step from w with the witness g (n) at x (n, d); ref (n, or
// null for K w: qp_reference = "half") = K(X', X_ref) w; w_t (n) <- T(w).
template <class T>
void cuda_weight_step_qp(const Context& ctx, const DeviceQp& q, const T* x, index_t n, index_t d,
                         const T* g, const T* ref, double* w, T* w_t);
#endif

}  // namespace nwgf::detail
