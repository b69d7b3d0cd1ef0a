#include "nwgf/analytic/ou_flow.hpp"

#include <cmath>

#include "nwgf/engine/error.hpp"

namespace nwgf {
namespace {

// Evolves each eigen-coordinate by `step` (m, v, lambda, b) and maps back to the standard basis.
template <class Step>
GaussianMoments in_eigenbasis(const OuProblem& p, Step step) {
  const index_t d = p.target.dim();
  if (index_t(p.start.size()) != d) throw_runtime("OuProblem: start and target dimensions differ");
  const SymmetricEigen e = symmetric_eigen(p.target.cov, d);
  GaussianMoments g;
  g.mean.assign(std::size_t(d), 0.0);
  g.cov.assign(std::size_t(d * d), 0.0);
  for (index_t k = 0; k < d; ++k) {
    const double lambda = 1 / e.values[std::size_t(k)];
    double b = 0, m = 0;
    for (index_t i = 0; i < d; ++i) {
      const double u = e.vectors[std::size_t(i * d + k)];
      b += u * p.target.mean[std::size_t(i)];
      m += u * p.start[std::size_t(i)];
    }
    double v = p.start_variance;
    step(lambda, b, m, v);
    for (index_t i = 0; i < d; ++i) {
      const double ui = e.vectors[std::size_t(i * d + k)];
      g.mean[std::size_t(i)] += ui * m;
      for (index_t j = 0; j < d; ++j)
        g.cov[std::size_t(i * d + j)] += ui * v * e.vectors[std::size_t(j * d + k)];
    }
  }
  return g;
}

}  // namespace

void ou_jko_step_1d(double lambda, double b, double a, double& m, double& v) {
  const double c = 1 + a * lambda;
  m = (m + a * lambda * b) / c;
  const double s = (1 + std::sqrt(1 + 4 * c * a / v)) / (2 * c);
  v *= s * s;
}

GaussianMoments ou_continuous(const OuProblem& p, double t) {
  return in_eigenbasis(p, [t](double lambda, double b, double& m, double& v) {
    const double e1 = std::exp(-lambda * t), e2 = e1 * e1;
    m = b + e1 * (m - b);
    v = (1 - e2) / lambda + e2 * v;
  });
}

GaussianMoments ou_jko_iterate(const OuProblem& p, double a, index_t k) {
  return in_eigenbasis(p, [a, k](double lambda, double b, double& m, double& v) {
    for (index_t i = 0; i < k; ++i) ou_jko_step_1d(lambda, b, a, m, v);
  });
}

}  // namespace nwgf
