// Target measures: the new measure kinds, weighted atoms in the functionals, the image
// recipe against an independent 2-D convolution, and the analytic references of the line flow
// (App. G, moved and dilated) and of the barycenter (App. H, Ex. 4).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "nwgf/analytic/line_flow.hpp"
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/viz/png.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/run/reference.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/measures.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {

double at(const HostMatrix<double>& x, index_t i, index_t j) {
  return x.data[std::size_t(i * x.cols + j)];
}

// D_K^2 as a V-statistic with weights, by a plain loop (the contract's convention).
double mmd2_naive(const HostMatrix<double>& x, const HostMatrix<double>& y,
                  const std::vector<double>& wy, double r) {
  auto dist = [&](const HostMatrix<double>& a, index_t i, const HostMatrix<double>& b, index_t j) {
    double s = 0;
    for (index_t k = 0; k < a.cols; ++k) s += (at(a, i, k) - at(b, j, k)) * (at(a, i, k) - at(b, j, k));
    return std::pow(std::sqrt(s), r);
  };
  const double n = double(x.rows);
  double sxy = 0, sxx = 0, syy = 0;
  for (index_t i = 0; i < x.rows; ++i) {
    for (index_t j = 0; j < y.rows; ++j) sxy += wy[std::size_t(j)] * dist(x, i, y, j) / n;
    for (index_t j = 0; j < x.rows; ++j) sxx += dist(x, i, x, j) / (n * n);
  }
  for (index_t i = 0; i < y.rows; ++i) {
    for (index_t j = 0; j < y.rows; ++j) syy += wy[std::size_t(i)] * wy[std::size_t(j)] * dist(y, i, y, j);
  }
  return sxy - 0.5 * sxx - 0.5 * syy;
}

}  // namespace

TEST_CASE("square_boundary: on the cube's boundary, faces equally likely, uniform on each") {
  MeasureConfig m;
  m.kind = MeasureKind::square_boundary;
  m.d = 3;
  m.n = 60000;
  m.radius = 2;
  m.points = {{1, -1, 0.5}};
  const auto x = sample_measure(m, 7, 3, "target");
  std::vector<int> faces(6, 0);
  double mean_off = 0;
  for (index_t i = 0; i < x.rows; ++i) {
    int on = 0;
    for (index_t j = 0; j < 3; ++j) {
      const double v = (at(x, i, j) - m.points[0][std::size_t(j)]) / m.radius;
      CHECK(std::fabs(v) <= 1 + 1e-12);
      if (std::fabs(std::fabs(v) - 1) < 1e-12) {
        ++on;
        ++faces[std::size_t(2 * j + (v > 0 ? 0 : 1))];
      } else {
        mean_off += v * v;
      }
    }
    CHECK(on == 1);
  }
  // Each face has probability 1/6 (6 sigma band); off-face coordinates are U(-1, 1): E v^2 = 1/3.
  const double sd = std::sqrt(60000.0 * (1.0 / 6) * (5.0 / 6));
  for (int f : faces) CHECK(std::fabs(f - 10000.0) < 6 * sd);
  CHECK(mean_off / (2 * 60000.0) == doctest::Approx(1.0 / 3).epsilon(0.02));
}

TEST_CASE("diracs with weights: the initial samples split in proportion to the masses") {
  MeasureConfig m;
  m.kind = MeasureKind::diracs;
  m.d = 2;
  m.n = 1000;
  m.points = {{0, 0}, {1, 0}, {0, 1}};
  m.weights = {1, 2, 7};
  const auto x = sample_measure(m, 1, 1, "initial");
  std::vector<int> count(3, 0);
  for (index_t i = 0; i < x.rows; ++i) {
    for (int k = 0; k < 3; ++k) {
      if (at(x, i, 0) == m.points[std::size_t(k)][0] && at(x, i, 1) == m.points[std::size_t(k)][1]) {
        ++count[std::size_t(k)];
      }
    }
  }
  CHECK(count == std::vector<int>{100, 200, 700});
  // As a target with exact estimators the atoms are kept with normalised masses.
  const auto t = target_measure(m, 1, 1, "target", true);
  CHECK(t.x.rows == 3);
  CHECK(t.w == std::vector<double>{0.1, 0.2, 0.7});
  CHECK(target_measure(m, 1, 1, "target", false).x.rows == 1000);
}

TEST_CASE("weighted atoms in the mmd functional: value and gradient match a plain loop") {
  const Context ctx(Device::cpu, 2);
  FlowConfig cfg;
  cfg.functional = FunctionalKind::mmd;
  cfg.r = 1.3;
  MeasureConfig m;
  m.kind = MeasureKind::diracs;
  m.d = 2;
  m.points = {{-1, -1}, {1, 1}, {0.5, -2}};
  m.weights = {0.5, 0.3, 0.2};
  const auto t = target_measure(m, 0, 0, "target", true);
  HostMatrix<double> x;
  x.rows = 7;
  x.cols = 2;
  for (int i = 0; i < 14; ++i) x.data.push_back(std::sin(1.7 * i) * 1.5);
  auto f = make_functional<double>(ctx, cfg, 2, 16, std::vector<WeightedPoints>{t});
  auto bx = upload(ctx, x.data);
  const ConstPointsView<double> vx(bx.data(), 7, 2);
  CHECK(f->value(ctx, vx) == doctest::Approx(mmd2_naive(x, t.x, t.w, cfg.r)).epsilon(1e-12));
  // Particle gradient N dF/dx_i against central differences of the plain loop.
  Buffer<double> g(ctx, 14);
  f->particle_gradient(ctx, vx, 1.0, PointsView<double>(g.data(), 7, 2));
  const auto gh = download(ctx, g);
  for (int k = 0; k < 14; ++k) {
    auto xp = x, xm = x;
    const double h = 1e-6;
    xp.data[std::size_t(k)] += h;
    xm.data[std::size_t(k)] -= h;
    const double fd = (mmd2_naive(xp, t.x, t.w, cfg.r) - mmd2_naive(xm, t.x, t.w, cfg.r)) / (2 * h);
    CHECK(gh[std::size_t(k)] == doctest::Approx(7 * fd).epsilon(1e-6));
  }
}

TEST_CASE("image measure: the blur against a direct 2-D Gaussian, orientation, sampling law") {
  // One black pixel at (x, y) = (5, 3) of a 16 x 12 white picture.
  Image img(16, 12);
  img.set(5, 3, Rgb{0, 0, 0});
  const std::string path = test::tmp_path("one_pixel.png");
  write_png(path, img);
  int w = 0, h = 0;
  const double sigma = 1.5;
  const auto density = image_density(path, sigma, 0, &w, &h);
  REQUIRE(w == 16);
  REQUIRE(h == 12);
  // Independent computation: the 2-D Gaussian around the pixel on the square |dx|, |dy| <= 6
  // (4 sigma truncation), each point of the plane folded into the picture by the half-sample
  // mirror at the left and top edges (u < 0 -> -u - 1); the right and bottom edges are out of
  // reach.
  std::vector<double> direct(density.size(), 0.0);
  for (int v = 3 - 6; v <= 3 + 6; ++v) {
    for (int u = 5 - 6; u <= 5 + 6; ++u) {
      const double dx = u - 5, dy = v - 3;
      const int x = u < 0 ? -u - 1 : u, y = v < 0 ? -v - 1 : v;
      direct[std::size_t(y * w + x)] += std::exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
    }
  }
  const double total = std::accumulate(direct.begin(), direct.end(), 0.0);
  for (std::size_t i = 0; i < density.size(); ++i) {
    CHECK(density[i] == doctest::Approx(direct[i] / total).epsilon(1e-9).scale(1e-12));
  }

  // Sampling: pixel frequencies follow the density (chi-square, 300 000 samples), and the picture
  // maps to [-box, box] with y up: pixel (5, 3) of 16 x 12 sits left of and above the centre.
  MeasureConfig m;
  m.kind = MeasureKind::image;
  m.path = path;
  m.n = 300000;
  m.blur = sigma;
  m.background = 0;
  m.box = 2;
  const auto s = sample_measure(m, 5, 9, "target");
  const double scale = 2 * m.box / 16;
  std::vector<double> count(density.size(), 0.0);
  double mx = 0, my = 0;
  for (index_t i = 0; i < s.rows; ++i) {
    const double px = at(s, i, 0) / scale + 8, py = 6 - at(s, i, 1) / scale;
    REQUIRE(px >= 0);
    REQUIRE(px < 16);
    REQUIRE(py >= 0);
    REQUIRE(py < 12);
    count[std::size_t(int(py) * 16 + int(px))] += 1;
    mx += at(s, i, 0) / double(s.rows);
    my += at(s, i, 1) / double(s.rows);
  }
  double chi2 = 0;
  int cells = 0;
  for (std::size_t i = 0; i < density.size(); ++i) {
    const double e = density[i] * double(m.n);
    if (e < 20) continue;
    chi2 += (count[i] - e) * (count[i] - e) / e;
    ++cells;
  }
  // chi^2 with `cells` degrees of freedom: mean cells, sd sqrt(2 cells).
  CHECK(chi2 < cells + 6 * std::sqrt(2.0 * cells));
  CHECK(mx == doctest::Approx((5.5 - 8) * scale).epsilon(0.05));
  CHECK(my > 0);
}

TEST_CASE("image measure: a white picture has no mass; the background blurs add mass nearby") {
  Image white(20, 20);
  const std::string path = test::tmp_path("white.png");
  write_png(path, white);
  MeasureConfig m;
  m.kind = MeasureKind::image;
  m.path = path;
  m.n = 10;
  CHECK_THROWS_AS(sample_measure(m, 1, 1, "target"), Error);
  Image dot(40, 40);
  dot.set(10, 10, Rgb{0, 0, 0});
  write_png(path, dot);
  int w, h;
  const auto sharp = image_density(path, 0.5, 0, &w, &h);
  const auto soft = image_density(path, 0.5, 0.01, &w, &h);
  CHECK(sharp[std::size_t(35 * 40 + 35)] < 1e-12);
  CHECK(soft[std::size_t(35 * 40 + 35)] > 1e-6);
  CHECK(std::accumulate(soft.begin(), soft.end(), 0.0) == doctest::Approx(1.0));
}

TEST_CASE("idx measure: the first n Fashion-MNIST images as 784-D rows in [0, 1]") {
  const std::string file = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!std::filesystem::exists(file)) {
    MESSAGE("skipped: " << file << " missing (Debian package dataset-fashion-mnist)");
    return;
  }
  FlowConfig cfg;
  cfg.functional = FunctionalKind::mmd;
  cfg.scheme = SchemeKind::particle;
  cfg.steps = 1;
  cfg.initial.kind = MeasureKind::uniform;
  cfg.initial.d = 784;
  cfg.initial.n = 10;
  cfg.target.kind = MeasureKind::idx;
  cfg.target.path = file;
  cfg.target.n = 25;
  validate(cfg);
  const auto x = sample_measure(cfg.target, 0, 0, "target");
  CHECK(x.rows == 25);
  CHECK(x.cols == 784);
  CHECK(*std::min_element(x.data.begin(), x.data.end()) == 0.0);
  CHECK(*std::max_element(x.data.begin(), x.data.end()) == 1.0);
  cfg.initial.d = 2;
  CHECK_THROWS_AS(validate(cfg), Error);  // target d = 784 against initial d = 2
}

TEST_CASE("line flow reference: moved and dilated App. G flow matches a fine particle flow") {
  // delta_2 to delta_{-1} (L = 3, leftwards): the particle flow with a small step from a 1e-9
  // interval is close to the reference; the undilated formula (t instead of t / L) is far.
  FlowConfig cfg;
  cfg.scheme = SchemeKind::particle;
  cfg.functional = FunctionalKind::mmd;
  cfg.r = 1;
  cfg.tau = 0.01;
  cfg.steps = 120;
  cfg.initial.kind = MeasureKind::square;
  cfg.initial.d = 1;
  cfg.initial.n = 400;
  cfg.initial.radius = 1e-9;
  cfg.initial.points = {{2}};
  cfg.target.kind = MeasureKind::dirac;
  cfg.target.d = 1;
  cfg.target.points = {{-1}};
  cfg.plots = false;
  cfg.progress = false;
  cfg.eval_every = 40;
  REQUIRE(analytic_reference(cfg) == AnalyticReference::line);
  RunOptions opt;
  opt.backend = BackendChoice::cpu;
  opt.threads = 2;
  opt.progress = false;
  const RunResult res = run_flow(cfg, opt);
  const double t = res.time;
  REQUIRE(t == doctest::Approx(1.2));
  HostMatrix<double> y;
  y.rows = 4000;
  y.cols = 1;
  y.data.resize(4000);
  sample_reference(cfg, t, 4000, 3, 4, y.data.data());
  const Context ctx(Device::cpu, 2);
  const double good = mmd2_unbiased(ctx, res.samples, y, 1);
  // Every reference sample lies in [p, a] = [-1, 2]; mass at -1 is 1 - L/(2t) once t > L/2.
  const double at_target = double(std::count(y.data.begin(), y.data.end(), -1.0)) / 4000;
  CHECK(at_target == 0.0);  // t = 1.2 < L / 2 = 1.5: no mass has arrived yet
  for (double v : y.data) CHECK((v >= -1 && v <= 2));
  HostMatrix<double> wrong = y;
  for (index_t i = 0; i < 4000; ++i) {
    wrong.data[std::size_t(i)] = 2 - 3 * (line_flow_quantile(t, (double(i) + 0.5) / 4000) + 1);
  }
  const double bad = mmd2_unbiased(ctx, res.samples, wrong, 1);
  CHECK(good < 2e-3);
  CHECK(bad > 10 * good);
  // The run's own metric is the same comparison at every evaluated step.
  CHECK(res.metrics.back().mmd2_analytic < 2e-3);
}

TEST_CASE("barycenter reference: the mixture of the unit circle and the square's boundary") {
  FlowConfig cfg;
  cfg.functional = FunctionalKind::barycenter;
  cfg.initial.d = 2;
  MeasureConfig circle, square;
  circle.kind = MeasureKind::circle;
  circle.radius = 1;
  square.kind = MeasureKind::square_boundary;
  square.radius = 1;
  cfg.targets = {circle, square};
  cfg.weights = {0.3, 0.7};
  REQUIRE(analytic_reference(cfg) == AnalyticReference::barycenter);
  std::vector<double> y(2 * 20000);
  sample_reference(cfg, 0, 20000, 1, 2, y.data());
  int on_circle = 0;
  for (int i = 0; i < 20000; ++i) {
    const double a = y[std::size_t(2 * i)], b = y[std::size_t(2 * i + 1)];
    const bool c = std::fabs(std::hypot(a, b) - 1) < 1e-12;
    const bool s = std::fabs(std::max(std::fabs(a), std::fabs(b)) - 1) < 1e-12;
    CHECK((c || s));
    on_circle += c && !s;
  }
  CHECK(on_circle / 20000.0 == doctest::Approx(0.3).epsilon(0.05));
  cfg.targets[0].radius = 2;
  CHECK(analytic_reference(cfg) == AnalyticReference::none);
}
