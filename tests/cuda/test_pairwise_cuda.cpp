// CUDA pairwise Riesz sums against the CPU backend (the tested reference), in float and double,
// small d (register kernel) and large d (chunked kernel), weights and coincident points; and the
// CUDA results are bitwise reproducible.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {
namespace {

struct Sums {
  double energy = 0, rate = 0;
  std::vector<double> grad, grad_v, grad_w;
  index_t coincident = -1;
};

template <class T>
Sums run(const Context& ctx, const std::vector<T>& x, const std::vector<T>& v,
         const std::vector<T>& a, const std::vector<T>& y, const std::vector<T>& w,
         const std::vector<T>& b, index_t n, index_t m, index_t d, double r, bool weights) {
  auto up = [&](const std::vector<T>& h) { return upload(ctx, h); };
  Buffer<T> xb = up(x), vb = up(v), ab = up(a), yb = up(y), wb = up(w), bb = up(b);
  Buffer<T> g(ctx, n * d), gv(ctx, n * d), gw(ctx, m * d);
  Buffer<double> out(ctx, 2);
  const Device dev = ctx.device();
  const ConstPointsView<T> xv(xb.data(), n, d, d, dev), vv(vb.data(), n, d, d, dev);
  const ConstPointsView<T> yv(yb.data(), m, d, d, dev), wv(wb.data(), m, d, d, dev);
  const T* ap = weights ? ab.data() : nullptr;
  const T* bp = weights ? bb.data() : nullptr;
  PairwiseWorkspace ws;
  Sums s;
  riesz_energy<T>(ctx, xv, ap, yv, bp, r, out.data(), &ws);
  riesz_gradient<T>(ctx, xv, ap, yv, bp, r, T(0.5), PointsView<T>(g.data(), n, d, d, dev), false,
                    &ws);
  riesz_directional<T>(ctx, xv, vv, ap, yv, wv, bp, r, out.data() + 1,
                       PointsView<T>(gv.data(), n, d, d, dev),
                       PointsView<T>(gw.data(), m, d, d, dev), T(1), false, &s.coincident, &ws);
  ctx.synchronize();
  const auto o = download(ctx, out);
  s.energy = o[0];
  s.rate = o[1];
  const auto gh = download(ctx, g), gvh = download(ctx, gv), gwh = download(ctx, gw);
  s.grad.assign(gh.begin(), gh.end());
  s.grad_v.assign(gvh.begin(), gvh.end());
  s.grad_w.assign(gwh.begin(), gwh.end());
  return s;
}

double max_rel(const std::vector<double>& got, const std::vector<double>& want) {
  double scale = 1e-300, err = 0;
  for (std::size_t k = 0; k < want.size(); ++k) {
    scale = std::max(scale, std::fabs(want[k]));
    err = std::max(err, std::fabs(got[k] - want[k]));
  }
  return err / scale;
}

template <class T>
void compare(index_t n, index_t m, index_t d, double r, bool weights, double tol) {
  std::mt19937_64 gen(unsigned(n * 31 + d));
  std::uniform_real_distribution<double> u(-1, 1), pos(0.2, 1.5);
  auto rnd = [&](index_t k, auto& dist) {
    std::vector<T> v(static_cast<std::size_t>(k));
    for (auto& e : v) e = T(dist(gen));
    return v;
  };
  auto x = rnd(n * d, u), v = rnd(n * d, u), a = rnd(n, pos);
  auto y = rnd(m * d, u), w = rnd(m * d, u), b = rnd(m, pos);
  for (index_t k = 0; k < d; ++k) x[std::size_t(3 * d + k)] = y[std::size_t(k)];  // coincident
  Context cpu(Device::cpu, 2), gpu(Device::cuda);
  const Sums c = run<T>(cpu, x, v, a, y, w, b, n, m, d, r, weights);
  const Sums g = run<T>(gpu, x, v, a, y, w, b, n, m, d, r, weights);
  INFO("n=" << n << " m=" << m << " d=" << d << " r=" << r << " weights=" << weights);
  CHECK(g.energy == doctest::Approx(c.energy).epsilon(tol));
  CHECK(g.rate == doctest::Approx(c.rate).epsilon(tol * 10));
  CHECK(g.coincident == c.coincident);
  CHECK(max_rel(g.grad, c.grad) <= tol * 10);
  CHECK(max_rel(g.grad_v, c.grad_v) <= tol * 10);
  CHECK(max_rel(g.grad_w, c.grad_w) <= tol * 10);
  const Sums again = run<T>(gpu, x, v, a, y, w, b, n, m, d, r, weights);
  CHECK(again.energy == g.energy);
  CHECK(again.grad == g.grad);
}

TEST_CASE("CUDA pairwise sums match the CPU backend") {
  for (double r : {1.0, 0.5, 1.5}) {
    for (bool weights : {false, true}) {
      compare<double>(300, 257, 2, r, weights, 1e-12);
      compare<double>(45, 70, 5, r, weights, 1e-12);
      compare<double>(20, 33, 784, r, weights, 1e-11);
      compare<float>(300, 257, 2, r, weights, 2e-5);
      compare<float>(20, 33, 784, r, weights, 2e-5);
    }
  }
}

TEST_CASE("CUDA mmd2 equals the CPU value") {
  const index_t n = 200, m = 150, d = 3;
  std::mt19937_64 gen(5);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> x(std::size_t(n * d)), y(std::size_t(m * d));
  for (auto& e : x) e = g(gen);
  for (auto& e : y) e = g(gen) + 0.5;
  Context cpu(Device::cpu, 2), gpu(Device::cuda);
  const Buffer<double> xb = upload(gpu, x), yb = upload(gpu, y);
  const double want = mmd2<double>(cpu, ConstPointsView<double>(x.data(), n, d),
                                   ConstPointsView<double>(y.data(), m, d), 1.3);
  const double got =
      mmd2<double>(gpu, ConstPointsView<double>(xb.data(), n, d, d, Device::cuda),
                   ConstPointsView<double>(yb.data(), m, d, d, Device::cuda), 1.3);
  CHECK(got == doctest::Approx(want).epsilon(1e-12));
}

}  // namespace
}  // namespace nwgf
