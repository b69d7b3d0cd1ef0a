#pragma once
// The IFT weight vector split across ranks (flow.memory = "sharded"): rank q holds the rows
// [first_q, first_{q+1}) of w (ranks in row order, some possibly with none), and every result is
// the same bit for bit at any rank count P, one process included:
//   - sums run over the rows in global row order, continued rank to rank (rank q receives the
//     running sums from q - 1, adds its rows, passes them on; the last rank broadcasts them), so
//     every sum is the plain one-process loop's, bit for bit; no MPI_SUM of floats;
//   - minima, maxima and counts are exact in any order (one allgather).
// The simplex projection (simplex.hpp) by bisection on the threshold theta,
// sum_i max(v_i - theta, 0) = 1, in double: 60 halvings of [min v - 1/n, max v] (each decided by
// an ordered sum), then Michelot's step theta <- (sum_{v_i > theta} v_i - 1) / #{v_i > theta}
// from the bracket's lower end until the active set stops changing (the sort method's formula on
// the projection's support). Those bits in few rounds of messages:
//   - n, min v and max v in one allgather;
//   - each ordered sum carries the sums at all 65 points of the bracket cut 6 times (one pass: 6
//     halvings, the same decisions on the same sums);
//   - the halvings stop early at a bracket [lo, hi] with no v_i in (lo, hi]: the lower end the 60
//     halvings end on has lo's active set, and Michelot's steps from two lower ends with the same
//     active set end on the same bits (weight_ranks.cpp);
//   - the pass's sums at lo give Michelot's first step, and its second where it stops.
// Rounds (each P - 1 sends and one broadcast, or one allgather): 2-5 for random vectors, 1 + 10
// passes + Michelot's further steps at most: 12 for one large entry among zeros (the root a data
// value), 13 the most measured (entries within 2 ulps of the threshold), against 63-66 halving
// by halving (tests/schemes/test_weight_ranks.cpp counts them). Memory
// O(n/P) per rank and 2 KiB per message. Against the one-process sort method
// (project_simplex_sort) the support is the same and theta differs only by the order of the
// support's sum (rounding).
#include <functional>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/config_enums.hpp"
#include "nwgf/schemes/ift/qp.hpp"
#include "nwgf/schemes/ift/weight_step.hpp"

namespace nwgf {

// acc (count doubles, the same initial values on every rank) <- add(acc) over every rank's rows
// in rank order (add sums this rank's rows into acc, in row order); on every rank.
void sum_in_row_order(const Comm& comm, double* acc, int count,
                      const std::function<void(double*)>& add);
// The minimum / maximum of one value per rank (+inf / -inf for a rank without rows), and the
// total of one count per rank, on every rank (exact).
double min_across(const Comm& comm, double v);
double max_across(const Comm& comm, double v);
index_t count_across(const Comm& comm, index_t v);

// v_own: this rank's rows of v, projected onto the simplex in place (see above).
void project_simplex_ranks(const Comm& comm, std::vector<double>& v_own, int iterations = 60);

// The weight steps of weight_step.hpp on the own rows (w_own, g_own: this rank's rows), the
// per-weight math of weight_step_math.hpp: pgd (simplex: project_simplex_ranks; nonnegative: the
// clamp), kl (sum: shifted by the global min g, divided by the ordered sum, the one-process
// step's bits; project: project_simplex_ranks).
void weight_step_pgd_ranks(const Comm& comm, std::vector<double>& w_own,
                           const std::vector<double>& g_own, double eta, MassConstraint mass);
void weight_step_kl_ranks(const Comm& comm, std::vector<double>& w_own,
                          const std::vector<double>& g_own, double eta, MassConstraint mass,
                          KlNormalise normalise);
// The exact weight step's program (qp.hpp) with K given by its products on the own rows:
// matvec(v_own, kv_own) sets kv_own <- (K v) on this rank's rows from every rank's v_own (a
// pair pass across ranks; called by every rank together). spectral_radius_ranks and
// solve_weight_qp_ranks are qp.hpp's power iteration and FISTA step for step, their vectors
// split by rows, their sums in row order (the same bits at any rank count; against the
// one-process dense solve, the products' and sums' order and the projection differ in rounding).
// first: the global index of this rank's first row (the power iteration's start vector).
using RowsMatvec = std::function<void(const std::vector<double>&, std::vector<double>&)>;
double spectral_radius_ranks(const Comm& comm, const RowsMatvec& matvec, std::size_t rows,
                             index_t first, int iterations = 100);
QpResult solve_weight_qp_ranks(const Comm& comm, const RowsMatvec& matvec, index_t first,
                               double eta, const std::vector<double>& c_own,
                               const std::vector<double>& start_own, index_t iterations,
                               MassConstraint mass);

// weight_stats over all ranks' rows: mass and sum w^2 in row order (weight_stats' bits), zeros
// and max exact.
WeightStats weight_stats_ranks(const Comm& comm, const std::vector<double>& w_own);

}  // namespace nwgf
