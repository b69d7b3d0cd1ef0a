#pragma once
// The pgd and kl weight steps on the CUDA backend (weight_step.cu), so that an IFT iteration keeps
// its weights on the device: one kernel of one block does the step, the projection (simplex:
// bisection on theta, then Michelot's exact threshold on the support it finds) and the copy of
// the weights into the kernels' precision. The per-weight math is weight_step_math.hpp, as on the
// host (weight_step.cpp, whose simplex projection sorts: the two agree to rounding).
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/config_enums.hpp"

namespace nwgf::detail {

struct DeviceWeightStep {
  WeightStep kind = WeightStep::pgd;  // pgd or kl
  MassConstraint mass = MassConstraint::simplex;
  KlNormalise normalise = KlNormalise::project;
  double eta = 0;
  int bisections = 64;  // halvings of theta's bracket (they stop early once it cannot shrink)
};

#ifdef NWGF_HAVE_CUDA
// w (n doubles, device) <- the step of w with the witness g (n, device); w_t (n, device) <- T(w).
template <class T>
void cuda_weight_step(const Context& ctx, const DeviceWeightStep& s, double* w, const T* g,
                      index_t n, T* w_t);
#endif

}  // namespace nwgf::detail
