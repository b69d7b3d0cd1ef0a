#pragma once
// The exact MMD step of IFT as a quadratic program over the simplex (or {b >= 0}):
//   minimise J(b) = 1/2 b'H b - c'b,  H = (1 + 1/eta) K,  K = K(X', X') (n x n, symmetric)
// by FISTA with the Euclidean projection (simplex.hpp) and the step 1/L, L = lambda_max(|H|) by
// power iteration, warm-started at `start`. FISTA is not monotone: the iterate with the lowest J
// is returned, so J(result) <= J(start) always (the exact step never increases F when `start` is
// the previous weights). Host code; K is dense (the caller bounds n).
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

}  // namespace nwgf
