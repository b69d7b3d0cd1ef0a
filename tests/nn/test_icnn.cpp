// The ICNN map (nn/icnn.hpp): T = grad phi against central differences of phi; the double
// backprop dL/dtheta of L = sum_i <c_i, T(x_i)> against central differences in every parameter;
// the Hessian against central differences of T; float vs double; convexity after clamping.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/icnn.hpp"

using namespace nwgf;

namespace {

struct Case {
  index_t d;
  std::vector<index_t> hidden;
  index_t rank;
  double eps;
  index_t batch;
};

// Parameters of moderate size, so that the pre-activations fall on both sides of CELU's kink:
// A, W, b normal with standard deviation 0.5, the convex weights uniform on [0, 0.5].
template <class T>
void set_test_params(const Context& ctx, Icnn<T>& net, std::uint64_t seed) {
  std::vector<double> p(std::size_t(net.num_params()));
  const index_t c = net.convex_offset();
  rng_normal<double>(ctx, seed, 1, 0, p.data(), c, 0.0, 0.5);
  rng_uniform<double>(ctx, seed, 2, 0, p.data() + c, net.num_params() - c, 0.0, 0.5);
  for (index_t i = 0; i < net.num_params(); ++i) net.params()[i] = T(p[std::size_t(i)]);
}

// Smallest |u| over the hidden layers l >= 1 at inputs x (distance to CELU's second-derivative
// jump), by central differences' own means: recompute with a reference forward.
double min_preactivation(const Icnn<double>& net, const std::vector<double>& x, index_t B) {
  const index_t d = net.dim(), r = net.options().rank, L = index_t(net.hidden().size());
  const double* P = net.params();
  double best = 1e300;
  for (index_t i = 0; i < B; ++i) {
    std::vector<double> z;
    for (index_t l = 0; l < L; ++l) {
      const index_t h = net.hidden()[std::size_t(l)];
      std::vector<double> nz(static_cast<std::size_t>(h));
      for (index_t k = 0; k < h; ++k) {
        double q = P[net.b_offset(l) + k];
        for (index_t j = 0; j < d; ++j) q += P[net.w_offset(l) + k * d + j] * x[std::size_t(i * d + j)];
        for (index_t s = 0; s < r; ++s) {
          double ps = 0;
          for (index_t j = 0; j < d; ++j) ps += P[net.a_offset(l) + j * r * h + s * h + k] * x[std::size_t(i * d + j)];
          q += ps * ps;
        }
        if (l > 0) {
          const index_t hp = net.hidden()[std::size_t(l) - 1];
          for (index_t m = 0; m < hp; ++m) q += P[net.v_offset(l) + k * hp + m] * z[std::size_t(m)];
          best = std::min(best, std::fabs(q));
          q = q > 0 ? q : std::expm1(q);
        }
        nz[std::size_t(k)] = q;
      }
      z = nz;
    }
  }
  return best;
}

std::vector<double> draw_inputs(const Context& ctx, const Icnn<double>& net, index_t B,
                                std::uint64_t seed) {
  std::vector<double> x(std::size_t(B * net.dim()));
  for (std::uint64_t s = 10;; ++s) {
    rng_normal<double>(ctx, seed, s, 0, x.data(), index_t(x.size()));
    if (min_preactivation(net, x, B) > 1e-3) return x;
    REQUIRE(s < 200);
  }
}

void check_case(const Case& cs, std::uint64_t seed) {
  Context ctx(Device::cpu, 1);
  const index_t B = cs.batch, d = cs.d;
  Icnn<double> net(ctx, d, cs.hidden, B + 2, IcnnOptions{cs.rank, cs.eps});
  set_test_params(ctx, net, seed);
  const std::vector<double> x = draw_inputs(ctx, net, B, seed);
  INFO("d " << d << ", layers " << cs.hidden.size() << ", rank " << cs.rank);
  const double h = 1e-6;

  // T = grad phi.
  std::vector<double> t(std::size_t(B * d)), phi_p(static_cast<std::size_t>(B)), phi_m(static_cast<std::size_t>(B));
  net.forward(ctx, ConstPointsView<double>(x.data(), B, d), PointsView<double>(t.data(), B, d));
  double err = 0, scale = 1;
  for (index_t j = 0; j < d; ++j) {
    std::vector<double> xp = x, xm = x;
    for (index_t i = 0; i < B; ++i) {
      xp[std::size_t(i * d + j)] += h;
      xm[std::size_t(i * d + j)] -= h;
    }
    net.potential(ctx, ConstPointsView<double>(xp.data(), B, d), phi_p.data());
    net.potential(ctx, ConstPointsView<double>(xm.data(), B, d), phi_m.data());
    for (index_t i = 0; i < B; ++i) {
      const double fd = (phi_p[std::size_t(i)] - phi_m[std::size_t(i)]) / (2 * h);
      scale = std::max(scale, std::fabs(fd));
      err = std::max(err, std::fabs(fd - t[std::size_t(i * d + j)]));
    }
  }
  CHECK(err <= 1e-6 * scale);

  // dL/dtheta of L = sum <c, T(x)>, every parameter.
  std::vector<double> c(std::size_t(B * d));
  rng_normal<double>(ctx, seed, 99, 0, c.data(), B * d);
  net.forward(ctx, ConstPointsView<double>(x.data(), B, d), PointsView<double>(t.data(), B, d));
  net.backward(ctx, ConstPointsView<double>(c.data(), B, d));
  const index_t P = net.num_params();
  const std::vector<double> grad(net.grads(), net.grads() + P);
  auto loss = [&]() {
    net.forward(ctx, ConstPointsView<double>(x.data(), B, d), PointsView<double>(t.data(), B, d));
    long double s = 0;
    for (std::size_t i = 0; i < t.size(); ++i) s += (long double)c[i] * t[i];
    return s;
  };
  double err_p = 0, gscale = 1;
  for (double g : grad) gscale = std::max(gscale, std::fabs(g));
  for (index_t q = 0; q < P; ++q) {
    double* pq = net.params() + q;
    const double keep = *pq;
    *pq = keep + h;
    const long double lp = loss();
    *pq = keep - h;
    const long double lm = loss();
    *pq = keep;
    err_p = std::max(err_p, std::fabs(double((lp - lm) / (2 * h)) - grad[std::size_t(q)]));
  }
  CHECK(err_p <= 1e-6 * gscale);

  // Hessian = central differences of T, symmetric.
  std::vector<double> hess(std::size_t(B * d * d)), tp(t.size()), tm(t.size());
  net.hessian(ctx, ConstPointsView<double>(x.data(), B, d), hess.data());
  double err_h = 0, hscale = 1, asym = 0;
  for (index_t j = 0; j < d; ++j) {
    std::vector<double> xp = x, xm = x;
    for (index_t i = 0; i < B; ++i) {
      xp[std::size_t(i * d + j)] += h;
      xm[std::size_t(i * d + j)] -= h;
    }
    net.forward(ctx, ConstPointsView<double>(xp.data(), B, d), PointsView<double>(tp.data(), B, d));
    net.forward(ctx, ConstPointsView<double>(xm.data(), B, d), PointsView<double>(tm.data(), B, d));
    for (index_t i = 0; i < B; ++i)
      for (index_t a = 0; a < d; ++a) {
        const double fd = (tp[std::size_t(i * d + a)] - tm[std::size_t(i * d + a)]) / (2 * h);
        const double hv = hess[std::size_t(i * d * d + a * d + j)];
        hscale = std::max(hscale, std::fabs(fd));
        err_h = std::max(err_h, std::fabs(fd - hv));
        asym = std::max(asym, std::fabs(hv - hess[std::size_t(i * d * d + j * d + a)]));
      }
  }
  CHECK(err_h <= 1e-6 * hscale);
  CHECK(asym <= 1e-12 * hscale);
}

}  // namespace

TEST_CASE("T = grad phi, the double backprop and the Hessian match central differences") {
  const std::vector<Case> cases = {
      {1, {6}, 1, 1e-6, 5},          // the code's porous shape (one layer: phi quadratic)
      {2, {64}, 1, 1e-6, 4},         // the code's width
      {2, {5, 4}, 1, 0.1, 6},        // two layers: CELU in play
      {3, {4, 5, 3}, 2, 1e-6, 5},    // three layers, rank 2
      {1, {7, 7}, 3, 0.5, 3},        // d = 1, rank 3
  };
  std::uint64_t seed = 21;
  for (const auto& cs : cases) check_case(cs, seed++);
}

TEST_CASE("ICNN: float agrees with double; accumulate adds; clamping keeps phi convex") {
  Context ctx(Device::cpu, 2);
  const index_t B = 40, d = 2;
  const std::vector<index_t> hidden{16, 16};
  Icnn<double> nd(ctx, d, hidden, B, IcnnOptions{1, 1e-6});
  Icnn<float> nf(ctx, d, hidden, B, IcnnOptions{1, 1e-6});
  set_test_params(ctx, nd, 3);
  set_test_params(ctx, nf, 3);
  std::vector<double> x(B * d), c(B * d), td(B * d);
  rng_normal<double>(ctx, 3, 7, 0, x.data(), B * d);
  rng_normal<double>(ctx, 3, 8, 0, c.data(), B * d);
  const std::vector<float> xf(x.begin(), x.end()), cf(c.begin(), c.end());
  std::vector<float> tf(B * d);
  nd.forward(ctx, ConstPointsView<double>(x.data(), B, d), PointsView<double>(td.data(), B, d));
  nf.forward(ctx, ConstPointsView<float>(xf.data(), B, d), PointsView<float>(tf.data(), B, d));
  double err = 0, scale = 0;
  for (index_t i = 0; i < B * d; ++i) {
    err = std::max(err, std::fabs(double(tf[std::size_t(i)]) - td[std::size_t(i)]));
    scale = std::max(scale, std::fabs(td[std::size_t(i)]));
  }
  CHECK(scale > 0.1);
  CHECK(err <= 1e-5 * scale);
  nd.backward(ctx, ConstPointsView<double>(c.data(), B, d));
  nf.backward(ctx, ConstPointsView<float>(cf.data(), B, d));
  err = scale = 0;
  for (index_t i = 0; i < nd.num_params(); ++i) {
    err = std::max(err, std::fabs(double(nf.grads()[i]) - nd.grads()[i]));
    scale = std::max(scale, std::fabs(nd.grads()[i]));
  }
  CHECK(scale > 0.1);
  CHECK(err <= 1e-4 * scale);

  // accumulate: g(c) + g(c) = 2 g(c).
  const std::vector<double> g1(nd.grads(), nd.grads() + nd.num_params());
  nd.backward(ctx, ConstPointsView<double>(c.data(), B, d), true);
  for (index_t i = 0; i < nd.num_params(); ++i)
    REQUIRE(std::fabs(nd.grads()[i] - 2 * g1[std::size_t(i)]) <= 1e-13 * (1 + std::fabs(g1[std::size_t(i)])));

  // After init (convex weights clamped) phi is convex: phi((x + y)/2) <= (phi(x) + phi(y))/2,
  // and the Hessian's eigenvalues are >= eps (d = 2: trace and determinant).
  Icnn<double> net(ctx, d, hidden, B, IcnnOptions{1, 1e-3});
  net.init(ctx, 5, 0);
  for (index_t i = net.convex_offset(); i < net.num_params(); ++i) REQUIRE(net.params()[i] >= 0);
  std::vector<double> y(B * d), mid(B * d), px(B), py(B), pm(B), hess(B * d * d);
  rng_normal<double>(ctx, 5, 9, 0, y.data(), B * d);
  for (index_t i = 0; i < B * d; ++i) mid[std::size_t(i)] = 0.5 * (x[std::size_t(i)] + y[std::size_t(i)]);
  net.potential(ctx, ConstPointsView<double>(x.data(), B, d), px.data());
  net.potential(ctx, ConstPointsView<double>(y.data(), B, d), py.data());
  net.potential(ctx, ConstPointsView<double>(mid.data(), B, d), pm.data());
  for (index_t i = 0; i < B; ++i) REQUIRE(pm[std::size_t(i)] <= 0.5 * (px[std::size_t(i)] + py[std::size_t(i)]) + 1e-12);
  net.hessian(ctx, ConstPointsView<double>(x.data(), B, d), hess.data());
  for (index_t i = 0; i < B; ++i) {
    const double* H = hess.data() + i * d * d;
    const double tr = H[0] + H[3], det = H[0] * H[3] - H[1] * H[2];
    const double lmin = 0.5 * (tr - std::sqrt(std::max(0.0, tr * tr - 4 * det)));
    REQUIRE(lmin >= 1e-3 * (1 - 1e-6) - 1e-9 * tr);
  }
  // A negative convex weight is clamped to 0.
  net.params()[net.final_offset()] = -1;
  net.clamp_convex(ctx);
  CHECK(net.params()[net.final_offset()] == 0);
}
