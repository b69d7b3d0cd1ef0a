// Gaussians with full covariance and Gaussian mixtures: Cholesky, the log density and its
// gradient against independent computations (explicit inverse and determinant, a long-double sum
// of densities, central differences), the samplers' moments, and the config keys (cov,
// [[target.components]]) with their errors naming the key.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nwgf/analytic/gaussian_mixture.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/schemes/config.hpp"
#include "nwgf/schemes/measures.hpp"

using namespace nwgf;

namespace {

// The paper's 2-D mixture (IFT paper, Fig. 3b): equal weights.
const std::vector<std::vector<double>> means2 = {{0, 0}, {3, -1}, {1, 4}};
const std::vector<std::vector<double>> covs2 = {{1, 0.5, 0.5, 2}, {1, 0, 0, 1}, {3, 0.5, 0.5, 1}};

// N(x; m, S) for d = 2 from the explicit inverse and determinant, in long double.
long double normal2(const double* x, const std::vector<double>& m, const std::vector<double>& S) {
  const long double a = S[0], b = S[1], c = S[3];
  const long double det = a * c - b * b;
  const long double u = x[0] - m[0], v = x[1] - m[1];
  const long double q = (c * u * u - 2 * b * u * v + a * v * v) / det;
  return std::exp(-0.5L * q) / (2 * 3.14159265358979323846264338327950288L * std::sqrt(det));
}

std::string parse_error(const std::string& text) {
  try {
    parse_flow_config(text, "test.toml");
  } catch (const Error& e) {
    CHECK(e.exit_code() == 2);
    return e.what();
  }
  return "";
}

const char* mixture_toml = R"(
[flow]
scheme = "particle"
tau = 0.1
steps = 2
[functional]
kind = "mmd"
[initial]
kind = "gaussian"
points = [[5, 5]]
cov = [[1, 0.5], [0.5, 2]]
n = 10
[target]
kind = "mixture"
n = 10
[[target.components]]
mean = [0, 0]
cov = [[1, 0.5], [0.5, 2]]
weight = 1
[[target.components]]
mean = [3, -1]
cov = [[1, 0], [0, 1]]
weight = 1
[[target.components]]
mean = [1, 4]
cov = [[3, 0.5], [0.5, 1]]
weight = 2
)";

}  // namespace

TEST_CASE("cholesky_factor: L L^T = S; non-symmetric, indefinite and singular are refused") {
  const std::vector<double> S = {4, 2, 0.4, 1, 2, 5, 1, 0.2, 0.4, 1, 3, 0.5, 1, 0.2, 0.5, 2};
  const auto L = cholesky_factor(S, 4);
  REQUIRE(L.size() == 16);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      double s = 0;
      for (int k = 0; k < 4; ++k) s += L[std::size_t(i * 4 + k)] * L[std::size_t(j * 4 + k)];
      CHECK(s == doctest::Approx(S[std::size_t(i * 4 + j)]).epsilon(1e-14));
      if (j > i) CHECK(L[std::size_t(i * 4 + j)] == 0);
    }
  }
  CHECK(cholesky_factor({1, 0.5, 0.4, 1}, 2).empty());   // not symmetric
  CHECK(cholesky_factor({1, 2, 2, 1}, 2).empty());       // indefinite
  CHECK(cholesky_factor({1, 1, 1, 1}, 2).empty());       // singular
  CHECK(cholesky_factor({1, 0, 0}, 2).empty());          // wrong shape
  CHECK(cholesky_factor({1, NAN, NAN, 1}, 2).empty());
}

TEST_CASE("mixture log density: the sum of explicit 2-D densities, gradient by central differences") {
  const GaussianMixture p(2, means2, covs2, {1, 1, 2});
  const double w[3] = {0.25, 0.25, 0.5};
  for (const auto& x : std::vector<std::vector<double>>{{0.3, -0.2}, {2.5, 1}, {-4, 7}, {12, -9}}) {
    long double sum = 0;
    for (int k = 0; k < 3; ++k) sum += w[k] * normal2(x.data(), means2[std::size_t(k)], covs2[std::size_t(k)]);
    double grad[2];
    const double lp = p.log_density_gradient(x.data(), grad);
    CHECK(lp == doctest::Approx(double(std::log(sum))).epsilon(1e-13));
    CHECK(p.log_density(x.data()) == lp);
    for (int j = 0; j < 2; ++j) {
      const double h = 1e-5;
      auto xp = x, xm = x;
      xp[std::size_t(j)] += h;
      xm[std::size_t(j)] -= h;
      const double fd = (p.log_density(xp.data()) - p.log_density(xm.data())) / (2 * h);
      CHECK(grad[j] == doctest::Approx(fd).epsilon(1e-8));
    }
  }
  // Far in the tails the log-sum-exp stays finite where the densities underflow.
  const double far[2] = {400, -300};
  double g[2];
  CHECK(std::isfinite(p.log_density_gradient(far, g)));
  CHECK(std::isfinite(g[0]));
}

TEST_CASE("one full-covariance Gaussian in d = 3: -1/2 x'S^{-1}x - 1/2 log det S, gradient -S^{-1}x") {
  // S = A A^T with a known A: S^{-1} x by solving with A, det S = det(A)^2.
  const std::vector<double> A = {2, 0, 0, 0.5, 1, 0, -0.3, 0.4, 1.5};
  std::vector<double> S(9, 0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) S[std::size_t(i * 3 + j)] += A[std::size_t(i * 3 + k)] * A[std::size_t(j * 3 + k)];
  const std::vector<double> m = {1, -2, 0.5};
  const GaussianMixture p(3, {m}, {S}, {7});
  const double x[3] = {0.2, 0.1, -1};
  // y = A^{-1}(x - m) by forward substitution (A is lower triangular), q = |y|^2.
  const double r0 = x[0] - m[0], r1 = x[1] - m[1], r2 = x[2] - m[2];
  const double y0 = r0 / 2, y1 = (r1 - 0.5 * y0) / 1, y2 = (r2 + 0.3 * y0 - 0.4 * y1) / 1.5;
  const double q = y0 * y0 + y1 * y1 + y2 * y2;
  const double expect = -0.5 * q - std::log(2 * 1 * 1.5) - 1.5 * std::log(2 * M_PI);
  double g[3];
  CHECK(p.log_density_gradient(x, g) == doctest::Approx(expect).epsilon(1e-14));
  // -S g = x - m.
  for (int i = 0; i < 3; ++i) {
    double s = 0;
    for (int j = 0; j < 3; ++j) s += S[std::size_t(i * 3 + j)] * g[j];
    CHECK(-s == doctest::Approx(x[i] - m[std::size_t(i)]).epsilon(1e-13));
  }
}

TEST_CASE("mixture and full-covariance samples: component frequencies, means and covariances") {
  const index_t n = 200000;
  const GaussianMixture p(2, means2, covs2, {1, 1, 2});
  std::vector<double> x(std::size_t(2 * n));
  p.sample(n, 11, 4, x.data());
  // Moments of the mixture: mean sum w m, covariance sum w (S + m m^T) - mean mean^T.
  const double w[3] = {0.25, 0.25, 0.5};
  double mu[2] = {0, 0}, second[4] = {0, 0, 0, 0};
  for (int k = 0; k < 3; ++k) {
    for (int a = 0; a < 2; ++a) {
      mu[a] += w[k] * means2[std::size_t(k)][std::size_t(a)];
      for (int b = 0; b < 2; ++b) {
        second[a * 2 + b] += w[k] * (covs2[std::size_t(k)][std::size_t(a * 2 + b)] +
                                     means2[std::size_t(k)][std::size_t(a)] * means2[std::size_t(k)][std::size_t(b)]);
      }
    }
  }
  double emu[2] = {0, 0}, esec[4] = {0, 0, 0, 0};
  for (index_t i = 0; i < n; ++i) {
    for (int a = 0; a < 2; ++a) {
      emu[a] += x[std::size_t(2 * i + a)] / double(n);
      for (int b = 0; b < 2; ++b) esec[a * 2 + b] += x[std::size_t(2 * i + a)] * x[std::size_t(2 * i + b)] / double(n);
    }
  }
  // Standard errors: sd <= 3 for each coordinate -> mean error ~ 3 / sqrt(n) = 0.007.
  for (int a = 0; a < 2; ++a) CHECK(std::fabs(emu[a] - mu[a]) < 0.03);
  for (int k = 0; k < 4; ++k) CHECK(std::fabs(esec[k] - second[k]) < 0.15);

  // A full-covariance gaussian measure: centre + L z.
  MeasureConfig g;
  g.kind = MeasureKind::gaussian;
  g.d = 2;
  g.n = n;
  g.points = {{5, 5}};
  g.cov = {1, 0.5, 0.5, 2};
  const auto y = sample_measure(g, 3, 1, "initial");
  double m0 = 0, m1 = 0, c00 = 0, c01 = 0, c11 = 0;
  for (index_t i = 0; i < n; ++i) {
    m0 += y.data[std::size_t(2 * i)] / double(n);
    m1 += y.data[std::size_t(2 * i + 1)] / double(n);
  }
  for (index_t i = 0; i < n; ++i) {
    const double u = y.data[std::size_t(2 * i)] - m0, v = y.data[std::size_t(2 * i + 1)] - m1;
    c00 += u * u / double(n);
    c01 += u * v / double(n);
    c11 += v * v / double(n);
  }
  CHECK(std::fabs(m0 - 5) < 0.01);
  CHECK(std::fabs(m1 - 5) < 0.015);
  CHECK(std::fabs(c00 - 1) < 0.02);
  CHECK(std::fabs(c01 - 0.5) < 0.02);
  CHECK(std::fabs(c11 - 2) < 0.04);
  // Without cov the gaussian measure is the isotropic one (radius = standard deviation).
  g.cov.clear();
  g.radius = 2;
  const auto z = sample_measure(g, 3, 1, "initial");
  double s2 = 0;
  for (index_t i = 0; i < n; ++i) s2 += (z.data[std::size_t(2 * i)] - 5) * (z.data[std::size_t(2 * i)] - 5) / double(n);
  CHECK(std::fabs(s2 - 4) < 0.08);
}

TEST_CASE("config: gaussian cov and [[target.components]] are read, written and round-trip") {
  const FlowConfig c = parse_flow_config(mixture_toml, "test.toml");
  CHECK(c.initial.kind == MeasureKind::gaussian);
  CHECK(c.initial.cov == std::vector<double>{1, 0.5, 0.5, 2});
  REQUIRE(c.target.kind == MeasureKind::mixture);
  CHECK(c.target.d == 2);
  REQUIRE(c.target.components.size() == 3);
  CHECK(c.target.components[2].mean == std::vector<double>{1, 4});
  CHECK(c.target.components[2].cov == std::vector<double>{3, 0.5, 0.5, 1});
  CHECK(c.target.components[2].weight == 2);
  const FlowConfig again = parse_flow_config(to_toml(c), "again.toml");
  CHECK(to_toml(again) == to_toml(c));
  CHECK(again.target.components[1].cov == c.target.components[1].cov);
  // d of a mixture follows from its components, of the initial measure from the target's.
  const auto x = sample_measure(c.target, 1, 2, "target");
  CHECK(x.rows == 10);
  CHECK(x.cols == 2);
  // The keys stay out of configs that do not use them (older manifests are unchanged).
  FlowConfig plain = c;
  plain.initial.cov.clear();
  plain.initial.radius = 1;
  CHECK(to_toml(plain).find("cov") != std::string::npos);  // the target's components still have one
  plain.target = plain.initial;
  CHECK(to_toml(plain).find("cov") == std::string::npos);
  CHECK(to_toml(plain).find("components") == std::string::npos);
}

TEST_CASE("config: bad covariances, components and weights name the key") {
  const std::string t = mixture_toml;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = t;
    const auto p = s.find(from);
    REQUIRE(p != std::string::npos);
    return s.replace(p, from.size(), to);
  };
  CHECK(parse_error(with("cov = [[1, 0.5], [0.5, 2]]\nn = 10", "cov = [[1, 0.6], [0.5, 2]]\nn = 10"))
            .find("initial.cov") != std::string::npos);
  CHECK(parse_error(with("cov = [[1, 0.5], [0.5, 2]]\nn = 10", "cov = [[1, 2], [2, 1]]\nn = 10"))
            .find("initial.cov") != std::string::npos);
  CHECK(parse_error(with("cov = [[1, 0.5], [0.5, 2]]\nn = 10", "cov = [[1, 0.5]]\nn = 10"))
            .find("initial.cov") != std::string::npos);
  CHECK(parse_error(with("cov = [[1, 0], [0, 1]]", "cov = [[1, 1], [1, 1]]"))
            .find("target.components[1].cov") != std::string::npos);
  CHECK(parse_error(with("weight = 2", "weight = -1")).find("target.components[2].weight") !=
        std::string::npos);
  CHECK(parse_error(with("mean = [3, -1]", "mean = [3, -1, 2]")).find("target.components[1].mean") !=
        std::string::npos);
  CHECK(parse_error(with("weight = 2", "wieght = 2")).find("target.components[2].wieght") !=
        std::string::npos);
  CHECK(parse_error(with("weight = 2\n", "")).find("target.components[2].weight") !=
        std::string::npos);
  CHECK(parse_error(with("kind = \"mixture\"", "kind = \"gaussian\"")).find("target.components") !=
        std::string::npos);
  CHECK(parse_error(with("n = 10\n[[target.components]]", "n = 10\npoints = [[0, 0]]\n[[target.components]]"))
            .find("target.points") != std::string::npos);
}
