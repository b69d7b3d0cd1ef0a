#pragma once
// Adam (Kingma & Ba) with PyTorch's formula (torch.optim.Adam, no weight decay, not amsgrad):
//   m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2,   t <- t + 1,
//   p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
// Both moments live in ONE buffer (m then v, 2n values), so a step is one fused pass over
// (p, g, m, v): one OpenMP loop on the CPU, one kernel launch on CUDA, no allocation, no sync.
// The step counter t lives on ctx's device and the step advances it itself, so a CUDA graph
// that captures step() applies the right bias corrections on every replay (lr, a kernel
// argument, is replayed as captured).
#include <cstdint>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

template <class T>
class Adam {
 public:
  Adam(const Context& ctx, index_t n, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);

  // One step on n parameters (pointers on ctx's device); bias corrections use t + 1, t the
  // number of steps taken so far.
  void step(const Context& ctx, T* params, const T* grads, double lr);

  // Zero moments and step count.
  void reset(const Context& ctx);

  // Steps taken through step() (host count; equals device_steps() unless CUDA graphs replayed
  // captured steps). device_steps reads the device counter (synchronises on CUDA).
  std::int64_t steps() const { return steps_; }
  std::int64_t device_steps(const Context& ctx) const;
  void set_steps(const Context& ctx, std::int64_t t);
  index_t size() const { return n_; }
  double beta1() const { return beta1_; }
  double beta2() const { return beta2_; }
  double eps() const { return eps_; }
  // (2n) = [m (n), v (n)] on ctx's device.
  T* moments() { return moments_.data(); }
  const T* moments() const { return moments_.data(); }

 private:
  index_t n_;
  double beta1_, beta2_, eps_;
  std::int64_t steps_ = 0;
  Buffer<T> moments_;
  Buffer<long long> counter_;  // [t, blocks finished in the running CUDA step]
};

}  // namespace nwgf
