// CUDA Gaussian pairwise sums (kernels/family/gaussian.hpp) against the CPU backend (tested
// against long double in tests/kernels/test_gaussian.cpp), float and double, small d (register kernel)
// and large d (chunked kernel), with and without weights; the CUDA results are reproducible.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {
namespace {

template <class T>
void sums(const Context& ctx, const std::vector<T>& x, const std::vector<T>& a,
          const std::vector<T>& y, const std::vector<T>& b, index_t n, index_t m, index_t d,
          double sigma, bool weights, double& energy, std::vector<double>& grad) {
  const Buffer<T> xb = upload(ctx, x), ab = upload(ctx, a), yb = upload(ctx, y),
                  bb = upload(ctx, b);
  Buffer<T> g(ctx, n * d);
  Buffer<double> out(ctx, 1);
  const Device dev = ctx.device();
  const ConstPointsView<T> xv(xb.data(), n, d, d, dev), yv(yb.data(), m, d, d, dev);
  const T* ap = weights ? ab.data() : nullptr;
  const T* bp = weights ? bb.data() : nullptr;
  PairwiseWorkspace ws;
  gaussian_energy<T>(ctx, xv, ap, yv, bp, sigma, out.data(), &ws);
  gaussian_gradient<T>(ctx, xv, ap, yv, bp, sigma, T(0.5), PointsView<T>(g.data(), n, d, d, dev),
                       false, &ws);
  ctx.synchronize();
  energy = download(ctx, out)[0];
  const auto gh = download(ctx, g);
  grad.assign(gh.begin(), gh.end());
}

template <class T>
void compare(index_t n, index_t m, index_t d, double sigma, bool weights, double tol) {
  std::mt19937_64 gen(unsigned(n * 17 + d));
  std::uniform_real_distribution<double> u(-1, 1), pos(0.2, 1.5);
  auto rnd = [&](index_t k, auto& dist) {
    std::vector<T> v(static_cast<std::size_t>(k));
    for (auto& e : v) e = T(dist(gen));
    return v;
  };
  auto x = rnd(n * d, u), a = rnd(n, pos), y = rnd(m * d, u), b = rnd(m, pos);
  for (index_t k = 0; k < d; ++k) x[std::size_t(3 * d + k)] = y[std::size_t(k)];  // coincident
  Context cpu(Device::cpu, 2), gpu(Device::cuda);
  double ec, eg, again;
  std::vector<double> gc, gg, gagain;
  sums<T>(cpu, x, a, y, b, n, m, d, sigma, weights, ec, gc);
  sums<T>(gpu, x, a, y, b, n, m, d, sigma, weights, eg, gg);
  INFO("n=" << n << " m=" << m << " d=" << d << " sigma=" << sigma << " weights=" << weights);
  CHECK(eg == doctest::Approx(ec).epsilon(tol));
  double scale = 1e-300, err = 0;
  for (std::size_t k = 0; k < gc.size(); ++k) {
    scale = std::max(scale, std::fabs(gc[k]));
    err = std::max(err, std::fabs(gg[k] - gc[k]));
  }
  CHECK(err <= tol * 10 * scale);
  sums<T>(gpu, x, a, y, b, n, m, d, sigma, weights, again, gagain);
  CHECK(again == eg);
  CHECK(gagain == gg);
}

TEST_CASE("CUDA Gaussian sums match the CPU backend") {
  for (double sigma : {0.5, 2.0}) {
    for (bool weights : {false, true}) {
      compare<double>(300, 257, 2, sigma, weights, 1e-12);
      compare<double>(45, 70, 5, sigma, weights, 1e-12);
      compare<double>(20, 33, 784, sigma * 10, weights, 1e-11);
      compare<float>(300, 257, 2, sigma, weights, 2e-5);
      compare<float>(20, 33, 784, sigma * 10, weights, 2e-5);
    }
  }
}

}  // namespace
}  // namespace nwgf
