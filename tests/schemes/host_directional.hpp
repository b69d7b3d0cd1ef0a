#pragma once
// A functional seen without its deferred directional derivative (Functional::
// batch_directional_deferred's default): the forward scheme then takes its host path, the one it
// took before D stayed on the device, so tests can compare the two bit for bit.
#include <cstdint>

#include "nwgf/schemes/functional.hpp"

namespace nwgf::test {

template <class T>
class HostDirectional final : public Functional<T> {
 public:
  explicit HostDirectional(Functional<T>& f) : f_(f) {}
  double batch_value(const Context& ctx, ConstPointsView<T> y, T scale,
                     PointsView<T> grad) override {
    return f_.batch_value(ctx, y, scale, grad);
  }
  double batch_directional(const Context& ctx, ConstPointsView<T> y, ConstPointsView<T> v, T scale,
                           PointsView<T> grad_v) override {
    return f_.batch_directional(ctx, y, v, scale, grad_v);
  }
  double value(const Context& ctx, ConstPointsView<T> x) override { return f_.value(ctx, x); }
  void particle_gradient(const Context& ctx, ConstPointsView<T> x, T scale,
                         PointsView<T> grad) override {
    f_.particle_gradient(ctx, x, scale, grad);
  }
  void draw(const Context& ctx, std::uint64_t seed, std::uint64_t stream,
            std::uint64_t counter) override {
    f_.draw(ctx, seed, stream, counter);
  }

 private:
  Functional<T>& f_;
};

}  // namespace nwgf::test
