#pragma once
// Adam (Kingma & Ba) with PyTorch's formula (torch.optim.Adam, no weight decay, not amsgrad):
//   m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2,   t <- t + 1,
//   p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
// Both moments live in ONE buffer (m then v, 2n values), so a step is one fused pass over
// (p, g, m, v): one OpenMP loop on the CPU, one kernel launch on CUDA, no allocation, no sync.
// lr and the bias corrections of step t are kernel arguments computed on the host: a CUDA graph
// that captures step() replays the captured t and lr, so a captured graph must have its Adam
// node's parameters updated (cudaGraphExecKernelNodeSetParams) or be re-captured per step.
#include <cstdint>

#include "engine/backend.hpp"
#include "engine/buffer.hpp"
#include "engine/types.hpp"

namespace nwgf {

template <class T>
class Adam {
 public:
  Adam(const Context& ctx, index_t n, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);

  // One step on n parameters (pointers on ctx's device); bias corrections use t = steps() + 1.
  void step(const Context& ctx, T* params, const T* grads, double lr);

  // Zero moments and step count.
  void reset(const Context& ctx);

  std::int64_t steps() const { return steps_; }
  void set_steps(std::int64_t t) { steps_ = t; }
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
};

}  // namespace nwgf
