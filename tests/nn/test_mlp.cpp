// The MLP's forward pass against a naive reference, its reverse pass against central finite
// differences in double for every parameter and every input coordinate (1-4 hidden layers,
// d = 1, 2, 10, 784), accumulation, float vs double, and the initialisation law.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/mlp.hpp"
#include "tests/nn/reference_mlp.hpp"

using namespace nwgf;

namespace {

// The naive forward of a default (ReLU) MLP in long double (tests/nn/reference_mlp.hpp); also
// returns min |pre-activation| of the hidden layers (distance to the ReLU kinks).
std::vector<long double> reference_forward(const std::vector<index_t>& w,
                                           const std::vector<double>& p,
                                           const std::vector<double>& x, index_t B,
                                           long double* min_kink) {
  return nwgf::test::reference_forward(w, MlpOptions{}, p, x, B, min_kink);
}

struct Case {
  std::vector<index_t> widths;
  index_t batch;
};

// L = sum c ⊙ T(x); checks dL/dtheta (all parameters) and dL/dx (all coordinates) by central
// differences with step h, on inputs whose pre-activations stay at least 1e-3 from the kinks.
void check_gradients(const Case& cs, std::uint64_t seed) {
  Context ctx(Device::cpu, 1);  // thousands of tiny passes: threads would only add overhead
  const auto& w = cs.widths;
  const index_t B = cs.batch, in = w.front(), out = w.back();
  Mlp<double> mlp(ctx, w, B + 3);
  mlp.init(ctx, seed, 0);
  const index_t P = mlp.num_params();
  std::vector<double> p(mlp.params(), mlp.params() + P);
  std::vector<double> x(std::size_t(B * in)), c(std::size_t(B * out));
  long double kink = 0;
  for (std::uint64_t s = 1;; ++s) {  // draw inputs away from the kinks
    rng_normal<double>(ctx, seed, s, 0, x.data(), index_t(x.size()));
    reference_forward(w, p, x, B, &kink);
    if (kink > 1e-3) break;
    REQUIRE(s < 50);
  }
  rng_normal<double>(ctx, seed, 99, 0, c.data(), index_t(c.size()));

  // Forward against the naive reference.
  std::vector<double> y(std::size_t(B * out));
  mlp.forward(ctx, ConstPointsView<double>(x.data(), B, in), PointsView<double>(y.data(), B, out));
  const auto ref = reference_forward(w, p, x, B, nullptr);
  for (std::size_t i = 0; i < y.size(); ++i)
    REQUIRE(std::fabs(y[i] - double(ref[i])) <= 1e-12 * (1 + std::fabs(double(ref[i]))));

  std::vector<double> din(std::size_t(B * in));
  mlp.backward(ctx, ConstPointsView<double>(c.data(), B, out),
               PointsView<double>(din.data(), B, in));
  const std::vector<double> grad(mlp.grads(), mlp.grads() + P);

  auto loss = [&](const std::vector<double>& xs) {
    mlp.forward(ctx, ConstPointsView<double>(xs.data(), B, in),
                PointsView<double>(y.data(), B, out));
    long double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += (long double)c[i] * y[i];
    return s;
  };
  const double h = 1e-6;
  double scale = 1, err_p = 0, err_x = 0;
  for (double g : grad) scale = std::max(scale, std::fabs(g));
  for (index_t i = 0; i < P; ++i) {
    double* pi = mlp.params() + i;
    const double keep = *pi;
    *pi = keep + h;
    const long double lp = loss(x);
    *pi = keep - h;
    const long double lm = loss(x);
    *pi = keep;
    err_p = std::max(err_p, std::fabs(double((lp - lm) / (2 * h)) - grad[std::size_t(i)]));
  }
  for (double g : din) scale = std::max(scale, std::fabs(g));
  std::vector<double> xs = x;
  for (std::size_t i = 0; i < x.size(); ++i) {
    xs[i] = x[i] + h;
    const long double lp = loss(xs);
    xs[i] = x[i] - h;
    const long double lm = loss(xs);
    xs[i] = x[i];
    err_x = std::max(err_x, std::fabs(double((lp - lm) / (2 * h)) - din[i]));
  }
  INFO("widths " << w.size() << " layers, in " << in << ", P " << P);
  CHECK(err_p <= 1e-6 * scale);
  CHECK(err_x <= 1e-6 * scale);
}

}  // namespace

TEST_CASE("reverse pass matches central finite differences (all parameters, all inputs)") {
  const std::vector<Case> cases = {
      {{2, 16, 1}, 7},              // d = 1, one hidden layer
      {{4, 32, 32, 2}, 9},          // d = 2, two hidden layers
      {{20, 24, 24, 24, 10}, 5},    // d = 10, three hidden layers
      {{4, 16, 16, 16, 16, 2}, 6},  // d = 2, four hidden layers
      {{1568, 6, 784}, 2},          // d = 784, latent 784, one small hidden layer
      {{3, 5, 7, 2}, 1},            // latent 1, batch 1
  };
  std::uint64_t seed = 11;
  for (const auto& cs : cases) check_gradients(cs, seed++);
}

TEST_CASE("backward: accumulate adds, repeated backward is stable, din is optional") {
  Context ctx(Device::cpu, 2);
  const index_t B = 33, in = 4, out = 2;
  Mlp<double> mlp(ctx, {in, 16, 16, out}, 64);
  mlp.init(ctx, 5, 1);
  std::vector<double> x(B * in), c1(B * out), c2(B * out), y(B * out);
  rng_normal<double>(ctx, 5, 2, 0, x.data(), B * in);
  rng_normal<double>(ctx, 5, 3, 0, c1.data(), B * out);
  rng_normal<double>(ctx, 5, 4, 0, c2.data(), B * out);
  mlp.forward(ctx, ConstPointsView<double>(x.data(), B, in), PointsView<double>(y.data(), B, out));
  const index_t P = mlp.num_params();
  mlp.backward(ctx, ConstPointsView<double>(c1.data(), B, out), PointsView<double>());
  const std::vector<double> g1(mlp.grads(), mlp.grads() + P);
  mlp.backward(ctx, ConstPointsView<double>(c2.data(), B, out), PointsView<double>());
  const std::vector<double> g2(mlp.grads(), mlp.grads() + P);
  mlp.backward(ctx, ConstPointsView<double>(c1.data(), B, out), PointsView<double>(), true);
  double err = 0, scale = 0;
  for (index_t i = 0; i < P; ++i) {
    err = std::max(err, std::fabs(mlp.grads()[i] - (g1[i] + g2[i])));
    scale = std::max(scale, std::fabs(g1[i]) + std::fabs(g2[i]));
  }
  CHECK(scale > 0);
  CHECK(err <= 1e-13 * scale);
  mlp.backward(ctx, ConstPointsView<double>(c1.data(), B, out), PointsView<double>());
  for (index_t i = 0; i < P; ++i) REQUIRE(mlp.grads()[i] == g1[i]);
}

TEST_CASE("float and double agree to float tolerance") {
  Context ctx(Device::cpu, 2);
  const index_t B = 200, d = 2, in = 2 * d;
  const std::vector<index_t> w = {in, 128, 128, 128, d};
  Mlp<float> mf(ctx, w, B);
  Mlp<double> md(ctx, w, B);
  mf.init(ctx, 3, 0);
  for (index_t i = 0; i < mf.num_params(); ++i) md.params()[i] = mf.params()[i];
  std::vector<float> xf(B * in), cf(B * d), yf(B * d), dxf(B * in);
  rng_normal<float>(ctx, 3, 1, 0, xf.data(), B * in);
  rng_normal<float>(ctx, 3, 2, 0, cf.data(), B * d);
  std::vector<double> xd(xf.begin(), xf.end()), cd(cf.begin(), cf.end()), yd(B * d), dxd(B * in);
  mf.forward(ctx, ConstPointsView<float>(xf.data(), B, in), PointsView<float>(yf.data(), B, d));
  md.forward(ctx, ConstPointsView<double>(xd.data(), B, in), PointsView<double>(yd.data(), B, d));
  mf.backward(ctx, ConstPointsView<float>(cf.data(), B, d), PointsView<float>(dxf.data(), B, in));
  md.backward(ctx, ConstPointsView<double>(cd.data(), B, d), PointsView<double>(dxd.data(), B, in));
  auto rel = [](auto a, const std::vector<double>& b, std::size_t n) {
    double e = 0, s = 0;
    for (std::size_t i = 0; i < n; ++i) {
      e = std::max(e, std::fabs(double(a[i]) - b[i]));
      s = std::max(s, std::fabs(b[i]));
    }
    return e / s;
  };
  CHECK(rel(yf.data(), yd, yd.size()) < 1e-5);
  CHECK(rel(dxf.data(), dxd, dxd.size()) < 1e-4);
  const std::vector<double> gd(md.grads(), md.grads() + md.num_params());
  CHECK(rel(mf.grads(), gd, gd.size()) < 1e-4);
}

TEST_CASE_TEMPLATE("init follows PyTorch's nn.Linear law and is reproducible", T, float, double) {
  Context ctx(Device::cpu, 2);
  const std::vector<index_t> w = {300, 400, 50, 3};
  Mlp<T> a(ctx, w, 1), b(ctx, w, 1), c(ctx, w, 1);
  a.init(ctx, 42, 7);
  b.init(ctx, 42, 7);
  c.init(ctx, 42, 8);
  CHECK(std::equal(a.params(), a.params() + a.num_params(), b.params()));
  CHECK(!std::equal(a.params(), a.params() + a.num_params(), c.params()));
  for (index_t l = 0; l + 1 < index_t(w.size()); ++l) {
    const double bound = 1 / std::sqrt(double(w[l]));
    for (int part = 0; part < 2; ++part) {  // weights, then biases
      const index_t n = part == 0 ? w[l] * w[l + 1] : w[l + 1];
      const T* p = a.params() + (part == 0 ? a.weight_offset(l) : a.bias_offset(l));
      double s = 0, s2 = 0, lo = INFINITY, hi = -INFINITY;
      for (index_t i = 0; i < n; ++i) {
        s += p[i];
        s2 += double(p[i]) * p[i];
        lo = std::min(lo, double(p[i]));
        hi = std::max(hi, double(p[i]));
      }
      const double mean = s / n, var = s2 / n - mean * mean, var_u = bound * bound / 3;
      INFO("layer " << l << (part ? " bias" : " weight") << " n " << n);
      CHECK(lo >= -bound);
      CHECK(hi <= bound);
      // Mean within 5 standard errors; variance within 5 standard errors (Var of U^2 = 4b^4/45).
      CHECK(std::fabs(mean) <= 5 * std::sqrt(var_u / n));
      CHECK(std::fabs(var - var_u) <= 5 * std::sqrt(4 * std::pow(bound, 4) / 45 / n) + 1e-12);
      if (n >= 1000) {  // the range is filled
        CHECK(lo < -0.99 * bound);
        CHECK(hi > 0.99 * bound);
      }
    }
  }
}

TEST_CASE("shape errors are reported, not crashed on") {
  Context ctx(Device::cpu, 2);
  CHECK_THROWS_AS(Mlp<float>(ctx, {4}, 10), Error);
  CHECK_THROWS_AS(Mlp<float>(ctx, {4, 0, 2}, 10), Error);
  CHECK_THROWS_AS(Mlp<float>(ctx, {4, 8, 2}, 0), Error);
  Mlp<float> m(ctx, {4, 8, 2}, 10);
  std::vector<float> x(11 * 4), y(11 * 2);
  CHECK_THROWS_AS(
      m.forward(ctx, ConstPointsView<float>(x.data(), 11, 4), PointsView<float>(y.data(), 11, 2)),
      Error);
  CHECK_THROWS_AS(
      m.forward(ctx, ConstPointsView<float>(x.data(), 5, 3), PointsView<float>(y.data(), 5, 2)),
      Error);
  CHECK_THROWS_AS(m.backward(ctx, ConstPointsView<float>(y.data(), 5, 2), PointsView<float>()),
                  Error);
}

TEST_CASE("the multithreaded passes agree with the single-threaded ones") {
  // Large enough for the parallel elementwise and bias-gradient paths; the finite-difference
  // test above runs single-threaded.
  const index_t B = 3001, in = 6, out = 3;
  const std::vector<index_t> w = {in, 128, 96, 128, out};
  std::vector<double> x(B * in), c(B * out), y1(B * out), y2(B * out), dx1(B * in), dx2(B * in);
  std::vector<double> g1, g2;
  for (int threads : {1, 2}) {
    Context ctx(Device::cpu, threads);
    Mlp<double> mlp(ctx, w, B);
    mlp.init(ctx, 8, 0);
    rng_normal<double>(ctx, 8, 1, 0, x.data(), B * in);
    rng_normal<double>(ctx, 8, 2, 0, c.data(), B * out);
    auto& y = threads == 1 ? y1 : y2;
    auto& dx = threads == 1 ? dx1 : dx2;
    mlp.forward(ctx, ConstPointsView<double>(x.data(), B, in),
                PointsView<double>(y.data(), B, out));
    mlp.backward(ctx, ConstPointsView<double>(c.data(), B, out),
                 PointsView<double>(dx.data(), B, in));
    (threads == 1 ? g1 : g2).assign(mlp.grads(), mlp.grads() + mlp.num_params());
  }
  auto close = [](const std::vector<double>& a, const std::vector<double>& b) {
    double e = 0, s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      e = std::max(e, std::fabs(a[i] - b[i]));
      s = std::max(s, std::fabs(a[i]));
    }
    return s > 0 && e <= 1e-12 * s;
  };
  CHECK(close(y1, y2));
  CHECK(close(dx1, dx2));
  CHECK(close(g1, g2));
}
