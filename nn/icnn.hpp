#pragma once
// An input-convex network phi: R^d -> R and its gradient map T = grad phi (the variational JKO
// paper's ICNN maps, eq. (5), used for densities, eqs. (15)-(16)). The variant is the paper's
// code's DenseICNN (Korotin et al., "Wasserstein-2 generative networks"): a dense ICNN with
// input-quadratic skip connections, hidden widths h_0..h_{L-1}, rank r, CELU.
//
//   q_l(x)_k = sum_s (a_{l,s,k} . x)^2 + (W_l x)_k + b_{l,k}   (ConvexQuadratic: convex in x)
//   z_0 = q_0(x)                                               (no activation on the first layer,
//                                                               as in the code)
//   z_l = celu(u_l),  u_l = V_l z_{l-1} + q_l(x),  l = 1..L-1   (V_l >= 0)
//   phi(x) = w . z_{L-1} + (eps/2) |x|^2                        (w >= 0, eps = strong convexity)
// celu(u) = u (u > 0), e^u - 1 (u <= 0) is convex and nondecreasing, so phi is convex (and
// eps-strongly convex) whenever the convex weights V_l and w are >= 0: clamp_convex() clamps them
// after each optimiser step (the code's convexify()). With one hidden layer (the code's porous
// config, hidden [64]) phi is a convex quadratic and T is affine: CELU is never applied. CELU's
// second derivative jumps at 0 (1 to 0), so with more layers phi is C^{1,1}, not C^2: grad^2 phi
// (and a density pushed through T) jumps across the hidden units' kink sets.
//
// forward() computes T(x) = grad_x phi(x) by a hand-written reverse pass through phi:
//   g_{L-1} = w,  delta_l = g_l ⊙ celu'(u_l) (delta_0 = g_0),  g_{l-1} = delta_l V_l,
//   T(x) = eps x + sum_l [ W_l^T delta_l + sum_s a_{l,s,.} (2 delta_l ⊙ p_{l,s}) ],
//   p_{l,s,k} = a_{l,s,k} . x.
// backward(dL/dT) returns dL/dtheta of a loss of T(x): the reverse pass of that whole
// computation (forward and first reverse pass), i.e. double backprop, derived by hand in
// nn/icnn.cpp. hessian() returns grad^2 phi(x) by forward-mode tangents of T (one per input
// coordinate).
//
// Parameters are ONE buffer: per layer l [A_l (d, r, h_l) (the code's quadratic_decomposed
// layout), W_l (h_l, d), b_l (h_l)], then the convex block [V_1 (h_1, h_0), ..., V_{L-1}, w
// (h_{L-1})], contiguous so that clamp_convex() is one pass.
//
// Both backends: on a CUDA context the same passes run on the device (GEMMs through engine/blas,
// the elementwise math of nn/icnn_math.hpp in the kernels of nn/icnn.cu). Every buffer is
// preallocated for max_batch, so forward/backward/clamp_convex allocate nothing and, on CUDA,
// synchronise nothing (the variational scheme captures its iteration in a CUDA graph). hessian()
// is a host computation (nwgf density evaluates densities on the host): CPU contexts only.
#include <cstdint>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

struct IcnnOptions {
  index_t rank = 1;                 // r: quadratic terms per unit
  double strong_convexity = 1e-6;   // eps in (eps/2) |x|^2
};

template <class T>
class Icnn {
 public:
  // hidden = {h_0, ..., h_{L-1}}, at least one width; all positive. max_batch >= 1.
  Icnn(const Context& ctx, index_t d, std::vector<index_t> hidden, index_t max_batch,
       const IcnnOptions& options = {});

  // The code's initialisation (torch.randn for A and W, nn.Linear's U(-1/sqrt(fan_in),
  // 1/sqrt(fan_in)) for V and w) from the Philox stream (seed, stream); b = 0 (the code leaves it
  // uninitialised memory); the convex weights clamped to >= 0 at once (the code clamps them after
  // its first pretraining step).
  void init(const Context& ctx, std::uint64_t seed, std::uint64_t stream);

  // in: (B, d), B <= max_batch; out: (B, d) = T(in) = grad phi(in). Caches what backward needs.
  void forward(const Context& ctx, ConstPointsView<T> in, PointsView<T> out);
  // phi(in) into phi (B values, memory of ctx's device); overwrites the forward cache.
  void potential(const Context& ctx, ConstPointsView<T> in, T* phi);
  // dout: (B, d) = dL/dT for the last forward's batch. Writes dL/dtheta into grads() (adds to it
  // if accumulate). Does not modify the forward cache.
  void backward(const Context& ctx, ConstPointsView<T> dout, bool accumulate = false);
  // hess: (B, d, d) = grad^2 phi(in) (symmetric); overwrites the forward cache. CPU only.
  void hessian(const Context& ctx, ConstPointsView<T> in, T* hess);
  // V_l, w <- max(., 0).
  void clamp_convex(const Context& ctx);

  T* params() { return params_.data(); }
  const T* params() const { return params_.data(); }
  T* grads() { return grads_.data(); }
  const T* grads() const { return grads_.data(); }
  index_t num_params() const { return params_.size(); }
  index_t dim() const { return d_; }
  const std::vector<index_t>& hidden() const { return hidden_; }
  index_t max_batch() const { return max_batch_; }
  const IcnnOptions& options() const { return options_; }
  // Offsets in params()/grads(): A_l, W_l, b_l (l = 0..L-1), V_l (l = 1..L-1), w; the convex
  // block is [convex_offset(), num_params()).
  index_t a_offset(index_t l) const { return layer_[std::size_t(l)]; }
  index_t w_offset(index_t l) const { return a_offset(l) + d_ * options_.rank * hidden_[std::size_t(l)]; }
  index_t b_offset(index_t l) const { return w_offset(l) + hidden_[std::size_t(l)] * d_; }
  index_t v_offset(index_t l) const { return v_[std::size_t(l)]; }
  index_t final_offset() const { return final_; }
  index_t convex_offset() const { return convex_; }

 private:
  index_t layers() const { return index_t(hidden_.size()); }
  // The forward pass of phi and the first reverse pass (x_ holds the input): fills p_, u_, z_,
  // g_, delta_, e_ for B rows.
  void run_forward(const Context& ctx, index_t B);

  index_t d_;
  std::vector<index_t> hidden_;
  index_t max_batch_;
  IcnnOptions options_;
  std::vector<index_t> layer_, v_;  // offsets of A_l, V_l (v_[0] unused)
  index_t final_ = 0, convex_ = 0;
  index_t batch_ = 0;  // rows of the last forward
  Buffer<T> params_, grads_;
  Buffer<T> x_;  // (max_batch, d) copy of the last input
  // Per layer (max_batch rows): p (r h_l), u, z, g, delta (h_l), e = 2 delta ⊙ p (r h_l).
  std::vector<Buffer<T>> p_, u_, z_, g_, delta_, e_;
  // Reverse scratch per layer: adjoints of delta, u (h_l), of p and c A_l (r h_l).
  std::vector<Buffer<T>> delta_bar_, u_bar_, p_bar_, ca_;
  Buffer<T> g_bar_;  // (max_batch, max h) adjoint of g_l
  Buffer<T> partial_;  // CUDA: (mlp_colsum_chunks, max h) column-sum partials
};

}  // namespace nwgf
