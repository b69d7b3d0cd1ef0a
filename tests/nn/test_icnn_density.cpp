// Densities through ICNN maps (nn/icnn_density.hpp, eqs. (15)-(16)): the Newton inversion of
// grad phi; log P_k against the closed form of Gaussians pushed through affine maps (one-layer
// ICNNs: phi quadratic); and for a nonlinear map in 1-D, the pulled-back density integrates to
// the probability the map carries (P_1(Y <= T(x0)) = Phi(x0)).
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/icnn.hpp"
#include "nwgf/nn/icnn_density.hpp"

using namespace nwgf;

namespace {

// Moderate parameters (A, W, b normal 0.5; convex weights uniform [0, 0.5]), as test_icnn.cpp.
void set_test_params(const Context& ctx, Icnn<double>& net, std::uint64_t seed) {
  const index_t c = net.convex_offset();
  rng_normal<double>(ctx, seed, 1, 0, net.params(), c, 0.0, 0.5);
  rng_uniform<double>(ctx, seed, 2, 0, net.params() + c, net.num_params() - c, 0.0, 0.5);
}

// log N(y; m, S) in d dimensions (d <= 3), S by its inverse and log det.
double gaussian_log_density(const std::vector<double>& y, const std::vector<double>& m,
                            const std::vector<double>& s, index_t d) {
  // Solve with a small Cholesky.
  std::vector<double> l(s);
  for (index_t j = 0; j < d; ++j) {
    double v = l[std::size_t(j * d + j)];
    for (index_t k = 0; k < j; ++k) v -= l[std::size_t(j * d + k)] * l[std::size_t(j * d + k)];
    l[std::size_t(j * d + j)] = std::sqrt(v);
    for (index_t i = j + 1; i < d; ++i) {
      double t = l[std::size_t(i * d + j)];
      for (index_t k = 0; k < j; ++k) t -= l[std::size_t(i * d + k)] * l[std::size_t(j * d + k)];
      l[std::size_t(i * d + j)] = t / l[std::size_t(j * d + j)];
    }
  }
  std::vector<double> z(static_cast<std::size_t>(d));
  double logdet = 0, q = 0;
  for (index_t i = 0; i < d; ++i) {
    double v = y[std::size_t(i)] - m[std::size_t(i)];
    for (index_t k = 0; k < i; ++k) v -= l[std::size_t(i * d + k)] * z[std::size_t(k)];
    z[std::size_t(i)] = v / l[std::size_t(i * d + i)];
    q += z[std::size_t(i)] * z[std::size_t(i)];
    logdet += 2 * std::log(l[std::size_t(i * d + i)]);
  }
  return -0.5 * q - 0.5 * logdet - 0.5 * double(d) * std::log(2 * std::numbers::pi);
}

}  // namespace

TEST_CASE("Newton inverts grad phi of a multi-layer ICNN") {
  Context ctx(Device::cpu, 1);
  const index_t B = 50, d = 3;
  Icnn<double> net(ctx, d, {8, 8, 6}, B, IcnnOptions{2, 1e-3});
  set_test_params(ctx, net, 7);
  std::vector<double> x(B * d), y(B * d), back(B * d);
  rng_normal<double>(ctx, 7, 5, 0, x.data(), B * d, 0.0, 1.5);
  net.forward(ctx, ConstPointsView<double>(x.data(), B, d), PointsView<double>(y.data(), B, d));
  back = y;  // start at y
  const IcnnInversion inv = invert_icnn(ctx, net, y.data(), back.data(), B);
  INFO("Newton steps " << inv.iterations << ", residual " << inv.residual);
  CHECK(inv.residual <= 1e-10);
  CHECK(inv.iterations >= 1);
  double err = 0;
  for (index_t i = 0; i < B * d; ++i) err = std::max(err, std::fabs(back[std::size_t(i)] - x[std::size_t(i)]));
  CHECK(err <= 1e-7);
}

TEST_CASE("log P_k through affine ICNN maps is the pushed Gaussian's (closed form)") {
  // One-layer ICNNs: phi(x) = 1/2 x'Ax + c'x + const, T(x) = A x + c with A = grad^2 phi (SPD).
  // P_0 = N(m, S) pushed through T_1..T_3 is N(m_3, S_3), m_j = A_j m_{j-1} + c_j,
  // S_j = A_j S_{j-1} A_j.
  Context ctx(Device::cpu, 1);
  const index_t d = 2, B = 40;
  std::vector<std::unique_ptr<Icnn<double>>> nets;
  std::vector<Icnn<double>*> maps;
  std::vector<double> m{0.3, -0.2}, s{1.0, 0.3, 0.3, 0.5};
  const std::vector<double> m0 = m, s0 = s;
  for (int j = 0; j < 3; ++j) {
    nets.push_back(std::make_unique<Icnn<double>>(ctx, d, std::vector<index_t>{6}, B,
                                                  IcnnOptions{1, 0.05}));
    nets.back()->init(ctx, 30 + std::uint64_t(j), 0);
    for (index_t i = nets.back()->convex_offset(); i < nets.back()->num_params(); ++i)
      nets.back()->params()[i] *= 0.2;  // keep A of order one
    maps.push_back(nets.back().get());
    std::vector<double> a(d * d), c(d), zero(d, 0.0);
    nets.back()->hessian(ctx, ConstPointsView<double>(zero.data(), 1, d), a.data());
    nets.back()->forward(ctx, ConstPointsView<double>(zero.data(), 1, d),
                         PointsView<double>(c.data(), 1, d));
    std::vector<double> nm(d, 0.0), as(d * d, 0.0), ns(d * d, 0.0);
    for (index_t r = 0; r < d; ++r) {
      nm[std::size_t(r)] = c[std::size_t(r)];
      for (index_t k = 0; k < d; ++k) nm[std::size_t(r)] += a[std::size_t(r * d + k)] * m[std::size_t(k)];
    }
    for (index_t r = 0; r < d; ++r)
      for (index_t q = 0; q < d; ++q)
        for (index_t k = 0; k < d; ++k) as[std::size_t(r * d + q)] += a[std::size_t(r * d + k)] * s[std::size_t(k * d + q)];
    for (index_t r = 0; r < d; ++r)
      for (index_t q = 0; q < d; ++q)
        for (index_t k = 0; k < d; ++k) ns[std::size_t(r * d + q)] += as[std::size_t(r * d + k)] * a[std::size_t(q * d + k)];
    m = nm;
    s = ns;
  }
  // Points around P_3.
  std::vector<double> y(B * d);
  rng_normal<double>(ctx, 9, 1, 0, y.data(), B * d);
  for (index_t i = 0; i < B; ++i)
    for (index_t r = 0; r < d; ++r) y[std::size_t(i * d + r)] = m[std::size_t(r)] + std::sqrt(s[std::size_t(r * d + r)]) * y[std::size_t(i * d + r)];
  IcnnInversion inv;
  const std::vector<double> logp = pullback_log_density(
      ctx, maps,
      [&](const double* x) { return gaussian_log_density(std::vector<double>(x, x + d), m0, s0, d); },
      y.data(), B, &inv);
  double err = 0;
  for (index_t i = 0; i < B; ++i) {
    const double exact = gaussian_log_density(
        std::vector<double>(y.begin() + i * d, y.begin() + (i + 1) * d), m, s, d);
    err = std::max(err, std::fabs(logp[std::size_t(i)] - exact));
  }
  INFO("Newton steps " << inv.iterations << ", residual " << inv.residual);
  CHECK(err <= 1e-8);
  CHECK(inv.iterations <= 3);  // affine: one Newton step (and the convergence check)
}

TEST_CASE("the pulled-back density of a nonlinear 1-D map integrates to the pushed mass") {
  // P_0 = N(0, 1), T = grad phi of a 3-layer ICNN: P_1(Y <= T(x0)) = Phi(x0) (T increasing).
  // The trapezoid rule on p_1 (from y alone: Newton's preimage and the Hessian) over the nodes
  // y_i = T(x_i), x_i uniform on [-9, x0] (T may compress some stretches strongly, so a uniform
  // grid in y would miss the peaks of p_1), against Phi(x0). CELU's second derivative jumps at
  // 0, so grad^2 phi and p_1 jump across the kinks of the hidden units (phi is C^{1,1}, not C^2):
  // the rule's error there is O(h), about 3e-5 at h = 0.0025 (the density itself agrees with
  // p_0(x) / T'(x) to 2e-10).
  Context ctx(Device::cpu, 1);
  const index_t n = 4001;
  Icnn<double> net(ctx, 1, {8, 8, 8}, n, IcnnOptions{1, 0.05});
  set_test_params(ctx, net, 12);
  const auto log_p0 = [](const double* x) {
    return -0.5 * x[0] * x[0] - 0.5 * std::log(2 * std::numbers::pi);
  };
  std::vector<Icnn<double>*> maps{&net};
  for (const double x0 : {-1.0, 0.3, 1.5}) {
    std::vector<double> x(static_cast<std::size_t>(n)), y(x.size());
    for (index_t i = 0; i < n; ++i) x[std::size_t(i)] = -9.0 + (x0 + 9.0) * double(i) / double(n - 1);
    net.forward(ctx, ConstPointsView<double>(x.data(), n, 1), PointsView<double>(y.data(), n, 1));
    const std::vector<double> logp = pullback_log_density(ctx, maps, log_p0, y.data(), n);
    double mass = 0;
    for (index_t i = 0; i + 1 < n; ++i) {
      mass += 0.5 * (std::exp(logp[std::size_t(i)]) + std::exp(logp[std::size_t(i) + 1])) *
              (y[std::size_t(i) + 1] - y[std::size_t(i)]);
    }
    const double phi_x0 = 0.5 * std::erfc(-x0 / std::sqrt(2.0));
    INFO("x0 " << x0 << ": mass " << mass << " vs Phi " << phi_x0);
    CHECK(std::fabs(mass - phi_x0) <= 2e-4);
  }
}
