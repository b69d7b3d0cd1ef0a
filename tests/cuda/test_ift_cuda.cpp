// The IFT pieces on CUDA against the CPU backend: the kernels' row sums (pair_row_sums, the
// witness function) and the fused row sums + gradient (pair_row_sums_gradient) for the Gaussian
// and Riesz families, small d (register kernel) and d >= 4 (chunked kernel), float and double;
// and an IFT run on --backend cuda against the CPU run (its position steps use the target term
// kept from the weight step, schemes/scheme_ops' row_scaled_add); the device weight steps (pgd,
// kl; simplex by bisection + Michelot) against the host steps (simplex by sorting).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/ift/weight_step.hpp"
#include "nwgf/schemes/ift/weight_step_device.hpp"

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

template <class T>
void compare_weight_step(WeightStep kind, MassConstraint mass, KlNormalise normalise, index_t n,
                         double eta, unsigned seed) {
  CAPTURE(int(kind));
  CAPTURE(int(mass));
  CAPTURE(int(normalise));
  CAPTURE(n);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> w(static_cast<std::size_t>(n)), g(static_cast<std::size_t>(n));
  double sum = 0;
  for (auto& v : w) sum += (v = u(rng) < 0.2 ? 0.0 : u(rng));  // some empty particles
  if (sum == 0) w[0] = sum = 1;
  for (auto& v : w) v /= sum;
  // A witness with ties (several particles share a value) and a spread that zeroes some weights.
  for (auto& v : g) v = T(std::floor(8 * u(rng)) / 8 - 0.4 + 1e-3 * std::floor(4 * u(rng)));
  Context gpu(Device::cuda, 1);
  const std::vector<T> gt(g.begin(), g.end());
  Buffer<double> wd = upload(gpu, w);
  const Buffer<T> gd = upload(gpu, gt);
  Buffer<T> wt(gpu, n);
  detail::DeviceWeightStep s;
  s.kind = kind;
  s.mass = mass;
  s.normalise = normalise;
  s.eta = eta;
  detail::cuda_weight_step<T>(gpu, s, wd.data(), gd.data(), n, wt.data());
  const std::vector<double> dev = download(gpu, wd);
  const std::vector<T> dev_t = download(gpu, wt);
  const std::vector<double> gh(gt.begin(), gt.end());
  // Rounding scale: the largest |v| the projection subtracts theta from (pgd: w - 2 eta g).
  double vmax = 1;
  for (index_t i = 0; i < n; ++i) {
    const auto k = std::size_t(i);
    if (kind == WeightStep::pgd) vmax = std::max(vmax, std::fabs(w[k] - 2 * eta * gh[k]));
  }
  const double eps = std::numeric_limits<double>::epsilon();
  if (kind == WeightStep::pgd) {
    weight_step_pgd(w, gh, eta, mass);
  } else {
    weight_step_kl(w, gh, eta, mass, normalise);
  }
  double mass_dev = 0, mass_host = 0;
  index_t zeros_dev = 0, zeros_host = 0;
  // The sums behind theta are added in another order (a block's tree vs the sorted prefix): their
  // rounding, about sqrt(n) eps vmax, shifts every weight alike. A wrong support would shift
  // theta by a weight over the support's size, 1e-8 here.
  const double tol_abs = 16 * std::sqrt(double(n)) * eps * vmax;
  double worst = 0;  // the largest difference over its tolerance
  for (index_t i = 0; i < n; ++i) {
    const auto k = std::size_t(i);
    worst = std::max(worst, std::fabs(dev[k] - w[k]) / (1e-13 * std::fabs(w[k]) + tol_abs));
    CHECK(dev_t[k] == T(dev[k]));
    CHECK(dev[k] >= 0);
    mass_dev += dev[k];
    mass_host += w[k];
    zeros_dev += dev[k] == 0;
    zeros_host += w[k] == 0;
  }
  CHECK(worst <= 1);
  CHECK(std::fabs(mass_dev - mass_host) <= 4 * eps * vmax * double(n));
  CHECK(zeros_dev == zeros_host);  // the same support
}

TEST_CASE("CUDA weight steps = the host steps (pgd, kl; simplex, nonnegative; ties, zeros)") {
  for (const index_t n : {1, 7, 512, 3001}) {
    for (const MassConstraint mass : {MassConstraint::simplex, MassConstraint::nonnegative}) {
      compare_weight_step<double>(WeightStep::pgd, mass, KlNormalise::sum, n, 0.7 / double(n), 5);
      compare_weight_step<float>(WeightStep::pgd, mass, KlNormalise::sum, n, 0.7 / double(n), 6);
      compare_weight_step<double>(WeightStep::kl, mass, KlNormalise::project, n, 3.0, 7);
    }
    compare_weight_step<double>(WeightStep::kl, MassConstraint::simplex, KlNormalise::sum, n, 3.0, 8);
    compare_weight_step<float>(WeightStep::kl, MassConstraint::simplex, KlNormalise::sum, n, 3.0, 9);
    // A step so large that one weight takes all the mass.
    compare_weight_step<double>(WeightStep::pgd, MassConstraint::simplex, KlNormalise::sum, n,
                                50.0, 10);
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
    // qp on CUDA is ~1000 kernels per step (qp.cu): 20 FISTA iterations keep the emulated run
    // short.
    c.ift.qp_iterations = 20;
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
