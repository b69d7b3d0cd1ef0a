// The schemes against the closed forms of Sect. 5 (interaction energy from delta_0), and the
// hand-derived gradients of the functionals against central finite differences.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/analytic/riesz_flow.hpp"
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/schemes.hpp"
#include "nwgf/schemes/variational/variational_scheme.hpp"
#include "tests/schemes/host_directional.hpp"

using namespace nwgf;

namespace {

// S_xy/(N M) - S_xx/(2 N (N-1)): the unbiased MMD^2 to y up to the y-only term, which is the
// same for every x compared against the same y.
double mmd2_to(const Context& ctx, const HostMatrix<double>& x, const HostMatrix<double>& y,
               double r) {
  const auto bx = upload(ctx, x.data), by = upload(ctx, y.data);
  const ConstPointsView<double> vx(bx.data(), x.rows, x.cols), vy(by.data(), y.rows, y.cols);
  const double n = double(x.rows), m = double(y.rows);
  return riesz_energy_value<double>(ctx, vx, nullptr, vy, nullptr, r) / (n * m) -
         riesz_energy_value<double>(ctx, vx, nullptr, vx, nullptr, r) / (2 * n * (n - 1));
}

// n samples of (scale Id)#eta*.
HostMatrix<double> exact_samples(index_t d, double r, double scale, index_t n, std::uint64_t seed) {
  HostMatrix<double> y;
  y.rows = n;
  y.cols = d;
  y.data.resize(std::size_t(n * d));
  sample_eta_star(int(d), r, scale, n, seed, 0, y.data.data());
  return y;
}

// Runs cfg and checks that its final samples are closer (MMD^2) to the exact flow than exact
// samples of the flow at 1.05 t, with a reference sample of 10 N points. The exact flow is
// gamma(t) = (f(t) Id)#eta* for the forward scheme (Thm 5.4, r = 1) and the particle flow; for
// the backward scheme it is the JKO iterate (t_{tau,n}^{1/(2-r)} Id)#eta* of Thm 5.2, which for
// r != 1 and tau = 0.05 lies far from gamma(t) (f_tau > f for r > 1), and "1.05 t" then means
// the same relative dilation, f(1.05 t) / f(t) = 1.05^{1/(2-r)}.
void check_against_limit_curve(const FlowConfig& cfg) {
  RunOptions opt;
  opt.backend = BackendChoice::cpu;
  opt.threads = 1;
  opt.progress = false;
  const RunResult res = run_flow(cfg, opt);
  const index_t n = res.samples.rows, d = res.samples.cols;
  const Context ctx(Device::cpu, 1);
  const double scale = cfg.scheme == SchemeKind::backward ? jko_scale(cfg.r, cfg.tau, int(res.steps))
                                                : limit_scale(cfg.r, res.time);
  const double dilation = std::pow(1.05, 1 / (2 - cfg.r));
  const auto reference = exact_samples(d, cfg.r, scale, 10 * n, 1001);
  const auto dilated = exact_samples(d, cfg.r, dilation * scale, n, 1002);
  const double scheme = mmd2_to(ctx, res.samples, reference, cfg.r);
  const double baseline = mmd2_to(ctx, dilated, reference, cfg.r);
  const double exact = mmd2_to(ctx, exact_samples(d, cfg.r, scale, n, 1003), reference, cfg.r);
  MESSAGE(to_text(cfg.scheme) << " r=" << cfg.r << " d=" << d << " t=" << res.time
                     << ": MMD^2 (up to a shared constant) scheme " << scheme
                     << ", exact samples at 1.05 t " << baseline << ", at t " << exact);
  CHECK(scheme < baseline);
  // The last metrics row carries the run's own estimate against gamma(t).
  REQUIRE(!res.metrics.empty());
  CHECK(std::isfinite(res.metrics.back().mmd2_analytic));
}

FlowConfig dirac_config(const std::string& scheme, double r, index_t d, index_t n) {
  FlowConfig c;
  c.seed = 5;
  c.scheme = enum_from_text<SchemeKind>(scheme, "scheme");
  c.functional = FunctionalKind::interaction;
  c.r = r;
  c.tau = 0.05;
  c.steps = 4;
  c.initial.kind = MeasureKind::dirac;
  c.initial.n = n;
  c.initial.d = d;
  c.hidden = {64, 64};
  c.batch = 500;
  c.iterations_first = 1000;
  c.iterations = 200;
  c.lr = 1e-3;
  c.reference = n;
  return c;
}

// Central differences of f along every coordinate of x (double).
template <class F>
std::vector<double> numeric_gradient(std::vector<double> x, F f, double h = 1e-6) {
  std::vector<double> g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double fp = f(x);
    x[i] = x0 - h;
    const double fm = f(x);
    x[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

std::vector<double> random_points(index_t n, index_t d, std::uint64_t stream) {
  std::vector<double> x(std::size_t(n * d));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = philox_normal<double>(77, stream, i);
  return x;
}

FlowConfig mmd_config(double r) {
  FlowConfig c;
  c.functional = FunctionalKind::mmd;
  c.r = r;
  c.steps = 1;
  c.initial.d = 3;
  c.target.kind = MeasureKind::gaussian;
  c.target.n = 7;
  c.target.d = 3;
  c.target.radius = 1;
  return c;
}

}  // namespace

TEST_CASE("functional: batch gradient, directional derivative and particle gradient vs FD") {
  const Context ctx(Device::cpu, 1);
  for (int variant = 0; variant < 5; ++variant) {
    const double r = variant < 3 ? std::vector<double>{0.7, 1.0, 1.5}[std::size_t(variant)]
                                 : (variant == 3 ? 1.0 : 1.5);
    FlowConfig cfg = mmd_config(r);
    index_t d = 3;
    std::vector<HostMatrix<double>> targets{sample_measure(cfg.target, 3, 3, "target")};
    if (variant >= 3) {  // energy (33) of App. H
      cfg.functional = FunctionalKind::energy33;
      d = 2;
      targets.clear();
    }
    CAPTURE(to_text(cfg.functional));
    CAPTURE(r);
    auto f = make_functional<double>(ctx, cfg, d, 12, targets);
    const index_t rows = 8;
    const std::vector<double> y = random_points(rows, d, 1), v = random_points(rows, d, 2);
    auto value = [&](const std::vector<double>& p) {
      return f->batch_value(ctx, ConstPointsView<double>(p.data(), rows, d), 1.0,
                            PointsView<double>());
    };
    // dF^/dy.
    std::vector<double> g(y.size());
    // The value from the gradient pass (Euler's identity for the Riesz sums) is the value.
    CHECK(f->batch_value(ctx, ConstPointsView<double>(y.data(), rows, d), 2.0,
                         PointsView<double>(g.data(), rows, d)) ==
          doctest::Approx(value(y)).epsilon(1e-12));
    const auto gn = numeric_gradient(y, value);
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == doctest::Approx(2 * gn[i]).epsilon(1e-5));
    // D_v F^ = d/dt F^(y + t v) and its gradient in v.
    std::vector<double> gv(v.size());
    const double dv = f->batch_directional(ctx, ConstPointsView<double>(y.data(), rows, d),
                                           ConstPointsView<double>(v.data(), rows, d), 1.0,
                                           PointsView<double>(gv.data(), rows, d));
    const double h = 1e-6;
    std::vector<double> yp = y, ym = y;
    for (std::size_t i = 0; i < y.size(); ++i) yp[i] += h * v[i], ym[i] -= h * v[i];
    CHECK(dv == doctest::Approx((value(yp) - value(ym)) / (2 * h)).epsilon(1e-5));
    auto directional = [&](const std::vector<double>& w) {
      return f->batch_directional(ctx, ConstPointsView<double>(y.data(), rows, d),
                                  ConstPointsView<double>(w.data(), rows, d), 1.0,
                                  PointsView<double>());
    };
    const auto gvn = numeric_gradient(v, directional);
    for (std::size_t i = 0; i < gv.size(); ++i) CHECK(gv[i] == doctest::Approx(gvn[i]).epsilon(1e-5));
    // M ∇F_M(x) of the particle flow against FD of F(mu_M).
    auto full = [&](const std::vector<double>& p) {
      return f->value(ctx, ConstPointsView<double>(p.data(), rows, d));
    };
    std::vector<double> gp(y.size());
    f->particle_gradient(ctx, ConstPointsView<double>(y.data(), rows, d), 1.0,
                         PointsView<double>(gp.data(), rows, d));
    const auto gpn = numeric_gradient(y, full);
    for (std::size_t i = 0; i < gp.size(); ++i) {
      CHECK(gp[i] == doctest::Approx(double(rows) * gpn[i]).epsilon(1e-5));
    }
  }
}

TEST_CASE("functional: MMD value equals the V-statistic D_K^2 and vanishes at the target") {
  const Context ctx(Device::cpu, 1);
  const FlowConfig cfg = mmd_config(1.0);
  const auto target = sample_measure(cfg.target, 3, 3, "target");
  auto f = make_functional<double>(ctx, cfg, 3, 16, {target});
  CHECK(std::fabs(f->value(ctx, ConstPointsView<double>(target.data.data(), 7, 3))) < 1e-12);
  const auto x = random_points(5, 3, 9);
  const double v = f->value(ctx, ConstPointsView<double>(x.data(), 5, 3));
  const double direct =
      mmd2<double>(ctx, ConstPointsView<double>(x.data(), 5, 3),
                   ConstPointsView<double>(target.data.data(), 7, 3), 1.0);
  CHECK(v == doctest::Approx(direct).epsilon(1e-12));
}

TEST_CASE("functional: the sliced estimator matches the exact one on average (r = 1)") {
  const Context ctx(Device::cpu, 1);
  FlowConfig cfg = mmd_config(1.0);
  cfg.estimator = Estimator::sliced;
  cfg.directions = 4096;
  const auto target = sample_measure(cfg.target, 3, 3, "target");
  auto sliced = make_functional<double>(ctx, cfg, 3, 200, {target});
  cfg.estimator = Estimator::exact;
  auto exact = make_functional<double>(ctx, cfg, 3, 200, {target});
  const auto x = random_points(200, 3, 4);
  sliced->draw(ctx, 1, 2, 3);
  const double a = sliced->value(ctx, ConstPointsView<double>(x.data(), 200, 3));
  const double b = exact->value(ctx, ConstPointsView<double>(x.data(), 200, 3));
  CHECK(a == doctest::Approx(b).epsilon(1e-12));  // value() is always exact
  const double sa = sliced->batch_value(ctx, ConstPointsView<double>(x.data(), 200, 3), 1.0,
                                        PointsView<double>());
  const double sb = exact->batch_value(ctx, ConstPointsView<double>(x.data(), 200, 3), 1.0,
                                       PointsView<double>());
  CHECK(sa == doctest::Approx(sb).epsilon(0.02));
  // Sliced directional derivative = <sliced gradient, v>, close to the exact one.
  const auto v = random_points(200, 3, 5);
  const double da = sliced->batch_directional(ctx, ConstPointsView<double>(x.data(), 200, 3),
                                              ConstPointsView<double>(v.data(), 200, 3), 1.0,
                                              PointsView<double>());
  const double db = exact->batch_directional(ctx, ConstPointsView<double>(x.data(), 200, 3),
                                             ConstPointsView<double>(v.data(), 200, 3), 1.0,
                                             PointsView<double>());
  CHECK(da == doctest::Approx(db).epsilon(0.05));
}

TEST_CASE("measures: kinds, sizes and atoms") {
  MeasureConfig m;
  m.kind = MeasureKind::circle;
  m.n = 100;
  m.d = 3;
  m.radius = 2;
  m.points = {{1, 0, 0}};
  const auto c = sample_measure(m, 1, 1, "initial");
  for (index_t i = 0; i < m.n; ++i) {
    const double dx = c.data[std::size_t(3 * i)] - 1, dy = c.data[std::size_t(3 * i + 1)],
                 dz = c.data[std::size_t(3 * i + 2)];
    CHECK(std::sqrt(dx * dx + dy * dy + dz * dz) == doctest::Approx(2));
  }
  CHECK_FALSE(has_atoms(c));
  m.kind = MeasureKind::diracs;
  m.points = {{1, 0, 0}, {0, 1, 0}};
  const auto a = sample_measure(m, 1, 1, "initial");
  CHECK(has_atoms(a));
  CHECK(a.data[0] == 1);
  CHECK(a.data[std::size_t(3 * 99 + 1)] == 1);
  m.kind = MeasureKind::uniform;
  m.low = -1;
  m.high = 3;
  const auto u = sample_measure(m, 1, 1, "initial");
  for (double v : u.data) CHECK((v > -1 && v < 3));
}

TEST_CASE("validation: forward scheme, r = 1, d = 2") {
  check_against_limit_curve(dirac_config("forward", 1.0, 2, 1000));
}

TEST_CASE("validation: backward scheme, r = 1, d = 2") {
  check_against_limit_curve(dirac_config("backward", 1.0, 2, 1000));
}

TEST_CASE("validation: backward scheme, r = 1.5, d = 2") {
  check_against_limit_curve(dirac_config("backward", 1.5, 2, 1000));
}

TEST_CASE("validation: particle flow, r = 1, d = 10") {
  FlowConfig c = dirac_config("particle", 1.0, 10, 1000);
  c.initial.kind = MeasureKind::square;
  c.initial.radius = 1e-9;
  check_against_limit_curve(c);
}

TEST_CASE("backward scheme: iterate() and iterate_on_device() + loss() agree bit for bit") {
  // The deferred loss (the sums read after the iteration) is the loss iterate() returns, and
  // the training is the same: Riesz exact and sliced, the Gaussian kernel, energy (33).
  for (int variant = 0; variant < 4; ++variant) {
    CAPTURE(variant);
    const Context ctx(Device::cpu, 2);
    const index_t n = 64, d = 2;
    FlowConfig cfg;
    cfg.scheme = SchemeKind::backward;
    cfg.functional = variant == 3 ? FunctionalKind::energy33 : FunctionalKind::mmd;
    cfg.estimator = variant == 1 ? Estimator::sliced : Estimator::exact;
    if (variant == 2) {
      cfg.kernel = KernelKind::gaussian;
      cfg.gamma = 0.5;
    }
    cfg.directions = 8;
    cfg.seed = 5;
    cfg.batch = 16;
    cfg.hidden = {16, 16};
    std::vector<double> x0(std::size_t(n * d)), y(std::size_t(7 * d));
    for (std::size_t i = 0; i < x0.size(); ++i) x0[i] = philox_normal<double>(4, 1, i);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = 0.5 + 0.7 * philox_normal<double>(4, 2, i);
    HostMatrix<double> target;
    target.rows = 7;
    target.cols = d;
    target.data = y;
    const std::vector<WeightedPoints> targets{{target, {}}};
    auto f1 = make_functional<double>(ctx, cfg, d, n, targets);
    auto f2 = make_functional<double>(ctx, cfg, d, n, targets);
    auto s1 = make_scheme<double>(ctx, cfg, *f1, n, d);
    auto s2 = make_scheme<double>(ctx, cfg, *f2, n, d);
    Points<double> x1(ctx, n, d), x2(ctx, n, d);
    copy_from_host(ctx, x1.buffer(), x0.data(), n * d);
    copy_from_host(ctx, x2.buffer(), x0.data(), n * d);
    for (index_t it = 0; it < 3; ++it) {
      const double a = s1->iterate(ctx, x1, 1, it, 0.1);
      s2->iterate_on_device(ctx, x2, 1, it, 0.1);
      const double b = s2->loss(ctx);
      CHECK(std::isfinite(a));
      CHECK(std::memcmp(&a, &b, sizeof a) == 0);
    }
    CHECK(s1->state(ctx) == s2->state(ctx));
  }
}

namespace {

// The forward scheme on n samples in R^2 toward seven Diracs (mmd): its loss with D left on the
// device against the host path (test::HostDirectional), iterate() and iterate_on_device() +
// loss(), losses and network states bit for bit. Where `atoms`, the samples sit on two points, so
// the batches have coincident pairs.
template <class T>
void check_forward_loss_paths(const Context& ctx, FlowConfig cfg, bool atoms = false,
                              index_t n = 64, index_t batch = 16) {
  const index_t d = 2;
  cfg.scheme = SchemeKind::forward;
  cfg.functional = FunctionalKind::mmd;
  cfg.directions = 8;
  cfg.seed = 5;
  cfg.batch = batch;
  cfg.hidden = {16, 16};
  std::vector<double> x0(std::size_t(n * d)), y(std::size_t(7 * d));
  for (std::size_t i = 0; i < x0.size(); ++i) {
    x0[i] = atoms ? double(i / 2 % 2) : philox_normal<double>(4, 1, i);
  }
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = 0.5 + 0.7 * philox_normal<double>(4, 2, i);
  HostMatrix<double> target;
  target.rows = 7;
  target.cols = d;
  target.data = y;
  const std::vector<WeightedPoints> targets{{target, {}}};
  auto f_device = make_functional<T>(ctx, cfg, d, n, targets);
  auto f_deferred = make_functional<T>(ctx, cfg, d, n, targets);
  auto f_host = make_functional<T>(ctx, cfg, d, n, targets);
  test::HostDirectional<T> host(*f_host);
  auto s_device = make_scheme<T>(ctx, cfg, *f_device, n, d);
  auto s_deferred = make_scheme<T>(ctx, cfg, *f_deferred, n, d);
  auto s_host = make_scheme<T>(ctx, cfg, host, n, d);
  const std::vector<T> start(x0.begin(), x0.end());
  Points<T> x1(ctx, n, d), x2(ctx, n, d), x3(ctx, n, d);
  for (Points<T>* x : {&x1, &x2, &x3}) copy_from_host(ctx, x->buffer(), start.data(), n * d);
  if (atoms) {
    // r < 1: the host path refuses the coincident pairs inside batch_directional; the device
    // path once its loss is read, with the same error.
    std::string want, got_iterate, got_loss;
    auto message = [](auto&& f) {
      try {
        f();
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return std::string();
    };
    want = message([&] { s_host->iterate(ctx, x1, 1, 0, 0.1); });
    got_iterate = message([&] { s_device->iterate(ctx, x2, 1, 0, 0.1); });
    s_deferred->iterate_on_device(ctx, x3, 1, 0, 0.1);  // nothing refused yet
    got_loss = message([&] { (void)s_deferred->loss(ctx); });
    CHECK(want.find("coincident sample pairs") != std::string::npos);
    CHECK(got_iterate == want);
    CHECK(got_loss == want);
    return;
  }
  for (index_t it = 0; it < 3; ++it) {
    const double a = s_host->iterate(ctx, x1, 1, it, 0.1);
    const double b = s_device->iterate(ctx, x2, 1, it, 0.1);
    s_deferred->iterate_on_device(ctx, x3, 1, it, 0.1);
    const double c = s_deferred->loss(ctx);
    CHECK(std::isfinite(a));
    CHECK(a != 0);
    CHECK(std::memcmp(&a, &b, sizeof a) == 0);
    CHECK(std::memcmp(&a, &c, sizeof a) == 0);
  }
  CHECK(s_device->state(ctx) == s_host->state(ctx));
  CHECK(s_deferred->state(ctx) == s_host->state(ctx));
}

}  // namespace

TEST_CASE_TEMPLATE("forward scheme: the loss left on the device is the host path's, bit for bit", T,
                   float, double) {
  const Context ctx(Device::cpu, 2);
  FlowConfig cfg;
  SUBCASE("exact, r = 1") { check_forward_loss_paths<T>(ctx, cfg); }
  SUBCASE("exact, r = 0.5 (no sample drawn twice: batches of 2 x 4 rows of 2000)") {
    cfg.r = 0.5;
    check_forward_loss_paths<T>(ctx, cfg, false, 2000, 4);
  }
  SUBCASE("sliced") {
    cfg.estimator = Estimator::sliced;
    check_forward_loss_paths<T>(ctx, cfg);
  }
  SUBCASE("exact, r = 0.5, coincident batch pairs: refused as before") {
    cfg.r = 0.5;
    check_forward_loss_paths<T>(ctx, cfg, true);
  }
}

TEST_CASE("variational scheme: iterate() and iterate_on_device() + loss() agree bit for bit") {
  // The row sums' partials read after the iteration give the loss iterate() returns; with the
  // batch interaction term (read back inside the iteration) as well.
  const std::string head = R"(
seed = 3
[flow]
scheme = "variational"
tau = 0.05
steps = 2
[initial]
kind = "gaussian"
n = 200
d = 2
radius = 1.0
[target]
kind = "gaussian"
points = [[1.0, -0.5]]
radius = 0.8
[network]
hidden = [16]
[train]
iterations = 2
batch = 64
[output]
progress = false
[functional]
kind = "sum"
[[functional.terms]]
kind = "kl"
weight = 1.0
[[functional.terms]]
kind = "potential"
weight = 0.5
)";
  for (const bool interaction : {false, true}) {
    CAPTURE(interaction);
    const std::string extra = interaction ? R"([[functional.terms]]
kind = "interaction"
kernel = "riesz"
r = 1.0
weight = 0.5
)"
                                          : "";
    const FlowConfig cfg = parse_flow_config(head + extra, "variational.toml");
    const Context ctx(Device::cpu, 2);
    const index_t n = cfg.initial.n, d = cfg.initial.d;
    std::vector<double> x0(std::size_t(n * d));
    for (std::size_t i = 0; i < x0.size(); ++i) x0[i] = philox_normal<double>(8, 1, i);
    auto s1 = make_variational_scheme<double>(ctx, cfg, n, d);
    auto s2 = make_variational_scheme<double>(ctx, cfg, n, d);
    Points<double> x1(ctx, n, d), x2(ctx, n, d);
    copy_from_host(ctx, x1.buffer(), x0.data(), n * d);
    copy_from_host(ctx, x2.buffer(), x0.data(), n * d);
    for (index_t it = 0; it < 3; ++it) {
      const double a = s1->iterate(ctx, x1, 1, it, cfg.tau);
      s2->iterate_on_device(ctx, x2, 1, it, cfg.tau);
      const double b = s2->loss(ctx);
      CHECK(std::isfinite(a));
      CHECK(std::memcmp(&a, &b, sizeof a) == 0);
    }
    CHECK(s1->state(ctx) == s2->state(ctx));
  }
}
