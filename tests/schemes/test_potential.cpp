// The potential energy F = ∫ V dP, V = -ln Q of the [target] density, and sums of functionals
// ([[functional.terms]]): V and grad V against independent 2-D formulas and central differences;
// the particle scheme's sum (potential + interaction kernel) against central differences of its
// value; the variational scheme's potential step (critic-free) against the exact proximal map
// (I + aA)^{-1}(x + aAb), and its forward-backward step (fb = true: the forward step (12) on an
// interaction kernel, a direct sum here, then the JKO step of the potential).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nwgf/engine/philox.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/potential_rows.hpp"
#include "nwgf/schemes/schemes.hpp"
#include "tests/helpers.hpp"
#include "tests/schemes/particle_gradient_fd.hpp"

using namespace nwgf;

namespace {

const double pi = 3.14159265358979323846;

// log N(x; b, S) in 2-D by the explicit inverse and determinant (independent of the Cholesky
// code): -1/2 (x - b)' S^{-1} (x - b) - 1/2 ln det(2 pi S).
double log_normal_2d(const double* x, const std::vector<double>& b, const std::vector<double>& S) {
  const double det = S[0] * S[3] - S[1] * S[2];
  const double u = x[0] - b[0], v = x[1] - b[1];
  const double q = (S[3] * u * u - (S[1] + S[2]) * u * v + S[0] * v * v) / det;
  return -0.5 * q - 0.5 * std::log(4 * pi * pi * det);
}

const char* mixture_target = R"(
[target]
kind = "mixture"
[[target.components]]
mean = [1.0, -0.5]
cov = [[0.5, 0.2], [0.2, 0.8]]
weight = 1.0
[[target.components]]
mean = [-1.0, 0.7]
cov = [[0.3, -0.1], [-0.1, 0.4]]
weight = 3.0
)";

const char* gaussian_target = R"(
[target]
kind = "gaussian"
points = [[1.0, -0.5]]
cov = [[0.5, 0.2], [0.2, 0.8]]
)";

FlowConfig particle_config(const std::string& functional, const char* target) {
  return parse_flow_config(std::string(R"(
[flow]
scheme = "particle"
tau = 0.1
steps = 1
)") + functional + R"(
[initial]
kind = "gaussian"
n = 8
d = 2
radius = 1.0
[output]
progress = false
)" + target,
                           "potential.toml");
}

std::vector<double> points(index_t n, std::uint64_t stream) {
  std::vector<double> x(std::size_t(n * 2));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.2 * philox_normal<double>(5, stream, i);
  return x;
}

}  // namespace

TEST_CASE("potential: V = -ln Q against 2-D formulas, grad V against central differences") {
  const Context ctx(Device::cpu, 1);
  for (const char* target : {gaussian_target, mixture_target}) {
    const bool mix = target == mixture_target;
    INFO("target " << (mix ? "mixture" : "gaussian"));
    const FlowConfig cfg = particle_config("[functional]\nkind = \"potential\"\n", target);
    const index_t n = 6;
    auto f = make_functional<double>(ctx, cfg, 2, n, std::vector<WeightedPoints>{});
    const std::vector<double> x = points(n, 1);
    auto V = [&](const double* p) {
      if (!mix) return -log_normal_2d(p, {1.0, -0.5}, {0.5, 0.2, 0.2, 0.8});
      const double a = std::log(0.25) + log_normal_2d(p, {1.0, -0.5}, {0.5, 0.2, 0.2, 0.8});
      const double b = std::log(0.75) + log_normal_2d(p, {-1.0, 0.7}, {0.3, -0.1, -0.1, 0.4});
      return -std::log(std::exp(a) + std::exp(b));
    };
    double mean = 0;
    for (index_t i = 0; i < n; ++i) mean += V(x.data() + 2 * i) / double(n);
    CHECK(f->value(ctx, ConstPointsView<double>(x.data(), n, 2)) ==
          doctest::Approx(mean).epsilon(1e-13));
    std::vector<double> g(x.size());
    f->particle_gradient(ctx, ConstPointsView<double>(x.data(), n, 2), 0.5,
                         PointsView<double>(g.data(), n, 2));
    const double h = 1e-6;
    for (std::size_t e = 0; e < x.size(); ++e) {
      std::vector<double> p = x, m = x;
      p[e] += h;
      m[e] -= h;
      const std::size_t row = e / 2 * 2;
      const double fd = (V(p.data() + row) - V(m.data() + row)) / (2 * h);
      CHECK(g[e] == doctest::Approx(0.5 * fd).epsilon(1e-7));
    }
  }
}

TEST_CASE("sum: potential + interaction kernel, value and N grad F_N against central differences") {
  const Context ctx(Device::cpu, 1);
  const FlowConfig cfg = particle_config(R"(
[functional]
kind = "sum"
[[functional.terms]]
kind = "potential"
weight = 0.7
[[functional.terms]]
kind = "interaction"
kernel = "quartic_quadratic"
weight = 1.5
[[functional.terms]]
kind = "interaction"
kernel = "gaussian_attraction"
weight = 0.4
)",
                                         mixture_target);
  const index_t n = 7;
  auto sum = make_functional<double>(ctx, cfg, 2, n, std::vector<WeightedPoints>{});
  const std::vector<double> x = points(n, 2);
  // The value against the terms' own definitions: 0.7 mean V + 1/(2 N^2) sum_ij (1.5 W_4 + 0.4 W_g).
  FlowConfig pot = cfg;
  pot.functional = FunctionalKind::potential;
  pot.terms.clear();
  auto v = make_functional<double>(ctx, pot, 2, n, std::vector<WeightedPoints>{});
  double pairs = 0;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      const double dx = x[2 * i] - x[2 * j], dy = x[2 * i + 1] - x[2 * j + 1];
      const double r2 = dx * dx + dy * dy;
      pairs += 1.5 * (r2 * r2 / 4 - r2 / 2) + 0.4 * (-std::exp(-r2) / pi);
    }
  const ConstPointsView<double> xv(x.data(), n, 2);
  const double want = 0.7 * v->value(ctx, xv) + pairs / (2.0 * n * n);
  CHECK(sum->value(ctx, xv) == doctest::Approx(want).epsilon(1e-13));
  // particle_gradient = N grad F_N (scale 1).
  nwgf::test::check_particle_gradient_fd(ctx, *sum, x, n, 2, 1.0, 1e-6, 1e-6);
}

TEST_CASE("PotentialRow: weighted values, scaled gradients written or added") {
  const Context ctx(Device::cpu, 1);
  const FlowConfig cfg = particle_config("[functional]\nkind = \"potential\"\n", gaussian_target);
  const index_t n = 5;
  auto f = make_functional<double>(ctx, cfg, 2, n, std::vector<WeightedPoints>{});
  const std::vector<double> x = points(n, 3);
  const ConstPointsView<double> xv(x.data(), n, 2);
  std::vector<double> g(x.size()), g2(x.size(), 1.0);
  f->particle_gradient(ctx, xv, 1.0, PointsView<double>(g.data(), n, 2));
  // The same through a second functional's rows is what the variational scheme does: checked
  // there by the exact proximal map; here the sum's accumulate path (first term writes, the
  // others add) with two equal potential terms gives twice the gradient.
  FlowConfig two = cfg;
  two.functional = FunctionalKind::sum;
  FunctionalTerm t;
  t.kind = FunctionalKind::potential;
  t.weight = 1;
  two.terms = {t, t};
  auto s = make_functional<double>(ctx, two, 2, n, std::vector<WeightedPoints>{});
  s->particle_gradient(ctx, xv, 1.0, PointsView<double>(g2.data(), n, 2));
  for (std::size_t e = 0; e < g.size(); ++e) CHECK(g2[e] == doctest::Approx(2 * g[e]).epsilon(1e-14));
  CHECK(s->value(ctx, xv) == doctest::Approx(2 * f->value(ctx, xv)).epsilon(1e-14));
}

namespace {

// The exact JKO (proximal) step of V = 1/2 (x - b)' A (x - b) + c, A = S^{-1}, pointwise:
// T(x) = argmin_y |y - x|^2 / (2a) + V(y) = (I + aA)^{-1} (x + aAb).
void prox_2d(double a, const double* x, double* out) {
  const double S[4] = {0.5, 0.2, 0.2, 0.8}, b[2] = {1.0, -0.5};
  const double det = S[0] * S[3] - S[1] * S[2];
  const double A[4] = {S[3] / det, -S[1] / det, -S[2] / det, S[0] / det};
  const double M[4] = {1 + a * A[0], a * A[1], a * A[2], 1 + a * A[3]};
  const double r[2] = {x[0] + a * (A[0] * b[0] + A[1] * b[1]), x[1] + a * (A[2] * b[0] + A[3] * b[1])};
  const double dm = M[0] * M[3] - M[1] * M[2];
  out[0] = (M[3] * r[0] - M[1] * r[1]) / dm;
  out[1] = (-M[2] * r[0] + M[0] * r[1]) / dm;
}

std::string variational_config(const std::string& functional, bool fb) {
  return std::string(R"(
seed = 4
[flow]
scheme = "variational"
tau = 0.2
steps = 1
)") + (fb ? "fb = true\n" : "") + functional + R"(
[initial]
kind = "gaussian"
n = 600
d = 2
radius = 1.0
[network]
hidden = [16]
activation = "linear"
[train]
iterations = 600
batch = 256
lr = 1e-2
[output]
progress = false
)" + gaussian_target;
}

}  // namespace

TEST_CASE("variational: a potential's JKO step (critic-free) lands on the exact proximal map") {
  const FlowConfig cfg =
      parse_flow_config(variational_config("[functional]\nkind = \"potential\"\n", false), "v.toml");
  RunOptions opt;
  opt.backend = BackendChoice::cpu;
  opt.threads = 1;
  const RunResult r = run_flow(cfg, opt);
  const HostMatrix<double> x0 =
      sample_measure(cfg.initial, cfg.seed, random_stream(RandomPurpose::initial, 0), "initial");
  double err = 0, moved = 0, mean_v = 0;
  for (index_t i = 0; i < x0.rows; ++i) {
    double t[2];
    prox_2d(0.2, x0.data.data() + 2 * i, t);
    for (int j = 0; j < 2; ++j) {
      err = std::max(err, std::fabs(r.samples.data[std::size_t(2 * i + j)] - t[j]));
      moved = std::max(moved, std::fabs(x0.data[std::size_t(2 * i + j)] - t[j]));
    }
    mean_v -= log_normal_2d(r.samples.data.data() + 2 * i, {1.0, -0.5}, {0.5, 0.2, 0.2, 0.8}) /
              double(x0.rows);
  }
  INFO("max |T(x) - prox(x)| " << err << ", max move " << moved);
  CHECK(err < 1e-4 * moved);
  // F^ = E V(T X) of the pushed particles.
  CHECK(r.metrics.back().functional == doctest::Approx(mean_v).epsilon(1e-5));
}

TEST_CASE("variational fb: the forward step on W (direct sum), then the potential's JKO step") {
  const FlowConfig cfg = parse_flow_config(variational_config(R"(
[functional]
kind = "sum"
[[functional.terms]]
kind = "potential"
weight = 1.0
[[functional.terms]]
kind = "interaction"
kernel = "gaussian_attraction"
weight = 2.0
)",
                                                              true),
                                           "fb.toml");
  RunOptions opt;
  opt.backend = BackendChoice::cpu;
  opt.threads = 1;
  const RunResult r = run_flow(cfg, opt);
  const HostMatrix<double> x0 =
      sample_measure(cfg.initial, cfg.seed, random_stream(RandomPurpose::initial, 0), "initial");
  const index_t n = x0.rows;
  const double a = 0.2, w = 2.0;
  // Forward step (12) with F_W = w/2 ∫∫ W, W = -exp(-|z|^2)/pi, grad W(z) = 2 z exp(-|z|^2)/pi:
  // x_i - a w/N sum_j grad W(x_i - x_j).
  std::vector<double> half(x0.data);
  for (index_t i = 0; i < n; ++i) {
    double g[2] = {0, 0};
    for (index_t j = 0; j < n; ++j) {
      const double dx = x0.data[std::size_t(2 * i)] - x0.data[std::size_t(2 * j)];
      const double dy = x0.data[std::size_t(2 * i + 1)] - x0.data[std::size_t(2 * j + 1)];
      const double e = 2 * std::exp(-(dx * dx + dy * dy)) / pi;
      g[0] += e * dx;
      g[1] += e * dy;
    }
    for (int k = 0; k < 2; ++k) half[std::size_t(2 * i + k)] -= a * w * g[k] / double(n);
  }
  double err = 0, moved = 0, forward = 0;
  for (index_t i = 0; i < n; ++i) {
    double t[2];
    prox_2d(a, half.data() + 2 * i, t);
    for (int j = 0; j < 2; ++j) {
      const std::size_t e = std::size_t(2 * i + j);
      err = std::max(err, std::fabs(r.samples.data[e] - t[j]));
      moved = std::max(moved, std::fabs(x0.data[e] - t[j]));
      forward = std::max(forward, std::fabs(x0.data[e] - half[e]));
    }
  }
  INFO("max |x1 - prox(x_1/2)| " << err << ", max move " << moved << ", forward " << forward);
  CHECK(err < 1e-4 * moved);
  CHECK(err < 1e-3 * forward);  // the forward step is seen, not lost in the error
  // F^ = E V(x1) + w/(2N^2) sum_ij W(x1_i - x1_j).
  double f = 0;
  const auto& x1 = r.samples.data;
  for (index_t i = 0; i < n; ++i) {
    f -= log_normal_2d(x1.data() + 2 * i, {1.0, -0.5}, {0.5, 0.2, 0.2, 0.8}) / double(n);
    for (index_t j = 0; j < n; ++j) {
      const double dx = x1[std::size_t(2 * i)] - x1[std::size_t(2 * j)];
      const double dy = x1[std::size_t(2 * i + 1)] - x1[std::size_t(2 * j + 1)];
      f += w * (-std::exp(-(dx * dx + dy * dy)) / pi) / (2.0 * double(n) * double(n));
    }
  }
  CHECK(r.metrics.back().functional == doctest::Approx(f).epsilon(1e-5));
}
