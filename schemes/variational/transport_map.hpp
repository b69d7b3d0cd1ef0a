#pragma once
// The variational scheme's map T ([network] kind) with its Adam state: an MLP (nn/mlp.hpp,
// residual or not, dropout), or T = grad phi of an input-convex network (nn/icnn.hpp, the paper's
// code's DenseICNN), whose convex weights are clamped to >= 0 after every Adam step (the code's
// convexify()) and which is pretrained to the identity once before the first step (the scheme
// runs the pretraining; this records that it ran, in the checkpointed state).
//
// An ICNN map also keeps the parameters of every step's trained map phi_1, phi_2, ... (record(),
// once per step before the push; on the host, downloaded from a CUDA device), for densities through all maps (eqs. (15)-(16),
// nn/icnn_density.hpp, `nwgf density`).
//
// State: an MLP's is serialize_mlp's bytes (as before ICNN maps existed); an ICNN's is one byte
// (pretrained or not), a u64 count k, the k recorded parameter vectors (num_params T values each),
// then serialize_icnn's bytes.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/nn/adam.hpp"
#include "nwgf/nn/icnn.hpp"
#include "nwgf/nn/mlp.hpp"
#include "nwgf/nn/serialize.hpp"
#include "nwgf/schemes/config.hpp"

namespace nwgf {

// The recorded maps' parameters (S values, n each) in an ICNN map's state (TransportMap::state).
template <class S>
std::vector<std::vector<S>> icnn_maps(const std::string& bytes, index_t n, const std::string& what) {
  std::uint64_t k = 0;
  if (bytes.size() < 1 + sizeof k || (bytes[0] != '\0' && bytes[0] != '\1'))
    throw_bad_input(what + ": not an ICNN map state (network.kind = \"icnn\")");
  std::memcpy(&k, bytes.data() + 1, sizeof k);
  const std::size_t each = sizeof(S) * std::size_t(n);
  if (k > (bytes.size() - 1 - sizeof k) / std::max<std::size_t>(each, 1))
    throw_bad_input(what + ": truncated ICNN map state");
  std::vector<std::vector<S>> maps(static_cast<std::size_t>(k), std::vector<S>(static_cast<std::size_t>(n)));
  for (std::size_t j = 0; j < maps.size(); ++j)
    std::memcpy(maps[j].data(), bytes.data() + 1 + sizeof k + j * each, each);
  return maps;
}

template <class T>
class TransportMap {
 public:
  TransportMap(const Context& ctx, const FlowConfig& cfg, index_t d, index_t max_batch) {
    if (cfg.map == MapKind::icnn) {
      icnn_.emplace(ctx, d, cfg.hidden, max_batch, IcnnOptions{cfg.rank, cfg.strong_convexity});
    } else {
      std::vector<index_t> w{d};
      w.insert(w.end(), cfg.hidden.begin(), cfg.hidden.end());
      w.push_back(d);
      mlp_.emplace(ctx, w, max_batch, MlpOptions{cfg.activation, cfg.residual, 0.25, cfg.dropout});
    }
    adam_.emplace(ctx, num_params());
  }

  void init(const Context& ctx, std::uint64_t seed, std::uint64_t stream) {
    if (icnn_) {
      icnn_->init(ctx, seed, stream);
    } else {
      mlp_->init(ctx, seed, stream);
    }
  }
  // out = T(in); an MLP's training forward draws dropout masks from *train.
  void forward(const Context& ctx, ConstPointsView<T> in, PointsView<T> out,
               const DropoutDraw* train = nullptr) {
    if (icnn_) {
      icnn_->forward(ctx, in, out);
    } else {
      mlp_->forward(ctx, in, out, train);
    }
  }
  // grads() = d/dtheta of a loss of the last forward's T, given dout = dL/dT.
  void backward(const Context& ctx, ConstPointsView<T> dout) {
    if (icnn_) {
      icnn_->backward(ctx, dout);
    } else {
      mlp_->backward(ctx, dout, PointsView<T>());
    }
  }
  // One Adam step on grads(); an ICNN's convex weights clamped after it.
  void step(const Context& ctx, double lr) { step_with(ctx, *adam_, lr); }
  void step_with(const Context& ctx, Adam<T>& adam, double lr) {
    adam.step(ctx, params(), grads(), lr);
    if (icnn_) icnn_->clamp_convex(ctx);
  }

  bool is_icnn() const { return icnn_.has_value(); }
  bool needs_pretraining() const { return icnn_ && !pretrained_; }
  void set_pretrained() { pretrained_ = true; }
  std::uint64_t dropout_elements() const { return mlp_ ? mlp_->dropout_elements() : 0; }
  T* params() { return icnn_ ? icnn_->params() : mlp_->params(); }
  T* grads() { return icnn_ ? icnn_->grads() : mlp_->grads(); }
  index_t num_params() const { return icnn_ ? icnn_->num_params() : mlp_->num_params(); }
  Icnn<T>& icnn() { return *icnn_; }
  // ICNN: appends the current parameters to the maps of the run (MLP: nothing). Downloads (and
  // so synchronises) on CUDA: once per step, outside the training iterations.
  void record(const Context& ctx) {
    if (!icnn_) return;
    std::vector<T> p(static_cast<std::size_t>(icnn_->num_params()));
    detail::copy_bytes(ctx, p.data(), Device::cpu, icnn_->params(), ctx.device(),
                       sizeof(T) * p.size());
    history_.push_back(std::move(p));
  }

  std::string state(const Context& ctx) const {
    if (!icnn_) return serialize_mlp(ctx, *mlp_, &*adam_);
    std::string s(1, pretrained_ ? '\1' : '\0');
    const std::uint64_t k = history_.size();
    s.append(reinterpret_cast<const char*>(&k), sizeof k);
    for (const std::vector<T>& p : history_)
      s.append(reinterpret_cast<const char*>(p.data()), sizeof(T) * p.size());
    return s + serialize_icnn(ctx, *icnn_, &*adam_);
  }
  void restore(const Context& ctx, const std::string& bytes, const std::string& what) {
    if (!icnn_) return deserialize_mlp(ctx, bytes, what, *mlp_, &*adam_);
    if (bytes.empty() || (bytes[0] != '\0' && bytes[0] != '\1'))
      throw_bad_input(what + ": not an ICNN map state (network.kind = \"icnn\")");
    const std::vector<std::vector<T>> maps = icnn_maps<T>(bytes, num_params(), what);
    const std::size_t at = 1 + sizeof(std::uint64_t) + maps.size() * sizeof(T) * std::size_t(num_params());
    deserialize_icnn(ctx, std::string_view(bytes).substr(at), what, *icnn_, &*adam_);
    pretrained_ = bytes[0] == '\1';
    history_ = maps;
  }

 private:
  std::optional<Mlp<T>> mlp_;
  std::optional<Icnn<T>> icnn_;
  std::optional<Adam<T>> adam_;
  bool pretrained_ = false;
  std::vector<std::vector<T>> history_;  // ICNN: phi_1, phi_2, ... (params)
};

}  // namespace nwgf
