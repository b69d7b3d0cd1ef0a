#pragma once
// Densities through ICNN maps (the variational JKO paper, App. B, eqs. (15)-(16)): with
// P_k = T_k # ... # T_1 # P_0 and T_j = grad phi_j (phi_j strictly convex), a point y = x_k has
// the preimages x_{j-1} = argmax_x <x, x_j> - phi_j(x), i.e. the solution of grad phi_j(x) = x_j
// (15), and log P_k(y) = log P_0(x_0) - sum_j log det grad^2 phi_j(x_{j-1}) (16) (change of
// variables; the Hessians are positive definite).
//
// The inversion is Newton's method on the strongly convex f(x) = phi(x) - <x, y>: the step
// solves grad^2 phi(x) s = y - grad phi(x) (Cholesky), halved until f decreases (Armijo), per
// row; it stops when |grad phi(x) - y| <= tol (1 + |y|). Everything in double, on the CPU.
#include <functional>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/nn/icnn.hpp"

namespace nwgf {

struct IcnnInversion {
  index_t iterations = 0;   // the most Newton steps any row took
  double residual = 0;      // the largest final |grad phi(x) - y| / (1 + |y|)
};

// x (B, d) <- grad phi^{-1}(y) for y (B, d), from the start x (e.g. y itself). Rows are solved
// in chunks of net.max_batch(). Throws a numerical error naming the row if a row does not
// converge within max_iterations.
IcnnInversion invert_icnn(const Context& ctx, Icnn<double>& net, const double* y, double* x,
                          index_t B, double tol = 1e-10, index_t max_iterations = 200);

// out (B) <- log det grad^2 phi(x) (Cholesky of each row's Hessian).
void log_det_hessian(const Context& ctx, Icnn<double>& net, const double* x, double* out,
                     index_t B);

// log P_k(y) for y (B, d), maps = phi_1..phi_k in the order they were applied, log_p0 the initial
// log-density at a point (d values). Returns B values; *inversion (if given) the worst row.
std::vector<double> pullback_log_density(const Context& ctx, const std::vector<Icnn<double>*>& maps,
                                         const std::function<double(const double*)>& log_p0,
                                         const double* y, index_t B,
                                         IcnnInversion* inversion = nullptr);

}  // namespace nwgf
