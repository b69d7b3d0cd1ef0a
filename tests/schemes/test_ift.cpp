// The IFT scheme from the theory (Gladin et al. 2024, the spec's section 6): the simplex
// projection against a brute-force search, the derivatives of F = 1/2 MMD^2 against central
// differences, the discrete Thm 3.4 decay (1 + eta)^(-2k) of the exact weight step, monotone F
// for the exact and small-eta PGD steps, mass 1 and w >= 0, tau = 0 leaves positions alone, and
// weight_step = "none" is the particle MMD flow bit for bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/ift/qp.hpp"
#include "nwgf/schemes/ift/simplex.hpp"
#include "nwgf/schemes/ift/weight_step.hpp"
#include "nwgf/schemes/ift/weighted_mmd.hpp"
#include "nwgf/schemes/schemes.hpp"

using namespace nwgf;

namespace {

std::vector<double> random_vector(index_t n, std::uint64_t stream, double scale) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) v[std::size_t(i)] = scale * philox_normal<double>(5, stream, std::uint64_t(i));
  return v;
}

// The projection onto the simplex by trying every support S: w_S = v_S - (sum v_S - 1)/|S|,
// feasible when positive; the closest feasible point.
std::vector<double> brute_force_projection(const std::vector<double>& v) {
  const std::size_t n = v.size();
  std::vector<double> best;
  double best_d = INFINITY;
  for (unsigned mask = 1; mask < (1u << n); ++mask) {
    double sum = 0, count = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (mask & (1u << i)) sum += v[i], count += 1;
    }
    const double theta = (sum - 1) / count;
    std::vector<double> w(n, 0.0);
    bool ok = true;
    for (std::size_t i = 0; i < n; ++i) {
      if (mask & (1u << i)) {
        w[i] = v[i] - theta;
        ok = ok && w[i] >= 0;
      }
    }
    if (!ok) continue;
    double d = 0;
    for (std::size_t i = 0; i < n; ++i) d += (w[i] - v[i]) * (w[i] - v[i]);
    if (d < best_d) best_d = d, best = w;
  }
  return best;
}

HostMatrix<double> matrix(const std::vector<double>& v, index_t d) {
  HostMatrix<double> m;
  m.data = v;
  m.cols = d;
  m.rows = index_t(v.size()) / d;
  return m;
}

// A scheme on given positions X (n, d) toward the atoms Y (as a diracs target), CPU, double.
struct Setup {
  Context ctx{BackendChoice::cpu, 1};
  FlowConfig cfg;
  std::unique_ptr<Functional<double>> f;
  std::unique_ptr<Scheme<double>> scheme;
  Points<double> x;

  Setup(const std::vector<double>& X, const std::vector<double>& Y, index_t d, KernelKind kernel,
        double gamma, IftConfig ift) {
    cfg.scheme = SchemeKind::ift;
    cfg.functional = FunctionalKind::mmd;
    cfg.kernel = kernel;
    cfg.gamma = gamma;
    cfg.r = 1.5;
    cfg.ift = ift;
    cfg.target.kind = MeasureKind::diracs;
    cfg.target.d = d;
    for (std::size_t j = 0; j < Y.size() / std::size_t(d); ++j) {
      cfg.target.points.emplace_back(Y.begin() + std::ptrdiff_t(j) * d, Y.begin() + std::ptrdiff_t(j + 1) * d);
    }
    const index_t n = index_t(X.size()) / d;
    WeightedPoints t{matrix(Y, d), {}};
    f = make_functional<double>(ctx, cfg, d, n, std::vector<WeightedPoints>{t});
    scheme = make_scheme<double>(ctx, cfg, *f, n, d);
    x = Points<double>(ctx, n, d);
    copy_from_host(ctx, x.buffer(), X.data(), index_t(X.size()));
  }
  StepInfo metrics(index_t k) {
    StepInfo s;
    scheme->weighted_metrics(ctx, x, k, s);
    return s;
  }
  void step(index_t k, double tau) { scheme->step(ctx, x, k, tau, {}); }
  std::vector<double> positions() { return download(ctx, x.buffer()); }
};

}  // namespace

TEST_CASE("simplex projection: sort = bisection = brute force over supports; nonnegative clips") {
  for (std::uint64_t s = 0; s < 40; ++s) {
    const index_t n = 1 + index_t(s % 9);
    const auto v = random_vector(n, 100 + s, s % 3 == 0 ? 0.05 : 1.0);
    auto a = v, b = v;
    project_simplex_sort(a);
    project_simplex_bisection(b);
    const auto c = brute_force_projection(v);
    REQUIRE(c.size() == a.size());
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i] == doctest::Approx(c[i]).epsilon(1e-12).scale(1));
      CHECK(std::fabs(a[i] - b[i]) < 1e-13);
      CHECK(a[i] >= 0);
      sum += a[i];
    }
    CHECK(sum == doctest::Approx(1).epsilon(1e-14));
  }
  std::vector<double> w = {-1, 0.5, 2};
  project_nonnegative(w);
  CHECK(w == std::vector<double>{0, 0.5, 2});
}

TEST_CASE("F = 1/2 MMD^2: dF/dw_i = g(x_i) and dF/dx_i = w_i grad g(x_i) by central differences") {
  const index_t n = 7, m = 5, d = 3;
  const auto X = random_vector(n * d, 1, 1.0), Y = random_vector(m * d, 2, 1.2);
  auto w = random_vector(n, 3, 1.0);
  for (double& v : w) v = std::fabs(v);
  Context ctx(BackendChoice::cpu, 1);
  for (const KernelKind kind : {KernelKind::gaussian, KernelKind::riesz}) {
    CAPTURE(int(kind));
    WeightedMmd<double> mmd(ctx, IftKernel::make(kind, 0.3, 1.5), d, WeightedPoints{matrix(Y, d), {}});
    Points<double> x(ctx, n, d);
    Buffer<double> wb = upload(ctx, w), g(ctx, n), grad(ctx, n * d);
    copy_from_host(ctx, x.buffer(), X.data(), n * d);
    auto F = [&](const std::vector<double>& xs, const std::vector<double>& ws) {
      Points<double> p(ctx, n, d);
      copy_from_host(ctx, p.buffer(), xs.data(), n * d);
      const Buffer<double> wv = upload(ctx, ws);
      return 0.5 * mmd.mmd2(ctx, p.view(), wv.data());
    };
    mmd.witness(ctx, x.view(), x.view(), wb.data(), g.data());
    mmd.witness_gradient(ctx, x.view(), wb.data(), x.view(), wb.data(), 1.0,
                         PointsView<double>(grad.data(), n, d, grad.device()));
    const auto gh = download(ctx, g), gradh = download(ctx, grad);
    const double h = 1e-6;
    for (index_t i = 0; i < n; ++i) {
      auto wp = w, wm = w;
      wp[std::size_t(i)] += h;
      wm[std::size_t(i)] -= h;
      CHECK(gh[std::size_t(i)] == doctest::Approx((F(X, wp) - F(X, wm)) / (2 * h)).epsilon(1e-8));
      for (index_t c = 0; c < d; ++c) {
        auto xp = X, xm = X;
        xp[std::size_t(i * d + c)] += h;
        xm[std::size_t(i * d + c)] -= h;
        CHECK(gradh[std::size_t(i * d + c)] ==
              doctest::Approx((F(xp, w) - F(xm, w)) / (2 * h)).epsilon(1e-7));
      }
    }
  }
}

TEST_CASE("Thm 3.4, discrete: frozen positions, target atoms among the particles, exact QP step: "
          "MMD^2_k = (1 + eta)^(-2k) MMD^2_0") {
  const index_t m = 4, extra = 3, d = 2;
  const auto Y = random_vector(m * d, 7, 1.5);
  auto X = Y;
  const auto E = random_vector(extra * d, 8, 1.5);
  X.insert(X.end(), E.begin(), E.end());
  IftConfig ift;
  ift.weight_step = WeightStep::qp;
  ift.qp_iterations = 3000;
  ift.eta = 0.5;
  Setup s(X, Y, d, KernelKind::gaussian, 0.5, ift);
  const double m0 = s.metrics(0).mmd2_paper;
  REQUIRE(m0 > 1e-3);
  for (index_t k = 1; k <= 5; ++k) {
    s.step(k, 0.0);
    const double ratio = s.metrics(k).mmd2_paper / (m0 * std::pow(1 + ift.eta, -2.0 * double(k)));
    CAPTURE(k);
    CHECK(ratio == doctest::Approx(1).epsilon(1e-6));
  }
  CHECK(s.positions() == X);  // tau = 0 leaves the positions unchanged
}

TEST_CASE("monotone F: the exact step and PGD with 2 eta <= 1/lambda_max(K) never increase it; "
          "mass 1 and w >= 0 after every step") {
  const index_t n = 12, m = 9, d = 2;
  const auto X = random_vector(n * d, 11, 2.0), Y = random_vector(m * d, 12, 1.0);
  for (const WeightStep ws : {WeightStep::qp, WeightStep::pgd, WeightStep::kl}) {
    CAPTURE(int(ws));
    IftConfig ift;
    ift.weight_step = ws;
    ift.qp_iterations = 50;  // any number: the best iterate is kept
    // lambda_max(K) <= n for a Gaussian Gram matrix (entries <= 1).
    ift.eta = ws == WeightStep::qp ? 1.0 : 0.5 / double(n);
    Setup s(X, Y, d, KernelKind::gaussian, 0.2, ift);
    const double f0 = s.metrics(0).functional;
    double f = f0;
    for (index_t k = 1; k <= 15; ++k) {
      s.step(k, 0.0);
      const StepInfo st = s.metrics(k);
      if (ws != WeightStep::kl) CHECK(st.functional <= f * (1 + 1e-13));
      CHECK(st.mass == doctest::Approx(1).epsilon(1e-13));
      const auto* w = s.scheme->weights(s.ctx);
      CHECK(*std::min_element(w->begin(), w->end()) >= 0);
      CHECK(st.paper_step == double(2 * k));
      f = st.functional;
    }
    CHECK(f < 0.999 * f0);
  }
}

TEST_CASE("the weighted position step at uniform weights is the particle flow's gradient") {
  const index_t n = 10, m = 6, d = 2;
  const auto X = random_vector(n * d, 21, 1.0), Y = random_vector(m * d, 22, 1.0);
  Context ctx(BackendChoice::cpu, 1);
  for (const KernelKind kind : {KernelKind::gaussian, KernelKind::riesz}) {
    FunctionalSpec spec;
    spec.kind = FunctionalKind::mmd;
    spec.kernel = kind;
    spec.gamma = 0.3;
    spec.r = 1.5;
    const WeightedPoints t{matrix(Y, d), {}};
    auto f = make_functional<double>(ctx, spec, d, n, std::vector<WeightedPoints>{t});
    WeightedMmd<double> mmd(ctx, IftKernel::make(kind, 0.3, 1.5), d, t);
    Points<double> x(ctx, n, d);
    copy_from_host(ctx, x.buffer(), X.data(), n * d);
    const Buffer<double> w = upload(ctx, std::vector<double>(std::size_t(n), 1.0 / double(n)));
    Buffer<double> g1(ctx, n * d), g2(ctx, n * d);
    f->particle_gradient(ctx, x.view(), 1.0, PointsView<double>(g1.data(), n, d, g1.device()));
    mmd.witness_gradient(ctx, x.view(), w.data(), x.view(), w.data(), double(n),
                         PointsView<double>(g2.data(), n, d, g2.device()));
    const auto a = download(ctx, g1), b = download(ctx, g2);
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(b[i] == doctest::Approx(a[i]).epsilon(1e-12));
    // F of the functional = 1/2 MMD^2 of the weighted measure at uniform weights.
    CHECK(0.5 * mmd.mmd2(ctx, x.view(), w.data()) == doctest::Approx(f->value(ctx, x.view())).epsilon(1e-12));
  }
}

TEST_CASE("weight_step = none is the particle MMD flow bit for bit (Gaussian and Riesz kernels)") {
  for (const KernelKind kind : {KernelKind::gaussian, KernelKind::riesz}) {
    FlowConfig c;
    c.scheme = SchemeKind::particle;
    c.functional = FunctionalKind::mmd;
    c.kernel = kind;
    c.gamma = 0.05;
    c.tau = kind == KernelKind::gaussian ? 1.0 : 0.05;
    c.steps = 25;
    c.initial.kind = MeasureKind::gaussian;
    c.initial.points = {{5, 5}};
    c.initial.radius = 1;
    c.initial.n = 40;
    c.target.kind = MeasureKind::gaussian;
    c.target.cov = {1, 0.5, 0.5, 2};
    c.target.n = 30;
    c.plots = false;
    c.progress = false;
    RunOptions opt;
    opt.backend = BackendChoice::cpu;
    const RunResult particle = run_flow(c, opt);
    c.scheme = SchemeKind::ift;
    c.ift.weight_step = WeightStep::none;
    const RunResult ift = run_flow(c, opt);
    CHECK(ift.samples.data == particle.samples.data);
    // The metrics agree: F of the weighted measure at uniform weights.
    CHECK(ift.metrics.back().functional ==
          doctest::Approx(particle.metrics.back().functional).epsilon(1e-12));
    CHECK(ift.metrics.back().paper_step == 25);
    CHECK(ift.metrics.back().mass == doctest::Approx(1).epsilon(1e-14));
  }
}

TEST_CASE("QP solver: J(result) <= J(start); the KKT conditions at the solution") {
  const index_t n = 8;
  const auto X = random_vector(n * 2, 31, 1.0);
  std::vector<double> K(static_cast<std::size_t>(n * n));
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < n; ++j) {
      const double a = X[std::size_t(2 * i)] - X[std::size_t(2 * j)], b = X[std::size_t(2 * i + 1)] - X[std::size_t(2 * j + 1)];
      K[std::size_t(i * n + j)] = std::exp(-(a * a + b * b));
    }
  }
  const auto c = random_vector(n, 32, 1.0);
  const std::vector<double> start(std::size_t(n), 1.0 / double(n));
  const QpResult r = solve_weight_qp(K, 1.0, c, start, 20000, MassConstraint::simplex);
  // KKT: the gradient 2 K b - c is equal (= nu) on the support and >= nu off it.
  std::vector<double> grad(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    double s = 0;
    for (index_t j = 0; j < n; ++j) s += 2 * K[std::size_t(i * n + j)] * r.b[std::size_t(j)];
    grad[std::size_t(i)] = s - c[std::size_t(i)];
  }
  double nu = INFINITY;
  for (index_t i = 0; i < n; ++i) {
    if (r.b[std::size_t(i)] > 1e-6) nu = std::min(nu, grad[std::size_t(i)]);
  }
  for (index_t i = 0; i < n; ++i) {
    if (r.b[std::size_t(i)] > 1e-6) CHECK(grad[std::size_t(i)] == doctest::Approx(nu).epsilon(1e-4).scale(1));
    else CHECK(grad[std::size_t(i)] >= nu - 1e-4);
  }
}
