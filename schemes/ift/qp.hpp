#pragma once
// The exact MMD step of IFT as a quadratic program over the simplex (or {b >= 0}):
//   minimise J(b) = 1/2 b'H b - c'b,  H = (1 + 1/eta) K,  K = K(X', X') (n x n, symmetric)
// by FISTA with the Euclidean projection (simplex.hpp) and the step 1/L, L = lambda_max(|H|) by
// power iteration, warm-started at `start`. FISTA is not monotone: the iterate with the lowest J
// is returned, so J(result) <= J(start) always (the exact step never increases F when `start` is
// the previous weights). Host code; K is dense (the caller bounds n).
#include <cmath>
#include <cstddef>
#include <vector>

#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/config_enums.hpp"

namespace nwgf {

struct QpResult {
  std::vector<double> b;  // (n)
  double objective = 0;   // J(b)
};

// K: (n, n) row-major; c: (n); start: (n) feasible.
QpResult solve_weight_qp(const std::vector<double>& K, double eta, const std::vector<double>& c,
                         const std::vector<double>& start, index_t iterations, MassConstraint mass);

// The largest |eigenvalue| of the symmetric K (n x n) by power iteration from a fixed start.
double spectral_radius(const std::vector<double>& K, index_t n, int iterations = 100);

namespace qp_detail {

// The power iteration and FISTA written once over their operations, for one process (dense K,
// qp.cpp) and for the ranks (weight_ranks.cpp: K v by pair passes, vectors split by rows):
//   ops.matvec(x, y): y <- K x on the rows held (every rank together);
//   ops.sum(term):    sum over all rows i of term(i) (i local), added in global row order;
//   ops.project(b):   b onto the mass constraint.
// rows: the rows held; first: the global index of the first (the start vector's pattern).
template <class Ops>
double power_iteration(const Ops& ops, std::size_t rows, index_t first, int iterations) {
  std::vector<double> v(rows), kv(rows);
  for (std::size_t i = 0; i < rows; ++i) v[i] = 1.0 + 0.01 * double((first + index_t(i)) % 7);
  double lambda = 0;
  for (int it = 0; it < iterations; ++it) {
    const double norm = std::sqrt(ops.sum([&](std::size_t i) { return v[i] * v[i]; }));
    if (!(norm > 0)) return 0;
    for (double& x : v) x /= norm;
    ops.matvec(v, kv);
    lambda = std::sqrt(ops.sum([&](std::size_t i) { return kv[i] * kv[i]; }));  // |K v|
    v.swap(kv);
  }
  return lambda;
}

// FISTA on J(b) = 1/2 h b'K b - c'b, h = 1 + 1/eta, step 1/L with L = 1.02 h lambda_max (the
// power iteration approaches lambda_max from below: 2 % margin); the best iterate.
template <class Ops>
QpResult fista(const Ops& ops, index_t first, double eta, const std::vector<double>& c,
               const std::vector<double>& start, index_t iterations) {
  const std::size_t n = start.size();
  const double h = 1 + 1 / eta;
  const double L = 1.02 * h * power_iteration(ops, n, first, 100);
  std::vector<double> kb(n);
  auto objective = [&](const std::vector<double>& b) {
    ops.matvec(b, kb);
    return ops.sum([&](std::size_t i) { return 0.5 * h * b[i] * kb[i] - c[i] * b[i]; });
  };
  QpResult best{start, objective(start)};
  if (!(L > 0)) return best;
  std::vector<double> b = start, prev = start, y = start, grad(n);
  double t = 1;
  for (index_t it = 0; it < iterations; ++it) {
    ops.matvec(y, grad);
    for (std::size_t i = 0; i < n; ++i) grad[i] = h * grad[i] - c[i];
    prev.swap(b);
    for (std::size_t i = 0; i < n; ++i) b[i] = y[i] - grad[i] / L;
    ops.project(b);
    const double j = objective(b);
    if (j < best.objective) best = {b, j};  // j is the same on every rank
    const double t_next = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
    for (std::size_t i = 0; i < n; ++i) y[i] = b[i] + (t - 1) / t_next * (b[i] - prev[i]);
    t = t_next;
  }
  return best;
}

}  // namespace qp_detail
}  // namespace nwgf
