// The MLP's PReLU (learnable slopes), linear and residual variants: forward against a naive
// long-double reference, the reverse pass against central differences in double for every
// parameter (slopes included) and every input coordinate, accumulation, and a ReLU network whose
// layout and values the options leave unchanged.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/mlp.hpp"
#include "tests/nn/central_differences.hpp"
#include "tests/nn/reference_mlp.hpp"

using namespace nwgf;

namespace {

using nwgf::test::reference_forward;


// L = sum c ⊙ net(x): forward vs reference, dL/dtheta and dL/dx vs central differences.
void check(const std::vector<index_t>& w, const MlpOptions& o, index_t B, std::uint64_t seed) {
  Context ctx(Device::cpu, 1);
  const index_t in = w.front(), out = w.back();
  Mlp<double> mlp(ctx, w, B + 2, o);
  mlp.init(ctx, seed, 0);
  const index_t P = mlp.num_params();
  if (o.activation == Activation::prelu) {
    // Move the slopes off their common initial value so each one is tested on its own.
    for (index_t l = 1; l < index_t(w.size()) - 1; ++l)
      mlp.params()[mlp.slope_offset(l)] = 0.1 + 0.15 * double(l);
    CHECK(P == mlp.slope_offset(index_t(w.size()) - 2) + 1);
  }
  std::vector<double> p(mlp.params(), mlp.params() + P);
  std::vector<double> x(std::size_t(B * in)), c(std::size_t(B * out));
  long double kink = 0;
  for (std::uint64_t s = 1;; ++s) {
    rng_normal<double>(ctx, seed, s, 0, x.data(), index_t(x.size()));
    reference_forward(w, o, p, x, B, &kink);
    if (kink > 1e-3 || o.activation == Activation::linear) break;
    REQUIRE(s < 50);
  }
  rng_normal<double>(ctx, seed, 99, 0, c.data(), index_t(c.size()));
  std::vector<double> y(std::size_t(B * out)), dx(std::size_t(B * in));
  mlp.forward(ctx, ConstPointsView<double>(x.data(), B, in), PointsView<double>(y.data(), B, out));
  const auto ref = reference_forward(w, o, p, x, B, nullptr);
  for (std::size_t i = 0; i < y.size(); ++i)
    REQUIRE(std::fabs(y[i] - double(ref[i])) <= 1e-12 * (1 + std::fabs(double(ref[i]))));
  mlp.backward(ctx, ConstPointsView<double>(c.data(), B, out), PointsView<double>(dx.data(), B, in));
  const std::vector<double> g(mlp.grads(), mlp.grads() + P);

  auto loss = [&](const std::vector<double>& pp, const std::vector<double>& xx) {
    const auto yy = reference_forward(w, o, pp, xx, B, nullptr);
    long double s = 0;
    for (std::size_t i = 0; i < yy.size(); ++i) s += (long double)c[i] * yy[i];
    return s;
  };
  nwgf::test::check_central_differences(p, x, g, dx, loss);
  // Accumulation adds the same gradient again.
  mlp.backward(ctx, ConstPointsView<double>(c.data(), B, out), PointsView<double>(), true);
  for (index_t q = 0; q < P; ++q)
    REQUIRE(std::fabs(mlp.grads()[q] - 2 * g[std::size_t(q)]) <= 1e-12 * (1 + std::fabs(g[std::size_t(q)])));
}

}  // namespace

TEST_CASE("PReLU networks: forward and reverse against central differences") {
  MlpOptions o;
  o.activation = Activation::prelu;
  check({2, 8, 8, 1}, o, 7, 1);
  check({3, 5, 4, 6, 2}, o, 4, 2);
  o.residual = true;
  check({2, 16, 16, 2}, o, 5, 3);
}

TEST_CASE("linear and residual networks: forward and reverse against central differences") {
  MlpOptions o;
  o.activation = Activation::linear;
  o.residual = true;
  check({2, 6, 6, 2}, o, 5, 4);
  check({3, 3}, o, 4, 5);
  MlpOptions r;
  r.residual = true;
  check({2, 9, 2}, r, 6, 6);
}

TEST_CASE("PReLU slopes start at prelu_init; ReLU networks keep their layout") {
  Context ctx(Device::cpu, 1);
  MlpOptions o;
  o.activation = Activation::prelu;
  Mlp<float> a(ctx, {2, 4, 4, 2}, 3, o), b(ctx, {2, 4, 4, 2}, 3);
  a.init(ctx, 7, 1);
  b.init(ctx, 7, 1);
  CHECK(a.num_params() == b.num_params() + 2);
  CHECK(std::equal(b.params(), b.params() + b.num_params(), a.params()));
  CHECK(a.params()[a.slope_offset(1)] == 0.25f);
  CHECK(a.params()[a.slope_offset(2)] == 0.25f);
  CHECK_THROWS(Mlp<float>(ctx, {2, 4, 3}, 3, MlpOptions{Activation::relu, true, 0.25}));
}
