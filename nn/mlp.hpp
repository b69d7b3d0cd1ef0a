#pragma once
// The networks of the neural schemes (paper Sect. 3-4, Appendix E; the variational JKO's map T
// and critic h): a fully connected network with a linear output layer, input [x, z]
// (d + latent_dim) -> R^out. Forward and reverse passes are hand-derived; GEMMs go through
// engine/blas.hpp.
//
// Layer l (l = 0..L-1) maps width w_l to w_{l+1}:  z_{l+1} = h_l W_l^T + 1 b_l^T,
// h_{l+1} = act(z_{l+1}) for hidden layers (nn/activation.hpp: relu by default, prelu with slope
// a_{l+1}, or linear), h_L = z_L (linear output), plus h_0 when residual (T(x) = x + net(x),
// w_0 = w_L).
// W_l is (w_{l+1}, w_l) row-major (PyTorch's nn.Linear layout), b_l is (w_{l+1}).
// Parameters are ONE contiguous buffer [W_0, b_0, W_1, b_1, ..., (prelu) a_1, ..., a_{L-1}];
// gradients have the same layout (a ReLU network's layout has no slopes).
//
// Reverse pass, with g_L = dL/dh_L (B, w_L):
//   dL/dW_l = g_{l+1}^T h_l,  dL/db_l = 1^T g_{l+1},
//   g_l = (g_{l+1} W_l) ⊙ act'(z_l)  (ReLU: 1[h_l > 0]; PReLU: 1 or a_l; h_0 = input: none),
//   dL/da_l = sum_ij (g_{l+1} W_l)_ij min(z_l,ij, 0),  dL/dh_0 += g_L when residual.
//
// Dropout (options.dropout = p > 0, training forwards only, given a DropoutDraw): inverted
// dropout on h_l for l = 2..L-1, i.e. after every hidden Linear(w, w) but the first layer, as
// the variational JKO paper's code (Linear, Dropout, act: the same as act, Dropout, since every
// activation here is positively homogeneous). h_l <- h_l ⊙ m_l / (1 - p), m_l Bernoulli(1 - p)
// from Philox; the reverse pass multiplies dL/dh_l by the same m_l / (1 - p). Element (i, j) of
// h_l is element offset + sum_{l' < l} max_batch w_l' + i w_l + j (dropout layers l' only) of the
// draw's stream, so a draw repeats bit for bit on every backend. p = 0 or no draw: no dropout.
// The draw is a kernel argument (not on the device like Adam's step counter): a captured CUDA
// graph of a training forward would replay the same masks.
//
// Every buffer is preallocated for max_batch, so forward/backward allocate nothing and, on CUDA,
// synchronise nothing (a scheme can capture its iteration in a CUDA graph).
#include <cstdint>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/nn/activation.hpp"

namespace nwgf {

struct MlpOptions {
  Activation activation = Activation::relu;
  bool residual = false;      // out = in + net(in); needs w_0 = w_L
  double prelu_init = 0.25;  // the slopes' initial value (init())
  double dropout = 0;        // p in [0, 1) of the hidden layers 2..L-1 (training forwards)
};

// Where a training forward draws its dropout masks: Philox (seed, stream), elements from offset.
struct DropoutDraw {
  std::uint64_t seed = 0, stream = 0, offset = 0;
};

template <class T>
class Mlp {
 public:
  // widths = {in, h_1, ..., out}, at least {in, out}; all positive. max_batch >= 1.
  Mlp(const Context& ctx, std::vector<index_t> widths, index_t max_batch,
      const MlpOptions& options = {});

  // PyTorch nn.Linear law: W_l and b_l uniform on [-1/sqrt(w_l), 1/sqrt(w_l)], from the Philox
  // stream (seed, stream); the same (seed, stream) gives the same parameters on every backend.
  // PReLU slopes start at options.prelu_init.
  void init(const Context& ctx, std::uint64_t seed, std::uint64_t stream);

  // in: (B, in), B <= max_batch; out: (B, out). Caches a copy of `in` and the hidden activations
  // for backward, so `in` may be overwritten afterwards. With train (and options.dropout > 0)
  // this is a training forward: dropout masks from *train, used again by backward.
  void forward(const Context& ctx, ConstPointsView<T> in, PointsView<T> out,
               const DropoutDraw* train = nullptr);

  // dout: (B, out) = dL/dout for the last forward's batch. Writes dL/dtheta into grads()
  // (adds to it if accumulate); din (B, in) = dL/din if din.data != nullptr.
  // Does not modify the forward cache: backward may be called several times per forward.
  void backward(const Context& ctx, ConstPointsView<T> dout, PointsView<T> din,
                bool accumulate = false);

  T* params() { return params_.data(); }
  const T* params() const { return params_.data(); }
  T* grads() { return grads_.data(); }
  const T* grads() const { return grads_.data(); }
  index_t num_params() const { return params_.size(); }
  const std::vector<index_t>& widths() const { return widths_; }
  index_t max_batch() const { return max_batch_; }
  index_t num_layers() const { return index_t(widths_.size()) - 1; }
  // Stream elements one training forward's masks span (0 without dropout): consecutive draws
  // that advance DropoutDraw::offset by this never share an element.
  std::uint64_t dropout_elements() const;
  const MlpOptions& options() const { return options_; }
  // Offset of the PReLU slope a_l (l = 1..L-1) in params()/grads().
  index_t slope_offset(index_t l) const { return slopes_ + l - 1; }
  // Offsets of W_l and b_l in params()/grads().
  index_t weight_offset(index_t l) const { return offsets_[std::size_t(l)]; }
  index_t bias_offset(index_t l) const {
    return offsets_[std::size_t(l)] + widths_[std::size_t(l)] * widths_[std::size_t(l) + 1];
  }

 private:
  std::vector<index_t> widths_;
  std::vector<index_t> offsets_;  // start of W_l in params_
  index_t max_batch_;
  MlpOptions options_;
  index_t slopes_ = 0;  // start of the PReLU slopes in params_
  index_t batch_ = 0;  // rows of the last forward
  bool dropped_ = false;  // the last forward applied dropout with draw_
  DropoutDraw draw_;
  Buffer<T> params_, grads_;
  Buffer<T> input_;              // (max_batch, w_0) copy of the last input
  std::vector<Buffer<T>> acts_;  // acts_[l-1] = h_l (max_batch, w_l), l = 1..L-1
  std::vector<Buffer<T>> pre_;   // prelu: pre_[l-1] = z_l (max_batch, w_l)
  Buffer<T> slope_terms_;        // prelu: (max_batch, max hidden width) dh min(z, 0)
  Buffer<T> colsum_, ones_;      // prelu: (max hidden width) column sums, ones
  Buffer<T> scratch_[2];         // (max_batch, max hidden width) ping-pong for g_l
  Buffer<T> partial_;            // per-thread / per-block column sums for dL/db
};

}  // namespace nwgf
