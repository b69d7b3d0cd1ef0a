#include "nwgf/nn/icnn_density.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "nwgf/analytic/gaussian_mixture_math.hpp"
#include "nwgf/engine/error.hpp"

namespace nwgf {
namespace {

double dot(const double* a, const double* b, index_t d) {
  double s = 0;
  for (index_t j = 0; j < d; ++j) s += a[j] * b[j];
  return s;
}

// One chunk of rows (B <= max_batch) of invert_icnn.
IcnnInversion invert_chunk(const Context& ctx, Icnn<double>& net, const double* y, double* x,
                           index_t B, index_t first_row, double tol, index_t max_iterations) {
  const index_t d = net.dim();
  std::vector<double> t(std::size_t(B * d)), h(std::size_t(B * d * d)), step(t.size()),
      trial(t.size()), phi(static_cast<std::size_t>(B)), phi_trial(static_cast<std::size_t>(B)), slope(static_cast<std::size_t>(B)),
      scale(static_cast<std::size_t>(B));
  std::vector<char> done(std::size_t(B), 0), accepted(std::size_t(B), 0);
  std::vector<double> factor(std::size_t(d * d)), zero(std::size_t(d), 0.0);
  for (index_t i = 0; i < B; ++i) scale[std::size_t(i)] = 1 + std::sqrt(dot(y + i * d, y + i * d, d));
  IcnnInversion out;
  for (index_t it = 0;; ++it) {
    // Residuals r = y - grad phi(x) (into step) and the convergence test.
    net.forward(ctx, ConstPointsView<double>(x, B, d), PointsView<double>(t.data(), B, d));
    bool all = true;
    out.residual = 0;
    for (index_t i = 0; i < B; ++i) {
      double* r = step.data() + i * d;
      for (index_t j = 0; j < d; ++j) r[j] = y[i * d + j] - t[std::size_t(i * d + j)];
      const double rel = std::sqrt(dot(r, r, d)) / scale[std::size_t(i)];
      out.residual = std::max(out.residual, rel);
      done[std::size_t(i)] = rel <= tol;
      if (!done[std::size_t(i)]) all = false;
    }
    if (all) return out;
    if (it == max_iterations) {
      for (index_t i = 0; i < B; ++i)
        if (!done[std::size_t(i)])
          throw_numerical("ICNN inversion (15): row " + std::to_string(first_row + i) +
                          " did not converge in " + std::to_string(max_iterations) +
                          " Newton steps (relative residual " + std::to_string(out.residual) + ")");
    }
    out.iterations = it + 1;
    // Newton steps s = H^{-1} r, and f(x) = phi(x) - <x, y>.
    net.hessian(ctx, ConstPointsView<double>(x, B, d), h.data());
    net.potential(ctx, ConstPointsView<double>(x, B, d), phi.data());
    for (index_t i = 0; i < B; ++i) {
      if (done[std::size_t(i)]) continue;
      double* hi = h.data() + i * d * d;
      double* s = step.data() + i * d;
      if (!gaussian_math::cholesky(hi, d, factor.data())) {
        throw_numerical("ICNN inversion (15): the Hessian of phi is not positive definite at row " +
                        std::to_string(first_row + i));
      }
      std::vector<double> r(s, s + d);
      // s <- H^{-1} s = L^{-T} L^{-1} s (the forward substitution in place: zero mean).
      gaussian_math::whiten(s, zero.data(), factor.data(), d, s);
      gaussian_math::solve_transposed(factor.data(), d, s);
      slope[std::size_t(i)] = -dot(r.data(), s, d);  // <grad f, s> = -<r, s> < 0
      phi[std::size_t(i)] -= dot(x + i * d, y + i * d, d);
    }
    // Backtracking (Armijo, with a rounding allowance), all open rows together.
    std::fill(accepted.begin(), accepted.end(), 0);
    double a = 1;
    for (int halving = 0; halving < 60; ++halving, a *= 0.5) {
      bool open = false;
      for (index_t i = 0; i < B * d; ++i) {
        const index_t row = i / d;
        trial[std::size_t(i)] = done[std::size_t(row)] || accepted[std::size_t(row)]
                                    ? x[i]
                                    : x[i] + a * step[std::size_t(i)];
      }
      net.potential(ctx, ConstPointsView<double>(trial.data(), B, d), phi_trial.data());
      for (index_t i = 0; i < B; ++i) {
        if (done[std::size_t(i)] || accepted[std::size_t(i)]) continue;
        const double f = phi_trial[std::size_t(i)] - dot(trial.data() + i * d, y + i * d, d);
        const double f0 = phi[std::size_t(i)];
        if (f <= f0 + 1e-4 * a * slope[std::size_t(i)] + 1e-13 * (1 + std::fabs(f0))) {
          accepted[std::size_t(i)] = 1;
          std::copy(trial.begin() + i * d, trial.begin() + (i + 1) * d, x + i * d);
        } else {
          open = true;
        }
      }
      if (!open) break;
    }
  }
}

}  // namespace

IcnnInversion invert_icnn(const Context& ctx, Icnn<double>& net, const double* y, double* x,
                          index_t B, double tol, index_t max_iterations) {
  const index_t d = net.dim(), chunk = net.max_batch();
  IcnnInversion worst;
  for (index_t first = 0; first < B; first += chunk) {
    const index_t rows = std::min(chunk, B - first);
    const IcnnInversion c =
        invert_chunk(ctx, net, y + first * d, x + first * d, rows, first, tol, max_iterations);
    worst.iterations = std::max(worst.iterations, c.iterations);
    worst.residual = std::max(worst.residual, c.residual);
  }
  return worst;
}

void log_det_hessian(const Context& ctx, Icnn<double>& net, const double* x, double* out,
                     index_t B) {
  const index_t d = net.dim(), chunk = net.max_batch();
  std::vector<double> h(std::size_t(chunk * d * d)), factor(std::size_t(d * d));
  for (index_t first = 0; first < B; first += chunk) {
    const index_t rows = std::min(chunk, B - first);
    net.hessian(ctx, ConstPointsView<double>(x + first * d, rows, d), h.data());
    for (index_t i = 0; i < rows; ++i) {
      double* hi = h.data() + i * d * d;
      if (!gaussian_math::cholesky(hi, d, factor.data())) {
        throw_numerical("log det of the Hessian of phi: not positive definite at row " +
                        std::to_string(first + i));
      }
      out[first + i] = 2 * gaussian_math::half_log_det(factor.data(), d);
    }
  }
}

std::vector<double> pullback_log_density(const Context& ctx, const std::vector<Icnn<double>*>& maps,
                                         const std::function<double(const double*)>& log_p0,
                                         const double* y, index_t B, IcnnInversion* inversion) {
  if (maps.empty()) throw_bad_input("pullback_log_density: no maps");
  const index_t d = maps.front()->dim();
  std::vector<double> x(y, y + B * d), prev(x.size()), ld(static_cast<std::size_t>(B)), logp(std::size_t(B), 0.0);
  IcnnInversion worst;
  for (std::size_t j = maps.size(); j-- > 0;) {
    prev = x;  // Newton from x_j itself
    const IcnnInversion inv = invert_icnn(ctx, *maps[j], x.data(), prev.data(), B);
    worst.iterations = std::max(worst.iterations, inv.iterations);
    worst.residual = std::max(worst.residual, inv.residual);
    log_det_hessian(ctx, *maps[j], prev.data(), ld.data(), B);
    for (index_t i = 0; i < B; ++i) logp[std::size_t(i)] -= ld[std::size_t(i)];
    x.swap(prev);
  }
  for (index_t i = 0; i < B; ++i) logp[std::size_t(i)] += log_p0(x.data() + i * d);
  if (inversion) *inversion = worst;
  return logp;
}

}  // namespace nwgf
