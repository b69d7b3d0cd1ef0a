#include "nwgf/schemes/functional_interaction.hpp"

#include "nwgf/engine/error.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"

namespace nwgf {
namespace {

PairFamily family_of(KernelKind kernel) {
  switch (kernel) {
    case KernelKind::quartic_quadratic: return PairFamily::quartic_quadratic;
    case KernelKind::log_quadratic: return PairFamily::log_quadratic;
    case KernelKind::gaussian_attraction: return PairFamily::gaussian_attraction;
    case KernelKind::riesz: return PairFamily::riesz;
    case KernelKind::gaussian: break;
  }
  throw_bad_input("functional.kernel: not an interaction kernel W");
}

// The pair sums compute sum_ij k(x_i - x_j) of the family's k; W = sign k: the Riesz family's k is
// |z|^r and W(z) = -|z|^r (the MMD kernel K of the Riesz functional, whose E_K = 1/2 ∫∫ K is
// this F: repulsive), the other families' k is W itself.
template <class T>
class KernelInteraction final : public Functional<T> {
 public:
  KernelInteraction(const Context& ctx, KernelKind kernel, double r)
      : family_(interaction_pairs(kernel, r).family),
        param_(interaction_pairs(kernel, r).param),
        sign_(interaction_pairs(kernel, r).sign),
        scalar_(ctx, 1) {
    if (kernel == KernelKind::riesz && !(r > 0 && r < 2)) {
      throw_bad_input("functional.r: the Riesz exponent must lie in (0, 2)");
    }
  }

  double batch_value(const Context&, ConstPointsView<T>, T, PointsView<T>) override {
    throw_bad_input("functional.kernel: this kernel runs with flow.scheme = \"particle\" only");
  }
  double batch_directional(const Context&, ConstPointsView<T>, ConstPointsView<T>, T,
                           PointsView<T>) override {
    throw_bad_input("functional.kernel: this kernel runs with flow.scheme = \"particle\" only");
  }

  double value(const Context& ctx, ConstPointsView<T> x) override {
    return value_deferred(ctx, x)(ctx);
  }

  // The pair sum stays on the device (scalar_) until the value is read: capturable.
  DeferredValue value_deferred(const Context& ctx, ConstPointsView<T> x) override {
    const double n = double(x.rows);
    pair_energy<T>(ctx, family_, param_, x, nullptr, x, nullptr, scalar_.data(), &ws_);
    return [this, n](const Context& c) {
      double v = 0;
      copy_to_host(c, &v, scalar_);
      return sign_ * 0.5 * v / (n * n);
    };
  }

  void particle_gradient(const Context& ctx, ConstPointsView<T> x, T scale,
                         PointsView<T> grad) override {
    if (comm_ && comm_->size() > 1) {
      pair_gradient_ranks<T>(ctx, *comm_, family_, param_, x, nullptr, x, nullptr,
                             T(sign_ * double(scale) / double(x.rows)), grad, false);
      return;
    }
    pair_gradient<T>(ctx, family_, param_, x, nullptr, x, nullptr,
                     T(sign_ * double(scale) / double(x.rows)), grad, false, &ws_);
  }

  // The particle gradient runs across ranks (kernels/pairwise_ranks.hpp).
  bool set_comm(const Comm* comm) override {
    comm_ = comm;
    return true;
  }

 private:
  const Comm* comm_ = nullptr;
  PairFamily family_;
  double param_, sign_;
  Buffer<double> scalar_;
  PairwiseWorkspace ws_;
};

}  // namespace

InteractionPairs interaction_pairs(KernelKind kernel, double r) {
  return {family_of(kernel), kernel == KernelKind::riesz ? r : 1.0,
          kernel == KernelKind::riesz ? -1.0 : 1.0};
}

template <class T>
std::unique_ptr<Functional<T>> make_kernel_interaction(const Context& ctx, KernelKind kernel,
                                                       double r) {
  return std::make_unique<KernelInteraction<T>>(ctx, kernel, r);
}

template std::unique_ptr<Functional<float>> make_kernel_interaction<float>(const Context&,
                                                                           KernelKind, double);
template std::unique_ptr<Functional<double>> make_kernel_interaction<double>(const Context&,
                                                                             KernelKind, double);

}  // namespace nwgf
