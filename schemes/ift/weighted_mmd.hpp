#pragma once
// The MMD of a weighted particle measure mu = sum_i w_i delta_{x_i} (X: (n, d), w: (n)) to a
// target nu = sum_j b_j delta_{y_j} (Y: (m, d), b: (m) summing to 1), in the IFT paper's
// convention (Gladin et al. 2024):
//   MMD^2 = w'K_XX w - 2 w'K_XY b + b'K_YY b      (V-statistic, diagonal included, NO 1/2)
//   F     = 1/2 MMD^2                             (= D_K^2 of CONTRACT.md)
//   g(x)  = sum_j w_j K(x, x_j) - sum_j b_j K(x, y_j)   (the witness, dF/dw_i = g(x_i))
//   dF/dx_i = w_i grad g(x_i)
// K = exp(-gamma |x - y|^2) (Gaussian, sigma^2 = 1 / (2 gamma) for the pair family) or the Riesz
// K = -|x - y|^r. Every O(n^2 d) sum is a pairwise kernel pass (kernels/pairwise.hpp) on ctx's
// device; vectors w, g live on the device too.
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/schemes/config_enums.hpp"
#include "nwgf/schemes/measures.hpp"

namespace nwgf {

// K = sign * k with k the pair family's value (kernels/family/).
struct IftKernel {
  PairFamily family = PairFamily::gaussian;
  double param = 1;  // sigma (Gaussian) or r (Riesz)
  double sign = 1;   // +1 Gaussian, -1 Riesz
  static IftKernel make(KernelKind kind, double gamma, double r);
};

template <class T>
class WeightedMmd {
 public:
  WeightedMmd(const Context& ctx, IftKernel kernel, index_t d, const WeightedPoints& target);

  // A new target (same m), e.g. a fresh sample.
  void set_target(const Context& ctx, const WeightedPoints& target);
  // The target's rows (m, d) on ctx's device, for a kernel to write a new sample in (the
  // weights stay): call target_rows_changed() after, and b'K_YY b is recomputed when mmd2 needs it.
  T* target_rows() { return y_.data(); }
  void target_rows_changed() { yy_stale_ = true; }
  index_t m() const { return m_; }

  // MMD^2 (paper convention) of (x, w) against the target; w on the device.
  double mmd2(const Context& ctx, ConstPointsView<T> x, const T* w);

  // g_i = g(x_eval_i) of the witness built from (x_wit, w); g: (n) on the device.
  void witness(const Context& ctx, ConstPointsView<T> x_eval, ConstPointsView<T> x_wit,
               const T* w, T* g);

  // grad_i = scale * a_i * grad g(x_eval_i) (a: (n) row factors or null for 1) for the witness
  // of (x_wit, w); grad: (n, d), overwritten.
  void witness_gradient(const Context& ctx, ConstPointsView<T> x_eval, const T* a,
                        ConstPointsView<T> x_wit, const T* w, T scale, PointsView<T> grad);

  // The witness of (x, w) at x itself, g (n), and the target's part of its gradient at x,
  // target_grad_i = -sum_j b_j grad_x K(x_i, y_j) (n, d), from one pass over the target: the
  // weight step's values and the next position step's target term (it does not depend on w).
  void witness_and_target_gradient(const Context& ctx, ConstPointsView<T> x, const T* w, T* g,
                                   PointsView<T> target_grad);

  // witness_gradient(x, a, x, w, scale, grad) given target_grad of witness_and_target_gradient
  // at the same x (and target): one pass over the particles instead of two passes.
  void witness_gradient_cached(const Context& ctx, ConstPointsView<T> x, const T* a, const T* w,
                               T scale, const T* target_grad, PointsView<T> grad);

  // The ranks that share the witness passes (engine/comm/comm.hpp; nullptr: this process alone);
  // every rank passes the same arguments and gets one process's bits. mmd2 stays on the caller's
  // rank. On CUDA (comm a DeviceComm) only the gradient passes are shared (rows gathered over
  // NCCL); the row sums (witness, witness_and_target_gradient) run whole on every rank, since
  // pair_row_sums_ranks splits the CPU pass by its threads.
  void set_comm(const Comm* comm) { comm_ = comm; }

 private:
  bool distributed() const { return comm_ && comm_->size() > 1; }
  bool rows_distributed(const Context& ctx) const { return distributed() && !ctx.is_cuda(); }
  void gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                const T* b, T scale, PointsView<T> grad, bool accumulate);
  ConstPointsView<T> yview() const { return ConstPointsView<T>(y_.data(), m_, d_, y_.device()); }
  double energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                const T* b);

  IftKernel k_;
  index_t d_, m_;
  Buffer<T> y_, b_;
  Buffer<double> scalar_;
  double yy_ = 0;  // b'k_YY b
  bool yy_stale_ = false;  // the rows changed since yy_ was computed
  PairwiseWorkspace ws_;
  const Comm* comm_ = nullptr;
};

}  // namespace nwgf
