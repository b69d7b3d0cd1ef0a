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

namespace {

// The bisection's tree (see the header): one ordered pass evaluates, at every point t of a
// bracket [lo, hi] cut dyadically `levels` times (p[0] = lo, p[m] = hi, m = 2^levels, p[i] the
// midpoint 0.5 * (p[i - h] + p[i + h]) of its parent bracket, as the one-at-a-time bisection
// computes it), the four sums below over every rank's rows in row order.
// 6 halvings per pass across ranks (65 points: at most 10 passes for 60 halvings, 2 KiB per
// message); 3 in one process, where no message costs a round and a pass of 9 points was the
// fewest operations per projection (one process, n = 1e3 and 1e5: 0.3x the time of the
// one-at-a-time bisection's 60 passes; 6 levels 1.0-1.2x).
constexpr int kTreeLevels = 6;
constexpr int kTreeLevelsOneProcess = 3;
constexpr int kTreePoints = (1 << kTreeLevels) + 1;

struct TreeSums {
  int m = 0;                            // intervals; points p[0..m]
  double p[kTreePoints];                // the points
  double part[kTreePoints];             // sum_i max(v_i - p, 0), the bisection's sum, bit for bit
  double above_sum[kTreePoints];        // sum of the v_i > p: Michelot's sum
  double above_count[kTreePoints];      // #{v_i > p} (exact)
  double above_min[kTreePoints];        // min of the v_i > p (+inf: none)
};

void tree_sums(const Comm& comm, const std::vector<double>& v_own, double lo, double hi,
               int levels, TreeSums& t) {
  const int m = 1 << levels, points = m + 1;
  t.m = m;
  t.p[0] = lo;
  t.p[m] = hi;
  for (int h = m / 2; h >= 1; h /= 2) {
    for (int i = h; i < m; i += 2 * h) t.p[i] = 0.5 * (t.p[i - h] + t.p[i + h]);
  }
  // One message: the four sums side by side.
  double acc[4 * kTreePoints];
  double* part = acc;
  double* above_sum = acc + points;
  double* above_count = acc + 2 * points;
  double* above_min = acc + 3 * points;
  for (int k = 0; k < points; ++k) {
    part[k] = above_sum[k] = above_count[k] = 0;
    above_min[k] = std::numeric_limits<double>::infinity();
  }
  const double* p = t.p;
  // The points are nearly evenly spaced: x's place guessed from (x - lo) / step, then moved to
  // the exact one by comparisons.
  const double per_step = double(m) / (hi - lo);
  const auto in_order = [&](double*) {
    for (double x : v_own) {
      // The points are in increasing order: x > p[k] for k < below. Per point its own sum in
      // row order; the points at or above x get nothing (what the one-at-a-time loops add, 0 or
      // nothing, to sums that start at +0 and so are never -0).
      if (!(x > p[0])) continue;  // below = 0 (NaN too)
      int below = points;
      if (!(x > p[m])) {
        const double guess = (x - p[0]) * per_step;
        below = guess >= 1 && guess <= m ? int(guess) : 1;  // x > p[0]: below >= 1
        while (below > 1 && !(x > p[below - 1])) --below;
        while (below < points && x > p[below]) ++below;
      }
      for (int k = 0; k < below; ++k) part[k] += simplex_part(x, p[k]);
      for (int k = 0; k < below; ++k) above_sum[k] += x;
      for (int k = 0; k < below; ++k) above_count[k] += 1;
      for (int k = 0; k < below; ++k) above_min[k] = std::min(above_min[k], x);
    }
  };
  // Out of order only where lo + hi overflows (v near the largest double): each point tested.
  const auto each_point = [&](double*) {
    for (double x : v_own) {
      for (int k = 0; k < points; ++k) {
        if (!(x > p[k])) continue;
        part[k] += simplex_part(x, p[k]);
        above_sum[k] += x;
        above_count[k] += 1;
        above_min[k] = std::min(above_min[k], x);
      }
    }
  };
  if (std::is_sorted(p, p + points)) {
    sum_in_row_order(comm, acc, 4 * points, in_order);
  } else {
    sum_in_row_order(comm, acc, 4 * points, each_point);
  }
  for (int k = 0; k < points; ++k) {
    t.part[k] = part[k];
    t.above_sum[k] = above_sum[k];
    t.above_count[k] = above_count[k];
    t.above_min[k] = above_min[k];
  }
}

struct Extent {
  std::int64_t n;
  double lo, hi;
};

}  // namespace

void project_simplex_ranks(const Comm& comm, std::vector<double>& v_own, int iterations) {
  // n, min v and max v in one allgather (exact in any order).
  Extent own{std::int64_t(v_own.size()), std::numeric_limits<double>::infinity(),
             -std::numeric_limits<double>::infinity()};
  for (double x : v_own) own.lo = std::min(own.lo, x), own.hi = std::max(own.hi, x);
  Extent all{0, own.lo, own.hi};
  for (const Extent& e : gather_one(comm, own)) {
    all.n += e.n;
    all.lo = std::min(all.lo, e.lo);
    all.hi = std::max(all.hi, e.hi);
  }
  const index_t n = index_t(all.n);
  if (n == 0) return;
  iterations = std::max(iterations, 0);  // none: Michelot from min v - 1/n
  // sum max(v - theta, 0) is decreasing in theta: >= 1 at min v - 1/n, 0 at max v.
  double lo = all.lo - 1.0 / double(n), hi = all.hi;
  // The bisection, per_pass halvings per ordered pass (the same decisions on the same sums as
  // one halving per pass), down to the bracket where the `iterations` halvings end, or to an
  // earlier one [lo, hi] with no v_i in (lo, hi]: the lower end the halvings would end on is in
  // [lo, hi], so it has lo's active set {v_i > lo}.
  TreeSums t;
  const int per_pass = comm.size() == 1 ? kTreeLevelsOneProcess : kTreeLevels;
  int halvings = 0, start = 0;
  for (;;) {
    tree_sums(comm, v_own, lo, hi, std::clamp(iterations - halvings, 0, per_pass), t);
    int i = 0, j = t.m;
    bool ended = false;
    for (;;) {
      if (t.above_count[i] == t.above_count[j] || halvings == iterations) {
        ended = true;
        break;
      }
      if (j - i == 1) break;  // this pass's leaf: the next pass cuts it
      const int mid = (i + j) / 2;
      (t.part[mid] > 1.0 ? i : j) = mid;
      ++halvings;
    }
    if (ended) {
      start = i;
      break;
    }
    lo = t.p[i];
    hi = t.p[j];
  }
  // Michelot from below: theta <= the root keeps the support inside the active set, and each
  // step raises theta towards the root; it stops when the active set no longer changes (or
  // theta no longer rises: the root to rounding). theta is then the formula over the final
  // active set, the support, whatever the bracket the bisection left.
  // From two lower ends a < b with no v_i in (a, b] the steps end on the same bits: the first
  // step's set and so its theta_1 are the same; if theta_1 > b both go on from theta_1 alike, if
  // theta_1 <= a both stop on it, and if a < theta_1 <= b, b stops on it and a takes one more
  // step over the same set (no v_i in (a, theta_1]), which stops on the same theta_1.
  // The pass's sums at theta_0 = p[start] are the first step's, and the second's when no v_i
  // lies in (theta_0, theta_1] (the same set again: it stops on theta_1).
  double theta = t.p[start];
  index_t previous = index_t(t.above_count[start]);
  {
    const double next = simplex_threshold(t.above_sum[start], t.above_count[start]);
    const bool done = !(next > theta);
    const bool same_set = t.above_min[start] > next;
    theta = next;
    if (done || same_set) {
      for (double& x : v_own) x = simplex_part(x, theta);
      return;
    }
  }
  for (index_t k = 1; k <= n; ++k) {
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
