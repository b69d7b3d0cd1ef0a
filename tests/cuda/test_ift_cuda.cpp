// The IFT pieces on CUDA against the CPU backend: the kernels' row sums (pair_row_sums, the
// witness function) and the fused row sums + gradient (pair_row_sums_gradient) for the Gaussian
// and Riesz families, small d (register kernel) and d >= 4 (chunked kernel), float and double;
// and an IFT run on --backend cuda against the CPU run (its position steps use the target term
// kept from the weight step, schemes/scheme_ops' row_scaled_add).
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/schemes/flow.hpp"

namespace nwgf {
namespace {

template <class T>
std::vector<double> row_sums(const Context& ctx, PairFamily family, double param,
                             const std::vector<T>& x, const std::vector<T>& a,
                             const std::vector<T>& y, const std::vector<T>& b, index_t n,
                             index_t m, index_t d) {
  const Buffer<T> xb = upload(ctx, x), ab = upload(ctx, a), yb = upload(ctx, y), bb = upload(ctx, b);
  Buffer<T> out = upload(ctx, std::vector<T>(std::size_t(n), T(1)));
  const Device dev = ctx.device();
  pair_row_sums<T>(ctx, family, param, ConstPointsView<T>(xb.data(), n, d, d, dev), ab.data(),
                   ConstPointsView<T>(yb.data(), m, d, d, dev), bb.data(), T(0.5), out.data(),
                   true);
  ctx.synchronize();
  const auto h = download(ctx, out);
  return std::vector<double>(h.begin(), h.end());
}

template <class T>
void compare(PairFamily family, double param, index_t n, index_t m, index_t d, double tol) {
  std::mt19937_64 gen(unsigned(n * 31 + d));
  std::uniform_real_distribution<double> u(-1, 1), pos(0.2, 1.5);
  auto rnd = [&](index_t k, auto& dist) {
    std::vector<T> v(static_cast<std::size_t>(k));
    for (auto& e : v) e = T(dist(gen));
    return v;
  };
  const auto x = rnd(n * d, u), a = rnd(n, pos), y = rnd(m * d, u), b = rnd(m, u);
  Context cpu(Device::cpu, 2), gpu(Device::cuda);
  const auto c = row_sums<T>(cpu, family, param, x, a, y, b, n, m, d);
  const auto g = row_sums<T>(gpu, family, param, x, a, y, b, n, m, d);
  INFO("n=" << n << " m=" << m << " d=" << d << " family=" << int(family));
  for (std::size_t i = 0; i < c.size(); ++i) CHECK(g[i] == doctest::Approx(c[i]).epsilon(tol).scale(1));
}

// values (n) then grad (n, d) of pair_row_sums_gradient, accumulated onto 1 and 0.5.
template <class T>
std::vector<double> fused(const Context& ctx, PairFamily family, double param,
                          const std::vector<T>& x, const std::vector<T>& a, const std::vector<T>& y,
                          const std::vector<T>& b, index_t n, index_t m, index_t d) {
  const Buffer<T> xb = upload(ctx, x), ab = upload(ctx, a), yb = upload(ctx, y), bb = upload(ctx, b);
  Buffer<T> v = upload(ctx, std::vector<T>(std::size_t(n), T(1)));
  Buffer<T> g = upload(ctx, std::vector<T>(std::size_t(n * d), T(0.5)));
  const Device dev = ctx.device();
  pair_row_sums_gradient<T>(ctx, family, param, ConstPointsView<T>(xb.data(), n, d, d, dev),
                            ab.data(), ConstPointsView<T>(yb.data(), m, d, d, dev), bb.data(),
                            T(-0.5), v.data(), PointsView<T>(g.data(), n, d, d, dev), true);
  ctx.synchronize();
  const auto hv = download(ctx, v), hg = download(ctx, g);
  std::vector<double> out(hv.begin(), hv.end());
  out.insert(out.end(), hg.begin(), hg.end());
  return out;
}

template <class T>
void compare_fused(PairFamily family, double param, index_t n, index_t m, index_t d, double tol) {
  std::mt19937_64 gen(unsigned(n * 17 + d));
  std::uniform_real_distribution<double> u(-1, 1), pos(0.2, 1.5);
  auto rnd = [&](index_t k, auto& dist) {
    std::vector<T> v(static_cast<std::size_t>(k));
    for (auto& e : v) e = T(dist(gen));
    return v;
  };
  const auto x = rnd(n * d, u), a = rnd(n, pos), y = rnd(m * d, u), b = rnd(m, u);
  Context cpu(Device::cpu, 2), gpu(Device::cuda);
  const auto c = fused<T>(cpu, family, param, x, a, y, b, n, m, d);
  const auto g = fused<T>(gpu, family, param, x, a, y, b, n, m, d);
  INFO("fused n=" << n << " m=" << m << " d=" << d << " family=" << int(family));
  REQUIRE(c.size() == std::size_t(n * (d + 1)));
  for (std::size_t i = 0; i < c.size(); ++i) CHECK(g[i] == doctest::Approx(c[i]).epsilon(tol).scale(1));
}

}  // namespace

TEST_CASE("CUDA pair_row_sums_gradient = CPU, Gaussian and Riesz, small and large d") {
  for (const index_t d : {2, 7}) {
    compare_fused<double>(PairFamily::gaussian, 0.8, 150, 70, d, 1e-12);
    compare_fused<float>(PairFamily::gaussian, 0.8, 150, 70, d, 2e-5);
    compare_fused<double>(PairFamily::riesz, 1.5, 150, 70, d, 1e-12);
    compare_fused<double>(PairFamily::riesz, 1.0, 150, 70, d, 1e-12);
  }
}

TEST_CASE("CUDA pair_row_sums = CPU, Gaussian and Riesz, small and large d") {
  for (const index_t d : {2, 7}) {
    compare<double>(PairFamily::gaussian, 0.8, 150, 70, d, 1e-12);
    compare<float>(PairFamily::gaussian, 0.8, 150, 70, d, 2e-5);
    compare<double>(PairFamily::riesz, 1.5, 150, 70, d, 1e-12);
    compare<double>(PairFamily::riesz, 1.0, 150, 70, d, 1e-12);
  }
}

TEST_CASE("an IFT run on CUDA follows the CPU run (pgd, kl, qp weight steps; noise)") {
  FlowConfig c;
  c.scheme = SchemeKind::ift;
  c.functional = FunctionalKind::mmd;
  c.kernel = KernelKind::gaussian;
  c.gamma = 0.05;
  c.tau = 1;
  c.steps = 6;
  c.initial.kind = MeasureKind::gaussian;
  c.initial.points = {{5, 5}};
  c.initial.radius = 1;
  c.initial.n = 40;
  c.target.kind = MeasureKind::gaussian;
  c.target.cov = {1, 0.5, 0.5, 2};
  c.target.n = 30;
  c.plots = false;
  c.progress = false;
  for (const WeightStep ws : {WeightStep::pgd, WeightStep::kl, WeightStep::qp}) {
    c.ift.weight_step = ws;
    c.ift.noise = ws == WeightStep::kl ? 1.0 : 0.0;
    RunOptions opt;
    opt.backend = BackendChoice::cpu;
    const RunResult cpu = run_flow(c, opt);
    opt.backend = BackendChoice::cuda;
    const RunResult gpu = run_flow(c, opt);
    INFO("weight_step " << int(ws));
    for (std::size_t k = 0; k < cpu.samples.data.size(); ++k) {
      CHECK(gpu.samples.data[k] == doctest::Approx(cpu.samples.data[k]).epsilon(1e-9).scale(1));
    }
    CHECK(gpu.metrics.back().mmd2_paper ==
          doctest::Approx(cpu.metrics.back().mmd2_paper).epsilon(1e-8).scale(1e-12));
    CHECK(gpu.metrics.back().zero_weights == cpu.metrics.back().zero_weights);
  }
}

}  // namespace nwgf
