// The Riesz kernel W(z) = -|z|^r as an interaction term (functional_interaction.hpp): its value
// against the pair sum written out, N grad F_N against central differences of the value in double
// for the exponents of every evaluation path (r = 1, 1/2, 3/2 and a general r); as a term of a sum
// ([[functional.terms]] with r); and the variational scheme's backward step (fb = false, the
// batch U-statistic) of potential + Riesz repulsion against the particles' implicit Euler step.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nwgf/engine/philox.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/functional_interaction.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/schemes.hpp"
#include "tests/schemes/particle_gradient_fd.hpp"

using namespace nwgf;

namespace {

std::vector<double> points(index_t n, index_t d, std::uint64_t stream) {
  std::vector<double> x(std::size_t(n * d));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.3 * philox_normal<double>(11, stream, i);
  return x;
}

// 1/(2 N^2) sum_ij -|x_i - x_j|^r, written out.
double riesz_energy_direct(const std::vector<double>& x, index_t n, index_t d, double r) {
  double f = 0;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      double s = 0;
      for (index_t k = 0; k < d; ++k) {
        const double z = x[std::size_t(i * d + k)] - x[std::size_t(j * d + k)];
        s += z * z;
      }
      f -= std::pow(s, 0.5 * r);
    }
  return f / (2.0 * double(n) * double(n));
}

}  // namespace

TEST_CASE("riesz interaction term: value and N grad F_N against central differences") {
  const Context ctx(Device::cpu, 1);
  const index_t n = 9, d = 3;
  for (double r : {1.0, 0.5, 1.5, 1.3}) {
    INFO("r = " << r);
    auto f = make_kernel_interaction<double>(ctx, KernelKind::riesz, r);
    const std::vector<double> x = points(n, d, std::uint64_t(r * 10));
    const ConstPointsView<double> xv(x.data(), n, d);
    const double want = riesz_energy_direct(x, n, d, r);
    CHECK(want < 0);
    CHECK(f->value(ctx, xv) == doctest::Approx(want).epsilon(1e-13));
    nwgf::test::check_particle_gradient_fd(ctx, *f, x, n, d, 0.5, 1e-5, 1e-7);
  }
  CHECK_THROWS(make_kernel_interaction<double>(ctx, KernelKind::riesz, 2.0));
}

TEST_CASE("sum with a riesz term: the config's r, value and gradient by central differences") {
  const Context ctx(Device::cpu, 1);
  const FlowConfig cfg = parse_flow_config(R"(
[flow]
scheme = "particle"
tau = 0.1
steps = 1
[functional]
kind = "sum"
[[functional.terms]]
kind = "potential"
weight = 1.0
[[functional.terms]]
kind = "interaction"
kernel = "riesz"
r = 1.5
weight = 0.6
[[functional.terms]]
kind = "interaction"
kernel = "quartic_quadratic"
weight = 0.3
[initial]
kind = "gaussian"
n = 8
d = 2
radius = 1.0
[target]
kind = "gaussian"
points = [[0.5, -0.5]]
radius = 1.0
[output]
progress = false
)",
                                           "riesz_sum.toml");
  REQUIRE(cfg.terms.size() == 3);
  CHECK(cfg.terms[1].r == 1.5);
  CHECK(to_toml(cfg).find("r = 1.5") != std::string::npos);
  const index_t n = 8;
  auto sum = make_functional<double>(ctx, cfg, 2, n, std::vector<WeightedPoints>{});
  const std::vector<double> x = points(n, 2, 7);
  const ConstPointsView<double> xv(x.data(), n, 2);
  // V = |x - b|^2 / 2 + ln(2 pi) for N(b, Id).
  double pot = 0, quartic = 0;
  for (index_t i = 0; i < n; ++i) {
    const double u = x[std::size_t(2 * i)] - 0.5, v = x[std::size_t(2 * i + 1)] + 0.5;
    pot += (0.5 * (u * u + v * v) + std::log(2 * 3.14159265358979323846)) / double(n);
    for (index_t j = 0; j < n; ++j) {
      const double dx = x[std::size_t(2 * i)] - x[std::size_t(2 * j)];
      const double dy = x[std::size_t(2 * i + 1)] - x[std::size_t(2 * j + 1)];
      const double r2 = dx * dx + dy * dy;
      quartic += (r2 * r2 / 4 - r2 / 2) / (2.0 * double(n) * double(n));
    }
  }
  const double want = pot + 0.6 * riesz_energy_direct(x, n, 2, 1.5) + 0.3 * quartic;
  CHECK(sum->value(ctx, xv) == doctest::Approx(want).epsilon(1e-13));
  nwgf::test::check_particle_gradient_fd(ctx, *sum, x, n, 2, 1.0, 1e-5, 1e-7);
}

namespace {

// 1-D: grad V + w/N sum_j grad W(y_i - y_j), V = y^2/2 (target N(0, 1)), W = -|z|^r:
// grad W(z) = -r |z|^{r-2} z (0 at z = 0).
std::vector<double> drift(const std::vector<double>& y, double w, double r) {
  const std::size_t n = y.size();
  std::vector<double> g(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    g[i] = y[i];
    for (std::size_t j = 0; j < n; ++j) {
      const double z = y[i] - y[j];
      if (z != 0) g[i] -= w * r * std::pow(std::fabs(z), r - 2) * z / double(n);
    }
  }
  return g;
}

}  // namespace

TEST_CASE("variational scheme, potential + riesz (fb = false): one step is the implicit Euler step") {
  const double w = 2.0, r = 1.5;
  const FlowConfig cfg = parse_flow_config(R"(
seed = 4
[flow]
scheme = "variational"
tau = 0.5
steps = 1
[functional]
kind = "sum"
[[functional.terms]]
kind = "potential"
weight = 1.0
[[functional.terms]]
kind = "interaction"
kernel = "riesz"
r = 1.5
weight = 2.0
[initial]
kind = "gaussian"
n = 300
d = 1
radius = 0.3
[target]
kind = "gaussian"
points = [[0.0]]
radius = 1.0
[network]
hidden = [32, 32]
activation = "prelu"
[train]
iterations = 2000
batch = 256
lr = 2e-3
[output]
progress = false
)",
                                           "riesz_step.toml");
  RunOptions opt;
  opt.backend = BackendChoice::cpu;
  opt.threads = 1;
  const RunResult res = run_flow(cfg, opt);
  const HostMatrix<double> x0 =
      sample_measure(cfg.initial, cfg.seed, random_stream(RandomPurpose::initial, 0), "initial");
  const double a = cfg.tau;
  std::vector<double> y = x0.data, ex = x0.data;
  const std::vector<double> g0 = drift(x0.data, w, r);
  for (std::size_t e = 0; e < y.size(); ++e) ex[e] -= a * g0[e];
  // y = x0 - a drift(y), by the damped fixed-point iteration.
  for (int it = 0; it < 2000; ++it) {
    const std::vector<double> g = drift(y, w, r);
    for (std::size_t e = 0; e < y.size(); ++e) y[e] = 0.7 * y[e] + 0.3 * (x0.data[e] - a * g[e]);
  }
  const std::vector<double> gy = drift(y, w, r);
  double fixed = 0, err2 = 0, moved2 = 0, gap2 = 0;
  for (std::size_t e = 0; e < y.size(); ++e) {
    fixed = std::max(fixed, std::fabs(y[e] - x0.data[e] + a * gy[e]));
    const double de = res.samples.data[e] - y[e], dm = y[e] - x0.data[e], dg = ex[e] - y[e];
    err2 += de * de;
    moved2 += dm * dm;
    gap2 += dg * dg;
  }
  const double ne = double(y.size());
  INFO("fixed-point residual " << fixed << "; rms |x1 - implicit| " << std::sqrt(err2 / ne)
                               << ", rms move " << std::sqrt(moved2 / ne)
                               << ", rms implicit - explicit " << std::sqrt(gap2 / ne));
  // Measured: rms error 0.023 for an rms move of 0.59; the explicit step is 0.16 (rms) away.
  REQUIRE(fixed < 1e-10);
  CHECK(err2 < 0.1 * 0.1 * moved2);
  CHECK(err2 < 0.25 * 0.25 * gap2);  // the implicit step, not the explicit one
  // The repulsion spreads the narrow start (sd 0.3) against the confinement.
  double s0 = 0, s1 = 0;
  for (std::size_t e = 0; e < y.size(); ++e) {
    s0 += x0.data[e] * x0.data[e];
    s1 += res.samples.data[e] * res.samples.data[e];
  }
  CHECK(s1 > s0);
}
