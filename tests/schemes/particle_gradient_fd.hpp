#pragma once
// The functional tests' finite-difference proof of particle_gradient: for the n x d points x,
// particle_gradient(scale) = scale N grad F_N, checked coordinate by coordinate against the
// central difference of value() with step h (double precision).
#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"

namespace nwgf::test {

template <class F>
void check_particle_gradient_fd(const Context& ctx, F& f, const std::vector<double>& x, index_t n,
                                index_t d, double scale, double h, double eps) {
  std::vector<double> g(x.size());
  f.particle_gradient(ctx, ConstPointsView<double>(x.data(), n, d), scale,
                      PointsView<double>(g.data(), n, d));
  for (std::size_t e = 0; e < x.size(); ++e) {
    std::vector<double> p = x, m = x;
    p[e] += h;
    m[e] -= h;
    const double fd = (f.value(ctx, ConstPointsView<double>(p.data(), n, d)) -
                       f.value(ctx, ConstPointsView<double>(m.data(), n, d))) / (2 * h);
    INFO("coordinate " << e);
    CHECK(g[e] == doctest::Approx(scale * double(n) * fd).epsilon(eps));
  }
}

}  // namespace nwgf::test
