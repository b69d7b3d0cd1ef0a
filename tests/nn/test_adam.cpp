// Adam against updates computed by hand in long double (several steps, varying gradients and
// learning rates, bias correction), and against two closed forms: the first step moves each
// parameter by lr * g / (|g| + eps), and a constant gradient keeps moving it by that amount.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/adam.hpp"

using namespace nwgf;

TEST_CASE_TEMPLATE("Adam matches hand-computed PyTorch updates", T, float, double) {
  Context ctx(Device::cpu, 2);
  const index_t n = 1001;
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Adam<T> adam(ctx, n);
  std::vector<T> p(n), g(n);
  rng_normal<T>(ctx, 1, 0, 0, p.data(), n);
  std::vector<long double> pr(p.begin(), p.end()), m(n, 0), v(n, 0);
  const double lrs[] = {1e-3, 5e-4, 2e-2, 1e-3, 1e-1, 3e-3, 1e-3};
  double max_err = 0;
  int t = 0;
  for (double lr : lrs) {
    ++t;
    rng_normal<T>(ctx, 1, std::uint64_t(t), 0, g.data(), n);
    if (t == 3) g[5] = T(0);  // zero gradient keeps moving by momentum
    adam.step(ctx, p.data(), g.data(), lr);
    const long double c1 = 1 - std::pow((long double)b1, t), c2 = 1 - std::pow((long double)b2, t);
    for (index_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (1 - b1) * (long double)g[i];
      v[i] = b2 * v[i] + (1 - b2) * (long double)g[i] * g[i];
      pr[i] -= lr / c1 * m[i] / (std::sqrt(v[i]) / std::sqrt(c2) + eps);
      max_err = std::max(max_err, double(std::fabs(pr[i] - p[i])));
    }
  }
  CHECK(adam.steps() == 7);
  CHECK(adam.device_steps(ctx) == 7);
  CHECK(max_err <= (sizeof(T) == 4 ? 2e-6 : 1e-14));
  // The moments buffer holds m then v.
  double merr = 0;
  for (index_t i = 0; i < n; ++i) {
    merr = std::max(merr, double(std::fabs(adam.moments()[i] - m[i])));
    merr = std::max(merr, double(std::fabs(adam.moments()[n + i] - v[i])));
  }
  CHECK(merr <= (sizeof(T) == 4 ? 1e-6 : 1e-14));
}

TEST_CASE_TEMPLATE("Adam bias correction: steps of size lr * g / (|g| + eps)", T, float, double) {
  Context ctx(Device::cpu, 2);
  const index_t n = 64;
  Adam<T> adam(ctx, n);
  std::vector<T> p(n, T(0)), g(n);
  for (index_t i = 0; i < n; ++i) g[i] = T((i % 2 ? 1 : -1) * std::pow(10.0, double(i % 9) - 6));
  const double lr = 1e-2;
  const double tol = sizeof(T) == 4 ? 1e-6 : 1e-12;
  for (int t = 1; t <= 20; ++t) {
    adam.step(ctx, p.data(), g.data(), lr);
    for (index_t i = 0; i < n; ++i) {
      const double gi = g[i], want = -t * lr * gi / (std::fabs(gi) + 1e-8);
      REQUIRE(std::fabs(p[i] - want) <= tol * t * lr);
    }
  }
  adam.reset(ctx);
  CHECK(adam.steps() == 0);
  CHECK(adam.moments()[0] == T(0));
  CHECK(adam.moments()[2 * n - 1] == T(0));
}

TEST_CASE("Adam resumed at step t applies the bias corrections of step t + 1") {
  Context ctx(Device::cpu, 1);
  Adam<double> adam(ctx, 1);
  adam.set_steps(ctx, 5);
  double p = 0, g = 2;
  adam.step(ctx, &p, &g, 0.1);
  // m = 0.1 g, v = 0.001 g^2 (zero moments), t = 6.
  const double mhat = 0.1 * g / (1 - std::pow(0.9, 6)),
               vhat = 0.001 * g * g / (1 - std::pow(0.999, 6));
  CHECK(p == doctest::Approx(-0.1 * mhat / (std::sqrt(vhat) + 1e-8)).epsilon(1e-14));
  CHECK(adam.steps() == 6);
  CHECK(adam.device_steps(ctx) == 6);
}

TEST_CASE("Adam rejects bad hyperparameters") {
  Context ctx(Device::cpu, 2);
  CHECK_THROWS_AS(Adam<float>(ctx, 0), Error);
  CHECK_THROWS_AS(Adam<float>(ctx, 4, 1.0), Error);
  CHECK_THROWS_AS(Adam<float>(ctx, 4, 0.9, -0.1), Error);
  CHECK_THROWS_AS(Adam<float>(ctx, 4, 0.9, 0.999, 0.0), Error);
}
