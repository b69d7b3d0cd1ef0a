#include "nwgf/schemes/ift/qp.hpp"

#include <cmath>

#include "nwgf/schemes/ift/weight_step.hpp"

namespace nwgf {
namespace {

// y <- K x.
void matvec(const std::vector<double>& K, const std::vector<double>& x, std::vector<double>& y) {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0;
    const double* row = &K[i * n];
    for (std::size_t j = 0; j < n; ++j) s += row[j] * x[j];
    y[i] = s;
  }
}

}  // namespace

double spectral_radius(const std::vector<double>& K, index_t n, int iterations) {
  std::vector<double> v(static_cast<std::size_t>(n)), kv(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) v[std::size_t(i)] = 1.0 + 0.01 * double(i % 7);
  double lambda = 0;
  for (int it = 0; it < iterations; ++it) {
    double norm = 0;
    for (double x : v) norm += x * x;
    norm = std::sqrt(norm);
    if (!(norm > 0)) return 0;
    for (double& x : v) x /= norm;
    matvec(K, v, kv);
    double next = 0;
    for (double x : kv) next += x * x;
    lambda = std::sqrt(next);  // |K v| -> |lambda|_max
    v.swap(kv);
  }
  return lambda;
}

QpResult solve_weight_qp(const std::vector<double>& K, double eta, const std::vector<double>& c,
                         const std::vector<double>& start, index_t iterations,
                         MassConstraint mass) {
  const std::size_t n = start.size();
  const double h = 1 + 1 / eta;
  // The power iteration approaches lambda_max from below: 2 % margin.
  const double L = 1.02 * h * spectral_radius(K, index_t(n));
  std::vector<double> kb(n);
  auto objective = [&](const std::vector<double>& b) {
    matvec(K, b, kb);
    double j = 0;
    for (std::size_t i = 0; i < n; ++i) j += 0.5 * h * b[i] * kb[i] - c[i] * b[i];
    return j;
  };
  QpResult best{start, objective(start)};
  if (!(L > 0)) return best;
  std::vector<double> b = start, prev = start, y = start, grad(n);
  double t = 1;
  for (index_t it = 0; it < iterations; ++it) {
    matvec(K, y, grad);
    for (std::size_t i = 0; i < n; ++i) grad[i] = h * grad[i] - c[i];
    prev.swap(b);
    for (std::size_t i = 0; i < n; ++i) b[i] = y[i] - grad[i] / L;
    project_mass(b, mass);
    const double j = objective(b);
    if (j < best.objective) best = {b, j};
    const double t_next = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
    for (std::size_t i = 0; i < n; ++i) y[i] = b[i] + (t - 1) / t_next * (b[i] - prev[i]);
    t = t_next;
  }
  return best;
}

}  // namespace nwgf
