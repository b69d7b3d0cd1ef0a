// CUDA graphs of a scheme's iteration (particle, backward, forward, ift, variational): one
// iteration captured (nothing runs during the capture), replayed twice, bit for bit the two eager
// iterations it stands for (the same kernels in the same order). Work that cannot be captured (a download) fails the capture with a reason and
// leaves the context usable. Skipped (exit 77) where no CUDA device is usable.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/cuda_graph.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/adam.hpp"
#include "nwgf/nn/mlp.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/ift/target_draw.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/schemes.hpp"
#include "nwgf/schemes/variational/variational_scheme.hpp"
#include "tests/cuda/device_compare.hpp"
#include "tests/schemes/host_directional.hpp"

using namespace nwgf;

namespace {

HostMatrix<double> matrix(const std::vector<double>& v, index_t d) {
  HostMatrix<double> m;
  m.data = v;
  m.cols = d;
  m.rows = index_t(v.size()) / d;
  return m;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(T) * a.size()) == 0;
}

// The particle flows of cfg on n samples in R^d (a diracs target where the functional has one).
template <class T>
void check_particle_graph(FlowConfig cfg, index_t n, index_t d) {
  const Context ctx(Device::cuda, 2);
  cfg.scheme = SchemeKind::particle;
  cfg.seed = 11;
  std::vector<double> x0(std::size_t(n * d)), y(std::size_t(7 * d));
  rng_normal<double>(Context(Device::cpu, 1), 3, 1, 0, x0.data(), index_t(x0.size()));
  rng_normal<double>(Context(Device::cpu, 1), 3, 2, 0, y.data(), index_t(y.size()), 0.5, 0.7);
  std::vector<WeightedPoints> targets;
  if (cfg.functional == FunctionalKind::mmd) targets.push_back({matrix(y, d), {}});
  const auto f = make_functional<T>(ctx, cfg, d, n, targets);
  const auto scheme = make_scheme<T>(ctx, cfg, *f, n, d);
  const std::vector<T> start(x0.begin(), x0.end());
  auto points = [&] {
    Points<T> p(ctx, n, d);
    copy_from_host(ctx, p.buffer(), start.data(), n * d);
    return p;
  };
  const double tau = 0.05;
  // Warm-up: the pairwise workspaces grow on their first use, outside the capture.
  Points<T> warm = points();
  scheme->iterate(ctx, warm, 1, 0, tau);

  Points<T> eager = points();
  scheme->iterate(ctx, eager, 2, 0, tau);
  scheme->iterate(ctx, eager, 2, 0, tau);

  Points<T> x = points();
  CudaGraph graph(ctx, [&] { scheme->iterate(ctx, x, 2, 0, tau); });
  CHECK(same_bits(download(ctx, x.buffer()), start));  // captured, not run
  graph.replay(ctx);
  graph.replay(ctx);
  ctx.synchronize();
  const std::vector<T> got = download(ctx, x.buffer()), want = download(ctx, eager.buffer());
  CHECK(same_bits(got, want));
  CHECK(!same_bits(got, start));
}

}  // namespace

TEST_CASE_TEMPLATE("particle scheme: a captured iteration replays bit for bit", T, float, double) {
  FlowConfig cfg;
  SUBCASE("interaction, Riesz r = 1") {
    cfg.functional = FunctionalKind::interaction;
    check_particle_graph<T>(cfg, 300, 2);
  }
  SUBCASE("mmd, Riesz r = 1.5, to seven Diracs") {
    cfg.functional = FunctionalKind::mmd;
    cfg.r = 1.5;
    check_particle_graph<T>(cfg, 300, 3);
  }
  SUBCASE("mmd, sliced (fresh directions per step, CUB sorts)") {
    cfg.functional = FunctionalKind::mmd;
    cfg.estimator = Estimator::sliced;
    cfg.directions = 8;
    check_particle_graph<T>(cfg, 200, 3);
  }
  SUBCASE("mmd, Gaussian kernel") {
    cfg.functional = FunctionalKind::mmd;
    cfg.kernel = KernelKind::gaussian;
    cfg.gamma = 0.5;
    check_particle_graph<T>(cfg, 200, 2);
  }
  SUBCASE("interaction kernel W (quartic - quadratic)") {
    cfg.functional = FunctionalKind::interaction;
    cfg.kernel = KernelKind::quartic_quadratic;
    check_particle_graph<T>(cfg, 200, 2);
  }
  SUBCASE("energy (33): a row pass, then the masked interaction") {
    cfg.functional = FunctionalKind::energy33;
    check_particle_graph<T>(cfg, 300, 2);
  }
  SUBCASE("potential of a Gaussian (a row pass)") {
    cfg.functional = FunctionalKind::potential;
    cfg.target.kind = MeasureKind::gaussian;
    cfg.target.d = 2;
    cfg.target.points = {{0.5, -0.25}};
    cfg.target.radius = 0.8;
    check_particle_graph<T>(cfg, 300, 2);
  }
  SUBCASE("sum: a potential plus a Riesz interaction (the second term through a scratch)") {
    cfg.functional = FunctionalKind::sum;
    FunctionalTerm potential, interaction;
    potential.kind = FunctionalKind::potential;
    potential.weight = 1;
    interaction.kind = FunctionalKind::interaction;
    interaction.weight = 0.5;
    interaction.r = 1.2;
    cfg.terms = {potential, interaction};
    cfg.target.kind = MeasureKind::gaussian;
    cfg.target.d = 2;
    cfg.target.radius = 0.8;
    check_particle_graph<T>(cfg, 300, 2);
  }
}

// A neural scheme (cfg.scheme: backward or forward; cfg.functional) on n samples in R^2 (toward
// seven Diracs where the functional has a target): a
// training iteration with its loss left on the device, captured, replayed twice, against two
// eager iterations (network state and loss bit for bit). The forward scheme's eager iterations
// are also checked against its host path (D, ||v|| and the loss on the host, as before they
// stayed on the device: test::HostDirectional).
// Two eager iterations of `eager` (iterate_on_device, iteration `it`) against one iteration of
// `captured` captured into a graph and replayed twice: the capture runs nothing, the replays give
// eager's scheme state and loss bit for bit. Returns eager's loss after its first iteration.
template <class T>
double check_device_replay(const Context& ctx, Scheme<T>& eager, Points<T>& eager_x,
                           Scheme<T>& captured, Points<T>& captured_x, index_t it, double tau) {
  REQUIRE(eager.state(ctx) == captured.state(ctx));
  eager.iterate_on_device(ctx, eager_x, 2, it, tau);
  const double first = eager.loss(ctx);
  eager.iterate_on_device(ctx, eager_x, 2, it, tau);
  const std::string before = captured.state(ctx);
  CudaGraph graph(ctx, [&] { captured.iterate_on_device(ctx, captured_x, 2, it, tau); });
  CHECK(captured.state(ctx) == before);  // captured, not run
  graph.replay(ctx);
  graph.replay(ctx);
  ctx.synchronize();
  CHECK(captured.state(ctx) == eager.state(ctx));
  CHECK(captured.state(ctx) != before);
  const double want = eager.loss(ctx), got = captured.loss(ctx);
  CHECK(std::isfinite(want));
  CHECK(std::memcmp(&want, &got, sizeof want) == 0);
  return first;
}

template <class T>
void check_neural_graph(FlowConfig cfg, index_t n = 64, index_t batch = 16) {
  const Context ctx(Device::cuda, 2);
  const index_t d = 2;
  cfg.seed = 5;
  cfg.batch = batch;
  cfg.hidden = {16, 16};
  cfg.iterations = 1;
  std::vector<double> x0(std::size_t(n * d)), y(std::size_t(7 * d));
  rng_normal<double>(Context(Device::cpu, 1), 4, 1, 0, x0.data(), index_t(x0.size()));
  rng_normal<double>(Context(Device::cpu, 1), 4, 2, 0, y.data(), index_t(y.size()), 0.5, 0.7);
  const std::vector<T> start(x0.begin(), x0.end());
  const std::vector<WeightedPoints> targets{{matrix(y, d), {}}};
  struct Run {
    std::unique_ptr<Functional<T>> f;
    std::unique_ptr<test::HostDirectional<T>> host;
    std::unique_ptr<Scheme<T>> scheme;
    Points<T> x;
  };
  const double tau = 0.1;
  auto make = [&](bool host_path) {
    Run r;
    r.f = make_functional<T>(ctx, cfg, d, n, targets);
    Functional<T>* f = r.f.get();
    if (host_path) {
      r.host = std::make_unique<test::HostDirectional<T>>(*r.f);
      f = r.host.get();
    }
    r.scheme = make_scheme<T>(ctx, cfg, *f, n, d);
    r.x = Points<T>(ctx, n, d);
    copy_from_host(ctx, r.x.buffer(), start.data(), n * d);
    r.scheme->step(ctx, r.x, 1, tau, {});  // standardises x; warms the workspaces up
    return r;
  };
  Run eager = make(false), captured = make(false);
  const double want1 =
      check_device_replay<T>(ctx, *eager.scheme, eager.x, *captured.scheme, captured.x, 0, tau);
  const double want = eager.scheme->loss(ctx);
  if (cfg.scheme == SchemeKind::forward) {
    Run host = make(true);
    const double h1 = host.scheme->iterate(ctx, host.x, 2, 0, tau);
    const double h2 = host.scheme->iterate(ctx, host.x, 2, 0, tau);
    CHECK(std::memcmp(&h1, &want1, sizeof h1) == 0);
    CHECK(std::memcmp(&h2, &want, sizeof h2) == 0);
    CHECK(host.scheme->state(ctx) == eager.scheme->state(ctx));
  }
}

TEST_CASE_TEMPLATE("backward scheme: a captured training iteration replays bit for bit", T, float,
                   double) {
  FlowConfig cfg;
  cfg.scheme = SchemeKind::backward;
  cfg.functional = FunctionalKind::mmd;
  SUBCASE("exact Riesz r = 1") { check_neural_graph<T>(cfg); }
  SUBCASE("sliced") {
    cfg.estimator = Estimator::sliced;
    cfg.directions = 8;
    check_neural_graph<T>(cfg);
  }
  SUBCASE("Gaussian kernel") {
    cfg.kernel = KernelKind::gaussian;
    cfg.gamma = 0.5;
    check_neural_graph<T>(cfg);
  }
  SUBCASE("energy (33): a row sum's partials and the masked interaction") {
    cfg.functional = FunctionalKind::energy33;
    check_neural_graph<T>(cfg);
  }
}

TEST_CASE_TEMPLATE("forward scheme: a captured training iteration replays bit for bit", T, float,
                   double) {
  // D, ||v||, the loss and its coefficients stay on the device (one thread's kernel); r < 1
  // counts the coincident pairs on the device too.
  FlowConfig cfg;
  cfg.scheme = SchemeKind::forward;
  cfg.functional = FunctionalKind::mmd;
  SUBCASE("exact Riesz r = 1") { check_neural_graph<T>(cfg); }
  SUBCASE("exact Riesz r = 0.5 (the coincident-pair count on the device; no such pair)") {
    // Batches of 2 x 4 rows of 2000 samples: no row is drawn twice in these iterations.
    cfg.r = 0.5;
    check_neural_graph<T>(cfg, 2000, 4);
  }
  SUBCASE("sliced") {
    cfg.estimator = Estimator::sliced;
    cfg.directions = 8;
    check_neural_graph<T>(cfg);
  }
  SUBCASE("energy (33): the row sum's partials (D = p / n + ce S) and the masked interaction") {
    cfg.functional = FunctionalKind::energy33;
    check_neural_graph<T>(cfg);
  }
}

TEST_CASE_TEMPLATE("forward scheme, r < 1: coincident pairs refused after the iteration, with the "
                   "host path's error", T, float, double) {
  // 32 batch rows drawn from 64 samples: some sample is drawn twice, a coincident pair, which
  // r < 1 refuses (exit 2). The host path refuses inside batch_directional; the device path
  // counts on the device and refuses when the loss is read: eagerly and after a replay alike.
  const Context ctx(Device::cuda, 2);
  const index_t n = 64, d = 2;
  FlowConfig cfg;
  cfg.scheme = SchemeKind::forward;
  cfg.functional = FunctionalKind::interaction;
  cfg.r = 0.5;
  cfg.seed = 5;
  cfg.batch = 16;
  cfg.hidden = {16, 16};
  std::vector<double> x0(std::size_t(n * d));
  rng_normal<double>(Context(Device::cpu, 1), 4, 1, 0, x0.data(), index_t(x0.size()));
  const std::vector<T> start(x0.begin(), x0.end());
  auto points = [&] {
    Points<T> p(ctx, n, d);
    copy_from_host(ctx, p.buffer(), start.data(), n * d);
    return p;
  };
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const auto f_host = make_functional<T>(ctx, cfg, d, n, std::vector<WeightedPoints>{});
  test::HostDirectional<T> host(*f_host);
  const auto f = make_functional<T>(ctx, cfg, d, n, std::vector<WeightedPoints>{});
  const auto s_host = make_scheme<T>(ctx, cfg, host, n, d);
  const auto s = make_scheme<T>(ctx, cfg, *f, n, d);
  Points<T> x_host = points(), x = points();
  const std::string want = message([&] { s_host->iterate(ctx, x_host, 1, 0, 0.1); });
  CHECK(want.find("coincident sample pairs") != std::string::npos);
  CHECK(message([&] { s->iterate(ctx, x, 1, 0, 0.1); }) == want);  // eager, workspaces grown
  CudaGraph graph(ctx, [&] { s->iterate_on_device(ctx, x, 1, 0, 0.1); });  // nothing checked
  graph.replay(ctx);
  CHECK(message([&] { (void)s->loss(ctx); }) == want);
}

// The ift scheme on n weighted particles in R^2 toward a Gaussian target sample: one iteration
// (position step, witness, the weight step on the device) captured, replayed twice, against two
// eager iterations: positions and weights bit for bit.
template <class T>
void check_ift_graph(FlowConfig cfg) {
  const Context ctx(Device::cuda, 2);
  const index_t n = 120, d = 2;
  cfg.scheme = SchemeKind::ift;
  cfg.functional = FunctionalKind::mmd;
  cfg.seed = 7;
  cfg.target.kind = MeasureKind::gaussian;
  cfg.target.n = 50;
  cfg.target.d = d;
  cfg.target.radius = 1.0;
  std::vector<double> x0(std::size_t(n * d));
  rng_normal<double>(Context(Device::cpu, 1), 6, 1, 0, x0.data(), index_t(x0.size()), 0.0, 0.5);
  const std::vector<T> start(x0.begin(), x0.end());
  const WeightedPoints target =
      target_measure(cfg.target, cfg.seed, random_stream(RandomPurpose::target, 0), "target", true);
  struct Run {
    std::unique_ptr<Functional<T>> f;
    std::unique_ptr<Scheme<T>> scheme;
    Points<T> x;
  };
  const double tau = 0.3;
  auto make = [&] {
    Run r;
    r.f = make_functional<T>(ctx, cfg, d, n, std::vector<WeightedPoints>{target});
    r.scheme = make_scheme<T>(ctx, cfg, *r.f, n, d);
    r.x = Points<T>(ctx, n, d);
    copy_from_host(ctx, r.x.buffer(), start.data(), n * d);
    // The first iteration leaves the uniform weights (the particle flow's shortcut) and keeps
    // the target term for the next position step; the workspaces grow.
    r.scheme->iterate(ctx, r.x, 1, 0, tau);
    return r;
  };
  Run eager = make(), captured = make();
  const std::vector<double> w_before = *captured.scheme->weights(ctx);
  REQUIRE(*eager.scheme->weights(ctx) == w_before);
  eager.scheme->iterate(ctx, eager.x, 2, 0, tau);
  eager.scheme->iterate(ctx, eager.x, 2, 0, tau);
  const std::vector<T> x_before = download(ctx, captured.x.buffer());
  CudaGraph graph(ctx, [&] { captured.scheme->iterate(ctx, captured.x, 2, 0, tau); });
  CHECK(same_bits(download(ctx, captured.x.buffer()), x_before));  // captured, not run
  graph.replay(ctx);
  graph.replay(ctx);
  ctx.synchronize();
  const std::vector<T> got = download(ctx, captured.x.buffer()),
                       want = download(ctx, eager.x.buffer());
  CHECK(same_bits(got, want));
  CHECK(!same_bits(got, x_before));
  const std::vector<double> w_got = *captured.scheme->weights(ctx),
                            w_want = *eager.scheme->weights(ctx);
  CHECK(same_bits(w_got, w_want));
  CHECK(!same_bits(w_got, w_before));
}

TEST_CASE_TEMPLATE("ift scheme: a captured iteration replays bit for bit", T, float, double) {
  FlowConfig cfg;
  SUBCASE("pgd on the simplex, Riesz r = 1") { check_ift_graph<T>(cfg); }
  SUBCASE("pgd on the nonnegative weights, unweighted position step, Gaussian kernel") {
    cfg.ift.mass = MassConstraint::nonnegative;
    cfg.ift.position_step = PositionStep::unweighted;
    cfg.kernel = KernelKind::gaussian;
    cfg.gamma = 0.5;
    check_ift_graph<T>(cfg);
  }
  SUBCASE("kl normalised by the sum") {
    cfg.ift.weight_step = WeightStep::kl;
    check_ift_graph<T>(cfg);
  }
  SUBCASE("kl projected, noisy position step (the noise drawn on the device)") {
    cfg.ift.weight_step = WeightStep::kl;
    cfg.ift.kl_normalise = KlNormalise::project;
    cfg.ift.noise = 0.1;
    check_ift_graph<T>(cfg);
  }
  SUBCASE("qp (the Gram matrix and the FISTA solve on the device), reference half") {
    cfg.ift.weight_step = WeightStep::qp;
    cfg.ift.qp_iterations = 5;
    check_ift_graph<T>(cfg);
  }
  SUBCASE("qp on the nonnegative weights, reference previous, Gaussian kernel") {
    cfg.ift.weight_step = WeightStep::qp;
    cfg.ift.qp_iterations = 5;
    cfg.ift.mass = MassConstraint::nonnegative;
    cfg.ift.qp_reference = QpReference::previous;
    cfg.kernel = KernelKind::gaussian;
    cfg.gamma = 0.5;
    check_ift_graph<T>(cfg);
  }
  SUBCASE("target_resample: a fresh Gaussian target sample drawn on the device") {
    cfg.ift.target_resample = true;
    check_ift_graph<T>(cfg);
  }
  SUBCASE("target_resample, kl, square target") {
    cfg.ift.target_resample = true;
    cfg.ift.weight_step = WeightStep::kl;
    cfg.target.kind = MeasureKind::square;
    check_ift_graph<T>(cfg);
  }
}

// The device draw of a resampled target (schemes/ift/target_draw.hpp) against the host's
// sample_measure of the same stream, rounded to T as the host's upload rounds it: the same bits
// for the uniform-based kinds; for the normal-based ones the same on the emulator (host libm),
// on a GPU within CUDA's double log/sincos (an ulp or two before the rounding to T).
TEST_CASE_TEMPLATE("ift target_resample: the device draw is the host's sample", T, float,
                   double) {
  const Context ctx(Device::cuda, 2);
  MeasureConfig m;
  m.n = 301;
  m.d = 3;
  m.radius = 0.7;
  bool normals = false;
  SUBCASE("gaussian, three centres, unequal weights") {
    m.kind = MeasureKind::gaussian;
    m.points = {{0, 0, 0}, {1, -2, 0.5}, {-1, 3, 2}};
    m.weights = {0.2, 0.5, 0.3};
    normals = true;
  }
  SUBCASE("circle around a point") {
    m.kind = MeasureKind::circle;
    m.points = {{0.5, 0.25, -1}};
    normals = true;
  }
  SUBCASE("square, two centres") {
    m.kind = MeasureKind::square;
    m.points = {{0, 0, 0}, {2, 2, 2}};
  }
  SUBCASE("uniform on [low, high)^d") {
    m.kind = MeasureKind::uniform;
    m.low = -1.5;
    m.high = 0.5;
  }
  REQUIRE(device_drawable(m));
  const std::uint64_t seed = 13, stream = random_stream(RandomPurpose::target, 4);
  const HostMatrix<double> host = sample_measure(m, seed, stream, "target");
  const std::vector<T> want(host.data.begin(), host.data.end());
  const TargetDraw draw(ctx, m, seed);
  Buffer<T> y(ctx, m.n * m.d);
  draw.draw<T>(ctx, stream, y.data());
  const std::vector<T> got = download(ctx, y);
#ifdef NWGF_CUDA_EMULATE
  const bool emulated = true;
#else
  const bool emulated = false;
#endif
  if (!normals || emulated) {
    CHECK(same_bits(got, want));
  } else {
    for (std::size_t e = 0; e < got.size(); ++e) {
      CHECK(std::fabs(double(got[e]) - double(want[e])) <=
            4 * std::numeric_limits<T>::epsilon() * (1 + std::fabs(double(want[e]))));
    }
  }
  MeasureConfig cov = m;
  cov.kind = MeasureKind::gaussian;
  cov.cov = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  CHECK(!device_drawable(cov));  // a full covariance keeps the host draw
}

// The qp weight step on the device (qp_device.hpp) against the host's (CPU backend): the same
// FISTA iterations, the sums in another order and the simplex projection by bisection and
// Michelot instead of the sort, so the weights agree to rounding.
TEST_CASE("ift scheme, qp weight step: the device solve agrees with the host's") {
  const index_t n = 40, d = 2;
  FlowConfig cfg;
  cfg.scheme = SchemeKind::ift;
  cfg.functional = FunctionalKind::mmd;
  cfg.ift.weight_step = WeightStep::qp;
  cfg.ift.qp_iterations = 8;
  cfg.target.kind = MeasureKind::gaussian;
  cfg.target.n = 20;
  cfg.target.d = d;
  std::vector<double> x0(std::size_t(n * d));
  rng_normal<double>(Context(Device::cpu, 1), 6, 1, 0, x0.data(), index_t(x0.size()));
  const WeightedPoints target = target_measure(cfg.target, 1, 2, "target", true);
  auto weights = [&](const Context& ctx) {
    const auto f = make_functional<double>(ctx, cfg, d, n, std::vector<WeightedPoints>{target});
    const auto scheme = make_scheme<double>(ctx, cfg, *f, n, d);
    Points<double> x(ctx, n, d);
    copy_from_host(ctx, x.buffer(), x0.data(), n * d);
    scheme->iterate(ctx, x, 1, 0, 0.3);
    scheme->iterate(ctx, x, 2, 0, 0.3);
    return *scheme->weights(ctx);
  };
  SUBCASE("simplex, reference half") {}
  SUBCASE("nonnegative, reference previous, Gaussian kernel") {
    cfg.ift.mass = MassConstraint::nonnegative;
    cfg.ift.qp_reference = QpReference::previous;
    cfg.kernel = KernelKind::gaussian;
    cfg.gamma = 0.5;
  }
  const std::vector<double> host = weights(Context(Device::cpu, 1));
  const std::vector<double> dev = weights(Context(Device::cuda, 2));
  REQUIRE(host.size() == dev.size());
  double sum = 0;
  for (std::size_t i = 0; i < host.size(); ++i) {
    CHECK(std::fabs(host[i] - dev[i]) <= 1e-10);
    sum += dev[i];
  }
  CHECK(sum > 0);
  CHECK(dev != std::vector<double>(std::size_t(n), 1.0 / double(n)));  // the step moved them
}

// The variational scheme of a config: after a step and one eager iteration (Gamma fitted on the
// host, the workspaces grown), a training iteration (the critic's ascent steps, the map's
// descent step; their row sums' partials on the device) captured, replayed twice, against two
// eager iterations: map and critic states and the loss bit for bit.
template <class T>
void check_variational_graph(const std::string& toml) {
  const Context ctx(Device::cuda, 2);
  const FlowConfig cfg = parse_flow_config(toml, "graph.toml");
  const index_t n = cfg.initial.n, d = cfg.initial.d;
  std::vector<double> x0(std::size_t(n * d));
  rng_normal<double>(Context(Device::cpu, 1), 8, 1, 0, x0.data(), index_t(x0.size()));
  const std::vector<T> start(x0.begin(), x0.end());
  struct Run {
    std::unique_ptr<Scheme<T>> scheme;
    Points<T> x;
  };
  const double tau = cfg.tau;
  auto make = [&] {
    Run r;
    r.scheme = make_variational_scheme<T>(ctx, cfg, n, d);
    r.x = Points<T>(ctx, n, d);
    copy_from_host(ctx, r.x.buffer(), start.data(), n * d);
    r.scheme->step(ctx, r.x, 1, tau, {});
    r.scheme->iterate_on_device(ctx, r.x, 2, 0, tau);
    return r;
  };
  Run eager = make(), captured = make();
  (void)check_device_replay<T>(ctx, *eager.scheme, eager.x, *captured.scheme, captured.x, 1, tau);
}

TEST_CASE_TEMPLATE("variational scheme: a captured training iteration replays bit for bit", T,
                   float, double) {
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
)";
  SUBCASE("KL (Prop. 1): critic and map") {
    check_variational_graph<T>(head + "[functional]\nkind = \"kl\"\n");
  }
  SUBCASE("interaction kernel W, fb = false (the batch U-statistic's pair sum on the device)") {
    check_variational_graph<T>(head + R"([functional]
kind = "interaction"
kernel = "quartic_quadratic"
)");
  }
  SUBCASE("sum: a potential plus two interaction kernels W (fb = false)") {
    check_variational_graph<T>(head + R"([functional]
kind = "sum"
[[functional.terms]]
kind = "potential"
weight = 1.0
[[functional.terms]]
kind = "interaction"
kernel = "gaussian_attraction"
weight = 0.5
[[functional.terms]]
kind = "interaction"
kernel = "riesz"
r = 1.5
weight = 0.25
)");
  }
  SUBCASE("KL with an ICNN map (T = grad phi, its double backprop, the convex clamp)") {
    // Pretrained to the identity in make()'s step, before the capture.
    std::string text = head;
    const std::string net = "[network]\nhidden = [16]\n";
    text.replace(text.find(net), net.size(),
                 "[network]\nkind = \"icnn\"\nhidden = [8, 8]\nrank = 2\npretrain_iterations = 5\n");
    check_variational_graph<T>(text + "[functional]\nkind = \"kl\"\n");
  }
  SUBCASE("entropy plus a potential (two row sums)") {
    check_variational_graph<T>(head + R"([functional]
kind = "sum"
[[functional.terms]]
kind = "entropy"
m = 2.0
weight = 0.5
[[functional.terms]]
kind = "potential"
weight = 1.0
)");
  }
}

TEST_CASE_TEMPLATE("network training: forward, backward and Adam replay bit for bit", T, float,
                   double) {
  // The network's part of a neural iteration: a PReLU MLP with dropout (the draw a kernel
  // argument), cuBLAS GEMMs, and Adam with its step counter on the device (bias corrections
  // advance on every replay).
  const Context ctx(Device::cuda, 2);
  const index_t batch = 40, din = 3, dout = 2;
  const MlpOptions options{Activation::prelu, false, 0.25, 0.2};
  Buffer<T> in(ctx, batch * din), dy(ctx, batch * dout), out(ctx, batch * dout);
  rng_normal<T>(ctx, 5, 1, 0, in.data(), batch * din);
  rng_normal<T>(ctx, 5, 2, 0, dy.data(), batch * dout);
  const DropoutDraw draw{5, 3, 0};
  struct Net {
    Mlp<T> mlp;
    Adam<T> adam;
    Net(const Context& c, const MlpOptions& o)
        : mlp(c, {3, 16, 16, 2}, 40, o), adam(c, mlp.num_params()) {
      mlp.init(c, 9, 1);
    }
  };
  auto train = [&](Net& net) {
    net.mlp.forward(ctx, ConstPointsView<T>(in.data(), batch, din, in.device()),
                    PointsView<T>(out.data(), batch, dout, out.device()), &draw);
    net.mlp.backward(ctx, ConstPointsView<T>(dy.data(), batch, dout, dy.device()), PointsView<T>(),
                     false);
    net.adam.step(ctx, net.mlp.params(), net.mlp.grads(), 1e-2);
  };
  Net eager(ctx, options), captured(ctx, options);
  train(eager);
  train(eager);
  auto params = [&](const Net& net) {
    return test::to_host(ctx, net.mlp.params(), net.mlp.num_params());
  };
  const std::vector<T> start = params(captured);
  CudaGraph graph(ctx, [&] { train(captured); });
  CHECK(same_bits(params(captured), start));
  graph.replay(ctx);
  graph.replay(ctx);
  ctx.synchronize();
  CHECK(same_bits(params(captured), params(eager)));
  CHECK(captured.adam.device_steps(ctx) == 2);
}

TEST_CASE("a download inside a capture fails it with the reason; the context still works") {
  const Context ctx(Device::cuda, 2);
  Buffer<double> b(ctx, 4);
  fill_zero(ctx, b);
  std::string why;
  try {
    CudaGraph graph(ctx, [&] { (void)download(ctx, b); });
    FAIL("the capture did not fail");
  } catch (const Error& e) {
    why = e.what();
  }
  CHECK(why.find("CUDA") != std::string::npos);
  CHECK(download(ctx, b) == std::vector<double>(4, 0.0));
}
