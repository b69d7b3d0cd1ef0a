#include "nwgf/schemes/ift/weight_ranks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "nwgf/schemes/ift/simplex.hpp"
#include "nwgf/schemes/ift/weight_step_math.hpp"

namespace nwgf {
namespace {

// One 8-byte value per rank, allgathered.
template <class V>
std::vector<V> gather_one(const Comm& comm, V v) {
  const std::size_t p = std::size_t(comm.size());
  std::vector<V> all(p);
  all[std::size_t(comm.rank())] = v;
  if (p == 1) return all;
  std::vector<std::size_t> counts(p, sizeof(V)), offsets(p);
  for (std::size_t q = 0; q < p; ++q) offsets[q] = q * sizeof(V);
  comm.allgather(all.data(), counts, offsets);
  return all;
}

}  // namespace

void sum_in_row_order(const Comm& comm, double* acc, int count,
                      const std::function<void(double*)>& add) {
  if (comm.size() == 1) return add(acc);
  const std::size_t bytes = std::size_t(count) * sizeof(double);
  const int me = comm.rank(), last = comm.size() - 1;
  if (me > 0) comm.recv(acc, bytes, me - 1);
  add(acc);
  if (me < last) comm.send(acc, bytes, me + 1);
  comm.broadcast(acc, bytes, last);
}

double min_across(const Comm& comm, double v) {
  const std::vector<double> all = gather_one(comm, v);
  return *std::min_element(all.begin(), all.end());
}

double max_across(const Comm& comm, double v) {
  const std::vector<double> all = gather_one(comm, v);
  return *std::max_element(all.begin(), all.end());
}

index_t count_across(const Comm& comm, index_t v) {
  const std::vector<std::int64_t> all = gather_one<std::int64_t>(comm, std::int64_t(v));
  std::int64_t s = 0;
  for (std::int64_t c : all) s += c;
  return index_t(s);
}

void project_simplex_ranks(const Comm& comm, std::vector<double>& v_own, int iterations) {
  const index_t n = count_across(comm, index_t(v_own.size()));
  if (n == 0) return;
  double lo_own = std::numeric_limits<double>::infinity(), hi_own = -lo_own;
  for (double x : v_own) lo_own = std::min(lo_own, x), hi_own = std::max(hi_own, x);
  // sum max(v - theta, 0) is decreasing in theta: >= 1 at min v - 1/n, 0 at max v.
  double lo = min_across(comm, lo_own) - 1.0 / double(n), hi = max_across(comm, hi_own);
  for (int k = 0; k < iterations; ++k) {
    const double mid = 0.5 * (lo + hi);
    double s = 0;
    sum_in_row_order(comm, &s, 1, [&](double* acc) {
      for (double x : v_own) acc[0] += simplex_part(x, mid);
    });
    (s > 1.0 ? lo : hi) = mid;
  }
  // Michelot from below: theta <= the root keeps the support inside the active set, and each
  // step raises theta towards the root; it stops when the active set no longer changes (or
  // theta no longer rises: the root to rounding). theta is then the formula over the final
  // active set, the support, whatever the bracket the bisection left.
  double theta = lo;
  index_t previous = -1;
  for (index_t k = 0; k <= n; ++k) {
    double acc[2] = {0, 0};  // sum of the active v_i, their count
    sum_in_row_order(comm, acc, 2, [&](double* a) {
      for (double x : v_own) {
        if (x > theta) a[0] += x, a[1] += 1;
      }
    });
    const index_t active = index_t(acc[1]);
    const double next = simplex_threshold(acc[0], acc[1]);
    const bool done = active == previous || !(next > theta);
    previous = active;
    theta = next;
    if (done) break;
  }
  for (double& x : v_own) x = simplex_part(x, theta);
}

void weight_step_pgd_ranks(const Comm& comm, std::vector<double>& w_own,
                           const std::vector<double>& g_own, double eta, MassConstraint mass) {
  for (std::size_t i = 0; i < w_own.size(); ++i)
    w_own[i] = pgd_weight_value(w_own[i], g_own[i], eta);
  if (mass == MassConstraint::simplex) {
    project_simplex_ranks(comm, w_own);
  } else {
    project_nonnegative(w_own);
  }
}

void weight_step_kl_ranks(const Comm& comm, std::vector<double>& w_own,
                          const std::vector<double>& g_own, double eta, MassConstraint mass,
                          KlNormalise normalise) {
  if (mass == MassConstraint::simplex && normalise == KlNormalise::sum) {
    // Dividing by the sum cancels a constant: shift by min g so that no exp overflows.
    double gmin_own = std::numeric_limits<double>::infinity();
    for (double g : g_own) gmin_own = std::min(gmin_own, g);
    const double gmin = min_across(comm, gmin_own);
    for (std::size_t i = 0; i < w_own.size(); ++i) {
      w_own[i] = kl_weight_value(w_own[i], g_own[i], eta, gmin);
    }
    double sum = 0;
    sum_in_row_order(comm, &sum, 1, [&](double* acc) {
      for (double x : w_own) acc[0] += x;
    });
    for (double& x : w_own) x /= sum;
    return;
  }
  for (std::size_t i = 0; i < w_own.size(); ++i) {
    w_own[i] = kl_weight_value(w_own[i], g_own[i], eta, 0.0);
  }
  if (mass == MassConstraint::simplex) project_simplex_ranks(comm, w_own);
}

namespace {
// The ranks: K v by the caller's pair passes on the own rows, sums continued rank to rank in
// row order.
struct RanksOps {
  const Comm& comm;
  const RowsMatvec& matvec_rows;
  MassConstraint mass;
  std::size_t rows;
  void matvec(const std::vector<double>& x, std::vector<double>& y) const { matvec_rows(x, y); }
  template <class Term>
  double sum(const Term& term) const {
    double s = 0;
    sum_in_row_order(comm, &s, 1, [&](double* acc) {
      for (std::size_t i = 0; i < rows; ++i) acc[0] += term(i);
    });
    return s;
  }
  void project(std::vector<double>& b) const {
    if (mass == MassConstraint::simplex) {
      project_simplex_ranks(comm, b);
    } else {
      project_nonnegative(b);
    }
  }
};
}  // namespace

double spectral_radius_ranks(const Comm& comm, const RowsMatvec& matvec, std::size_t rows,
                             index_t first, int iterations) {
  return qp_detail::power_iteration(RanksOps{comm, matvec, MassConstraint::simplex, rows}, rows,
                                    first, iterations);
}

QpResult solve_weight_qp_ranks(const Comm& comm, const RowsMatvec& matvec, index_t first,
                               double eta, const std::vector<double>& c_own,
                               const std::vector<double>& start_own, index_t iterations,
                               MassConstraint mass) {
  return qp_detail::fista(RanksOps{comm, matvec, mass, start_own.size()}, first, eta, c_own,
                          start_own, iterations);
}

WeightStats weight_stats_ranks(const Comm& comm, const std::vector<double>& w_own) {
  WeightStats s;
  double acc[2] = {0, 0};  // sum w, sum w^2
  sum_in_row_order(comm, acc, 2, [&](double* a) {
    for (double x : w_own) a[0] += x, a[1] += x * x;
  });
  index_t zeros = 0;
  double top = 0;
  for (double x : w_own) {
    zeros += x == 0 ? 1 : 0;
    top = std::max(top, x);
  }
  s.mass = acc[0];
  s.zero_weights = double(count_across(comm, zeros));
  s.max_weight = max_across(comm, top);
  s.ess = acc[1] > 0 ? s.mass * s.mass / acc[1] : 0;
  return s;
}

}  // namespace nwgf
