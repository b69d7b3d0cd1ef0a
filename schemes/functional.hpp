#pragma once
// The functionals F of a flow, estimated from samples. Conventions:
// K(x, y) = -|x - y|^r, E_K(mu) = 1/2 ∫∫ K dmu dmu, D_K^2(mu, nu) = E_K(mu - nu).
//
//   interaction  F = E_K(mu)
//   mmd          F = D_K^2(mu, nu) = E_K(mu) + V(mu) + E_K(nu),  V(mu) = ∫∫ |x - y|^r dmu dnu
//   barycenter   F = sum_k alpha_k D_K^2(mu, mu_k) (eq. 34) = E_K(mu) + V for nu = sum alpha_k mu_k,
//                plus a constant; the same estimator as mmd with target weights alpha_k / M_k, and
//                the value reported is D_K^2(mu, sum_k alpha_k mu_k) (0 at the barycenter)
//   energy33     eq. (33) of Appendix H, Example 3 (d = 2, exact estimator)
//   potential    F = ∫ V dmu, V = -ln Q of the [target] density (functional_potential.hpp)
//   sum          F = sum_i w_i F_i of potential and interaction-kernel terms (functional_sum.hpp)
//
// Batch estimates (training): the rows y (2B, d) are two independent batches y1 = rows [0, B),
// y2 = rows [B, 2B) stacked; the interaction term uses the cross sum between them (exact) or the
// U-statistic over all 2B rows (sliced), so the estimate of F is unbiased:
//   exact:   E ≈ -1/(2 B^2) sum_ij |y1_i - y2_j|^r
//   sliced:  E ≈ -1/(2 n (n - 1)) sum_{i != j} |y_i - y_j|,  n = 2B   (r = 1)
//   V ≈ 1/(2B) sum_i sum_j b_j |y_i - t_j|^r  (t target rows, weights b summing to 1: the
//   points' own masses (weighted Diracs) or 1/M, times alpha_k for a barycenter)
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/device_sum.hpp"
#include "nwgf/schemes/measures.hpp"

namespace nwgf {

// A value left where it was computed (device partials or scalars), read on demand once the work
// that computes it has run (a CUDA graph's replay included) and before the next call on the
// object that made it.
using DeferredValue = std::function<double(const Context&)>;

// A directional derivative left on the device (batch_directional_deferred): D as a DeviceSum for
// a kernel of the caller to read, and the refusal of coincident pairs (r < 1) deferred to check:
// called once the work ran, it throws the error batch_directional would have thrown (null: none
// to make).
struct DeferredDirectional {
  DeviceSum value;
  std::function<void(const Context&)> check;
};

template <class T>
class Functional {
 public:
  virtual ~Functional() = default;

  // Estimate of F from the stacked batches y (2B, d); grad (2B, d) <- scale dF^/dy when
  // grad.data != nullptr.
  virtual double batch_value(const Context& ctx, ConstPointsView<T> y, T scale,
                             PointsView<T> grad) = 0;

  // batch_value with the value deferred: grad as batch_value writes it, the value (the same
  // bits) read on demand. Where a functional overrides it, nothing in it allocates, downloads or
  // synchronises, so a CUDA graph can capture it; the default runs batch_value now.
  virtual DeferredValue batch_value_deferred(const Context& ctx, ConstPointsView<T> y, T scale,
                                             PointsView<T> grad) {
    const double v = batch_value(ctx, y, scale, grad);
    return [v](const Context&) { return v; };
  }

  // Estimate of the directional derivative D_v F = ∫ ∇_{v(x)} G(x) dmu (paper eq. before (15)):
  // the right derivative d/dt+ F^(y + t v) at t = 0; grad_v (2B, d) <- scale dD^/dv when
  // grad_v.data != nullptr. Coincident points use the exact right derivative (kernels/); for
  // r < 1 a coincident pair makes D infinite: a bad-input error (measure with atoms).
  virtual double batch_directional(const Context& ctx, ConstPointsView<T> y, ConstPointsView<T> v,
                                   T scale, PointsView<T> grad_v) = 0;

  // batch_directional with D left on the device (the same bits) and its coincident-pair check
  // deferred. Where a functional overrides it (the Riesz functionals and energy33, on one rank),
  // nothing in it allocates, downloads or synchronises, so a CUDA graph can capture it; the
  // default returns nothing and the caller runs batch_directional.
  virtual std::optional<DeferredDirectional> batch_directional_deferred(const Context& ctx,
                                                                        ConstPointsView<T> y,
                                                                        ConstPointsView<T> v,
                                                                        T scale,
                                                                        PointsView<T> grad_v) {
    (void)ctx, (void)y, (void)v, (void)scale, (void)grad_v;
    return std::nullopt;
  }

  // F(mu_N) of the empirical measure of x (N, d), V-statistic (all pairs): the metrics' value.
  virtual double value(const Context& ctx, ConstPointsView<T> x) = 0;

  // value with its sums left on the device, read on demand (the same bits). Where a functional
  // overrides it (the interaction kernels W and their sums, on one rank), nothing in it
  // allocates, downloads or synchronises, so a CUDA graph can capture it (the variational
  // scheme's batch interaction term); the default runs value now.
  virtual DeferredValue value_deferred(const Context& ctx, ConstPointsView<T> x) {
    const double v = value(ctx, x);
    return [v](const Context&) { return v; };
  }

  // Particle flow (App. D): grad <- scale M ∇F_M(x) for F_M(x) = F(1/M sum delta_{x_i}).
  virtual void particle_gradient(const Context& ctx, ConstPointsView<T> x, T scale,
                                 PointsView<T> grad) = 0;

  // The ranks that share particle_gradient (engine/comm/comm.hpp; nullptr: this process alone):
  // every rank then passes the same x and gets the whole gradient, bit for bit the one-process
  // result; the exact Riesz functionals, energy33 and the Gaussian MMD share the batch terms
  // (batch_value, batch_directional) the same way. Returns false when this functional does not
  // run across ranks (more than one rank; the Gaussian MMD and energy33 on the CUDA backend).
  virtual bool set_comm(const Comm* comm) { return comm == nullptr || comm->size() == 1; }

  // Fresh random directions for the sliced estimator (no-op for exact estimators).
  virtual void draw(const Context& ctx, std::uint64_t seed, std::uint64_t stream,
                    std::uint64_t counter) {
    (void)ctx, (void)seed, (void)stream, (void)counter;
  }
};

// What defines a functional, without the rest of a flow's config ([functional] and the
// barycenter weights of [target]).
struct FunctionalSpec {
  FunctionalKind kind = FunctionalKind::interaction;
  double r = 1.0;                         // K(x, y) = -|x - y|^r, 0 < r < 2
  Estimator estimator = Estimator::exact;  // sliced: r = 1
  index_t directions = 256;                // sliced: projections per evaluation
  std::vector<double> weights;             // barycenter: alpha_k (empty: equal)
  KernelKind kernel = KernelKind::riesz;   // mmd: gaussian K = exp(-gamma |x - y|^2)
  double gamma = 1.0;
  MeasureConfig target;                // potential: V = -ln Q of this density
  std::vector<FunctionalTerm> terms;   // sum: the terms (kl and entropy terms are left out:
                                       // the variational scheme estimates those itself)
};
FunctionalSpec functional_spec(const FlowConfig& cfg);

// Builds the functional for point sets of dimension d and at most max_rows rows per call
// (batch estimates use 2B rows; value/particle_gradient use N). `targets` are the target
// measures as weighted points (nu for mmd, the mu_k for barycenter, mixed with the weights
// alpha_k; empty otherwise).
template <class T>
std::unique_ptr<Functional<T>> make_functional(const Context& ctx, const FunctionalSpec& spec,
                                               index_t d, index_t max_rows,
                                               const std::vector<WeightedPoints>& targets);
// The same with equally weighted target points.
template <class T>
std::unique_ptr<Functional<T>> make_functional(const Context& ctx, const FunctionalSpec& spec,
                                               index_t d, index_t max_rows,
                                               const std::vector<HostMatrix<double>>& targets);
// The functional of a flow's config.
template <class T>
std::unique_ptr<Functional<T>> make_functional(const Context& ctx, const FlowConfig& cfg,
                                               index_t d, index_t max_rows,
                                               const std::vector<WeightedPoints>& targets) {
  return make_functional<T>(ctx, functional_spec(cfg), d, max_rows, targets);
}
template <class T>
std::unique_ptr<Functional<T>> make_functional(const Context& ctx, const FlowConfig& cfg,
                                               index_t d, index_t max_rows,
                                               const std::vector<HostMatrix<double>>& targets) {
  return make_functional<T>(ctx, functional_spec(cfg), d, max_rows, targets);
}

// flow.memory = "sharded" (schemes/run/sharded_loop.hpp): the exact Riesz functionals
// (interaction, mmd, barycenter) for the batch estimates of the backward scheme, the target held
// by rows across the ranks of comm: t_own and b_own this rank's rows owned_rows(m, rank, P) of
// the m target points and weights, energy_nu = E_K(nu) (the caller's pair_energy_sharded). The
// batch (the same on every rank) meets the target through the sharded passes
// (kernels/pairwise_sharded.hpp), each rank its rows of the batch, the gradient's rows then
// allgathered: the bits of one process's row pass; likewise the directional derivative's target
// term (riesz_directional_sharded, the forward scheme). On a CUDA Context (comm the DeviceComm
// when P > 1) the batch and target rows live on its device, the passes' sums come to the host
// and the gradient rows are allgathered on the device. value() and particle_gradient() need all
// samples: they throw (the sharded runner evaluates F itself).
template <class T>
std::unique_ptr<Functional<T>> make_sharded_target_functional(const Context& ctx, double r,
                                                              index_t d, index_t max_rows,
                                                              const Comm& comm,
                                                              ConstPointsView<T> t_own,
                                                              const T* b_own, index_t m,
                                                              double energy_nu);

}  // namespace nwgf
