// The Gaussian-mixture metrics of the variational scheme (schemes/variational/mixture_metrics.hpp):
// the energy distance against the 1-D identity ED = 2 int (F_X - F_Y)^2 (F the empirical CDFs,
// an independent computation), its value for Diracs, and the component-weight TV on points placed
// by hand; the run's target sample against the mixture's own sampler.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "nwgf/schemes/variational/mixture_metrics.hpp"

using namespace nwgf;

namespace {

HostMatrix<double> matrix(index_t rows, index_t cols, std::vector<double> data) {
  HostMatrix<double> m;
  m.rows = rows;
  m.cols = cols;
  m.data = std::move(data);
  return m;
}

// 2 int (F_X - F_Y)^2 dx for two equally weighted 1-D samples: the CDFs are step functions;
// integrate exactly between consecutive points of the merged sample.
double energy_distance_1d(std::vector<double> x, std::vector<double> y) {
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  std::vector<double> all(x);
  all.insert(all.end(), y.begin(), y.end());
  std::sort(all.begin(), all.end());
  double s = 0;
  for (std::size_t k = 0; k + 1 < all.size(); ++k) {
    const double at = all[k];
    const double fx = double(std::upper_bound(x.begin(), x.end(), at) - x.begin()) / double(x.size());
    const double fy = double(std::upper_bound(y.begin(), y.end(), at) - y.begin()) / double(y.size());
    s += (fx - fy) * (fx - fy) * (all[k + 1] - at);
  }
  return 2 * s;
}

}  // namespace

TEST_CASE("energy_distance: the 1-D CDF identity, Diracs and zero on equal samples") {
  std::mt19937_64 g(7);
  std::normal_distribution<double> nd;
  std::vector<double> x(300), y(200);
  for (double& v : x) v = nd(g);
  for (double& v : y) v = 0.5 + 1.5 * nd(g);
  const double ed = energy_distance(matrix(300, 1, x), matrix(200, 1, y));
  const double ref = energy_distance_1d(x, y);
  INFO("ED " << ed << " vs the CDF integral " << ref);
  CHECK(ref > 0.05);
  CHECK(std::fabs(ed - ref) < 1e-12 * (1 + ref) * 300);
  // Two Diracs at distance 5 (d = 3): 2 * 5 - 0 - 0.
  CHECK(energy_distance(matrix(1, 3, {1, 2, 3}), matrix(1, 3, {1, 5, 7})) ==
        doctest::Approx(10.0).epsilon(1e-14));
  // A sample against itself, in 4-D: 0 up to rounding.
  std::vector<double> z(4 * 100);
  for (double& v : z) v = nd(g);
  CHECK(std::fabs(energy_distance(matrix(100, 4, z), matrix(100, 4, z))) < 1e-12);
}

TEST_CASE("mixture_tv: the weights recovered by the most probable component") {
  // Three components in 2-D, weights 1 : 1 : 2; the third wide (cov 4 Id) so that a point between
  // the first two but near neither is claimed by it.
  const GaussianMixture q(2, {{0, 0}, {6, 0}, {0, 6}},
                          {{1, 0, 0, 1}, {1, 0, 0, 1}, {4, 0, 0, 4}}, {1, 1, 2});
  std::vector<double> pts;
  for (int i = 0; i < 50; ++i) pts.insert(pts.end(), {0.1, -0.1});  // component 0
  for (int i = 0; i < 30; ++i) pts.insert(pts.end(), {6.0, 0.2});   // component 1
  for (int i = 0; i < 20; ++i) pts.insert(pts.end(), {0.3, 6.5});   // component 2
  // 1/2 (|0.5 - 0.25| + |0.3 - 0.25| + |0.2 - 0.5|) = 0.3
  CHECK(mixture_tv(q, matrix(100, 2, pts)) == doctest::Approx(0.3).epsilon(1e-14));
  // (3, 3): log-densities (by hand) -9 - ln 2pi + ln 1/4 = -12.2 for components 0 and 1 and
  // -9/4 - ln 8pi + ln 1/2 = -6.2 for component 2: the third wins. 100 such points:
  // N = (0, 0, 100), TV 1/2 (0.25 + 0.25 + 0.5).
  std::vector<double> mid;
  for (int i = 0; i < 100; ++i) mid.insert(mid.end(), {3.0, 3.0});
  CHECK(mixture_tv(q, matrix(100, 2, mid)) == doctest::Approx(0.5).epsilon(1e-14));
}

TEST_CASE("mixture_problem: the run's target sample is the mixture's") {
  const FlowConfig cfg = parse_flow_config(R"(
seed = 3
[flow]
scheme = "variational"
tau = 0.1
steps = 1
[functional]
kind = "kl"
[initial]
kind = "gaussian"
n = 3000
d = 2
radius = 1.0
[target]
kind = "mixture"
[[target.components]]
mean = [-3.0, 0.0]
cov = [[1.0, 0.0], [0.0, 1.0]]
weight = 1
[[target.components]]
mean = [3.0, 1.0]
cov = [[0.5, 0.0], [0.0, 0.5]]
weight = 3
)",
                                           "mixture.toml");
  const std::optional<MixtureProblem> p = mixture_problem(cfg);
  REQUIRE(p);
  REQUIRE(p->sample.rows == 3000);
  // Its mean: 1/4 (-3, 0) + 3/4 (3, 1) = (1.5, 0.75), within 4 standard errors (sd <= 2.7).
  double m0 = 0, m1 = 0;
  for (index_t i = 0; i < 3000; ++i) {
    m0 += p->sample.data[std::size_t(2 * i)] / 3000;
    m1 += p->sample.data[std::size_t(2 * i + 1)] / 3000;
  }
  CHECK(std::fabs(m0 - 1.5) < 4 * 2.7 / std::sqrt(3000.0));
  CHECK(std::fabs(m1 - 0.75) < 4 * 0.9 / std::sqrt(3000.0));
  // The metrics at the sample itself: energy distance 0, TV of the sampling noise only.
  StepInfo s;
  evaluate_mixture(*p, s, p->sample);
  CHECK(std::fabs(s.energy_distance) < 1e-12);
  CHECK(s.mixture_tv < 0.03);
  // Against an independent sample of the same mixture (another stream): of order E|Y - Y'| 2/n,
  // far below that of the initial N(0, Id) (about 1).
  HostMatrix<double> other = matrix(3000, 2, std::vector<double>(6000));
  p->target.sample(3000, 99, 5, other.data.data());
  evaluate_mixture(*p, s, other);
  INFO("ED to an independent sample " << s.energy_distance << ", TV " << s.mixture_tv);
  CHECK(s.energy_distance < 0.01);
  CHECK(s.mixture_tv < 0.03);
  std::mt19937_64 g(1);
  std::normal_distribution<double> nd;
  for (double& v : other.data) v = nd(g);
  evaluate_mixture(*p, s, other);
  INFO("ED of N(0, Id) " << s.energy_distance << ", TV " << s.mixture_tv);
  CHECK(s.energy_distance > 0.5);
}
