// Dropout of the MLP (training forwards only): the reverse pass through fixed masks against
// central differences in double of a naive long-double forward that draws the masks at their
// documented Philox address; masks that repeat for the same draw and differ for another one,
// keep about 1 - p of the elements, do not depend on the thread count; p = 0 and evaluation
// forwards are bit-identical to a network without dropout.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/dropout.hpp"
#include "nwgf/nn/mlp.hpp"
#include "tests/nn/central_differences.hpp"
#include "tests/nn/reference_mlp.hpp"

using namespace nwgf;

namespace {

using nwgf::test::reference_forward;


// L = sum c ⊙ net(x) with the masks of draw: forward vs reference, dL/dtheta and dL/dx vs
// central differences.
void check(const std::vector<index_t>& w, const MlpOptions& o, index_t B, std::uint64_t seed) {
  Context ctx(Device::cpu, 1);
  const index_t in = w.front(), out = w.back(), max_batch = B + 2;
  const DropoutDraw draw{seed, 77, 1000 * seed + 3};
  Mlp<double> mlp(ctx, w, max_batch, o);
  mlp.init(ctx, seed, 0);
  const index_t P = mlp.num_params();
  if (o.activation == Activation::prelu) {
    for (index_t l = 1; l < index_t(w.size()) - 1; ++l)
      mlp.params()[mlp.slope_offset(l)] = 0.1 + 0.15 * double(l);
  }
  std::vector<double> p(mlp.params(), mlp.params() + P);
  std::vector<double> x(std::size_t(B * in)), c(std::size_t(B * out));
  long double kink = 0;
  for (std::uint64_t s = 1;; ++s) {
    rng_normal<double>(ctx, seed, s, 0, x.data(), index_t(x.size()));
    reference_forward(w, o, p, x, B, &kink, &draw, max_batch);
    if (kink > 1e-3 || o.activation == Activation::linear) break;
    REQUIRE(s < 50);
  }
  rng_normal<double>(ctx, seed, 99, 0, c.data(), index_t(c.size()));
  std::vector<double> y(std::size_t(B * out)), dx(std::size_t(B * in));
  mlp.forward(ctx, ConstPointsView<double>(x.data(), B, in), PointsView<double>(y.data(), B, out),
              &draw);
  const auto ref = reference_forward(w, o, p, x, B, nullptr, &draw, max_batch);
  for (std::size_t i = 0; i < y.size(); ++i)
    REQUIRE(std::fabs(y[i] - double(ref[i])) <= 1e-12 * (1 + std::fabs(double(ref[i]))));
  mlp.backward(ctx, ConstPointsView<double>(c.data(), B, out),
               PointsView<double>(dx.data(), B, in));
  const std::vector<double> g(mlp.grads(), mlp.grads() + P);

  auto loss = [&](const std::vector<double>& pp, const std::vector<double>& xx) {
    const auto yy = reference_forward(w, o, pp, xx, B, nullptr, &draw, max_batch);
    long double s = 0;
    for (std::size_t i = 0; i < yy.size(); ++i) s += (long double)c[i] * yy[i];
    return s;
  };
  nwgf::test::check_central_differences(p, x, g, dx, loss);
}

}  // namespace

TEST_CASE("dropout: the reverse pass through the masks against central differences") {
  MlpOptions o;
  o.dropout = 0.3;
  check({2, 6, 5, 4, 2}, o, 6, 1);  // ReLU, two dropout layers
  o.activation = Activation::prelu;
  o.residual = true;
  check({3, 8, 8, 8, 3}, o, 5, 2);
  o.activation = Activation::linear;
  o.dropout = 0.6;
  check({2, 5, 7, 2}, o, 7, 3);
}

TEST_CASE("dropout masks repeat for a draw, differ for another, keep about 1 - p") {
  Context one(Device::cpu, 1), two(Device::cpu, 2);
  const index_t n = 200000;
  for (double p : {0.02, 0.04, 0.3}) {
    detail::DropoutLayer<float> d;
    d.seed = 5;
    d.stream = (12ull << 48) | 3;
    d.threshold = detail::dropout_threshold(p);
    d.scale = float(1.0 / (1.0 - p));
    std::vector<float> a(std::size_t(n), 1.0f), b = a, other = a;
    detail::apply_dropout(one, d, a.data(), n);
    detail::apply_dropout(two, d, b.data(), n);  // another thread count, the same mask
    CHECK(a == b);
    d.offset = std::uint64_t(n);  // the next iteration's elements
    detail::apply_dropout(one, d, other.data(), n);
    index_t keep = 0, same = 0;
    for (index_t i = 0; i < n; ++i) {
      const float v = a[std::size_t(i)];
      REQUIRE((v == 0.0f || v == d.scale));
      keep += v != 0.0f;
      same += (v != 0.0f) == (other[std::size_t(i)] != 0.0f);
    }
    const double frac = double(keep) / double(n), sd = std::sqrt(p * (1 - p) / double(n));
    INFO("p = " << p << ", kept " << frac);
    CHECK(std::fabs(frac - (1 - p)) < 5 * sd);
    // Independent masks agree on a fraction (1-p)^2 + p^2 of the elements, not all of them.
    const double agree = (1 - p) * (1 - p) + p * p;
    CHECK(std::fabs(double(same) / double(n) - agree) < 5 * std::sqrt(agree * (1 - agree) / n));
  }
  // The mask does not depend on the dtype.
  detail::DropoutLayer<double> dd;
  dd.seed = 5;
  dd.stream = 9;
  dd.threshold = detail::dropout_threshold(0.25);
  dd.scale = 1.0 / 0.75;
  detail::DropoutLayer<float> df;
  df.seed = 5;
  df.stream = 9;
  df.threshold = dd.threshold;
  df.scale = float(dd.scale);
  std::vector<double> vd(1000, 1.0);
  std::vector<float> vf(1000, 1.0f);
  detail::apply_dropout(one, dd, vd.data(), 1000);
  detail::apply_dropout(one, df, vf.data(), 1000);
  for (std::size_t i = 0; i < vd.size(); ++i) REQUIRE((vd[i] == 0) == (vf[i] == 0));
}

TEST_CASE("dropout: p = 0 and evaluation forwards are bit-identical to no dropout") {
  Context ctx(Device::cpu, 2);
  const std::vector<index_t> w = {2, 32, 32, 32, 2};
  const index_t B = 300, in = 2, out = 2;
  MlpOptions plain;
  plain.activation = Activation::prelu;
  plain.residual = true;
  MlpOptions zero = plain, some = plain;
  zero.dropout = 0;
  some.dropout = 0.04;
  Mlp<float> a(ctx, w, B, plain), b(ctx, w, B, zero), c(ctx, w, B, some);
  for (Mlp<float>* m : {&a, &b, &c}) m->init(ctx, 3, 1);
  CHECK(a.dropout_elements() == 0);
  CHECK(b.dropout_elements() == 0);
  CHECK(c.dropout_elements() == std::uint64_t(2 * B * 32));
  std::vector<float> x(std::size_t(B * in)), g(std::size_t(B * out));
  rng_normal<float>(ctx, 3, 2, 0, x.data(), B * in);
  rng_normal<float>(ctx, 3, 4, 0, g.data(), B * out);
  const DropoutDraw draw{3, 5, 0};
  std::vector<float> ya(std::size_t(B * out)), yb = ya, yc = ya, yt = ya;
  a.forward(ctx, ConstPointsView<float>(x.data(), B, in), PointsView<float>(ya.data(), B, out));
  b.forward(ctx, ConstPointsView<float>(x.data(), B, in), PointsView<float>(yb.data(), B, out),
            &draw);
  c.forward(ctx, ConstPointsView<float>(x.data(), B, in), PointsView<float>(yc.data(), B, out));
  CHECK(ya == yb);  // p = 0 with a draw: no dropout
  CHECK(ya == yc);  // p > 0 without a draw (evaluation, the push of particles): no dropout
  a.backward(ctx, ConstPointsView<float>(g.data(), B, out), PointsView<float>());
  b.backward(ctx, ConstPointsView<float>(g.data(), B, out), PointsView<float>());
  c.backward(ctx, ConstPointsView<float>(g.data(), B, out), PointsView<float>());
  const std::vector<float> ga(a.grads(), a.grads() + a.num_params());
  CHECK(ga == std::vector<float>(b.grads(), b.grads() + b.num_params()));
  CHECK(ga == std::vector<float>(c.grads(), c.grads() + c.num_params()));
  // A training forward with p > 0 changes the output, and repeats.
  c.forward(ctx, ConstPointsView<float>(x.data(), B, in), PointsView<float>(yt.data(), B, out),
            &draw);
  CHECK(yt != ya);
  c.forward(ctx, ConstPointsView<float>(x.data(), B, in), PointsView<float>(yc.data(), B, out),
            &draw);
  CHECK(yt == yc);
  MlpOptions bad = plain;
  for (double p : {1.0, -0.1, 1.5}) {
    bad.dropout = p;
    CHECK_THROWS(Mlp<float>(ctx, w, B, bad));
  }
}
