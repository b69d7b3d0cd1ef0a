// The IFT weights split across ranks (schemes/ift/weight_ranks.hpp), P ranks simulated by P
// threads (tests/thread_comm.hpp; the MPI runs: tests/mpi, mpi_sharded_ift_*): the simplex
// projection the same bit for bit at every rank count (the 64-row grid of owned_rows, ranks
// without rows included) and, against the one-process sort method, the same support and weights
// to rounding; ties, zeros, negative entries, a vector already on the simplex. The KL step with
// the sum and the weight metrics give the one-process bits; the PGD step the projection's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <thread>
#include <vector>

#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/schemes/ift/simplex.hpp"
#include "nwgf/schemes/ift/weight_ranks.hpp"
#include "nwgf/schemes/ift/weight_step.hpp"
#include "tests/thread_comm.hpp"

namespace nwgf {
namespace {

using test::ThreadComm;
using test::World;

// f(comm, own rows) on each of P threads-as-ranks, each holding rows owned_rows(n, q, P) of v;
// the rows put back together.
std::vector<double> on_ranks(int ranks, const std::vector<double>& v,
                             const std::function<void(const Comm&, std::vector<double>&)>& f) {
  const index_t n = index_t(v.size());
  std::vector<double> out(v.size());
  World world(ranks);
  std::vector<std::thread> pool;
  for (int q = 0; q < ranks; ++q) {
    pool.emplace_back([&, q] {
      const ThreadComm comm(world, q);
      const auto [r0, r1] = owned_rows(n, q, ranks);
      std::vector<double> own(v.begin() + r0, v.begin() + r1);
      f(comm, own);
      std::copy(own.begin(), own.end(), out.begin() + r0);
    });
  }
  for (auto& t : pool) t.join();
  return out;
}

std::vector<double> uniform_values(index_t n, std::uint64_t stream, double lo, double hi) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    v[std::size_t(i)] = lo + (hi - lo) * philox_uniform<double>(3, stream, std::uint64_t(i));
  }
  return v;
}

void check_projection(const std::vector<double>& v) {
  INFO("n = " << v.size());
  const auto project = [](const Comm& comm, std::vector<double>& own) {
    project_simplex_ranks(comm, own);
  };
  const std::vector<double> one = on_ranks(1, v, project);
  for (int ranks : {2, 3, 4, 7}) {
    INFO("ranks = " << ranks);
    CHECK(on_ranks(ranks, v, project) == one);  // bit for bit
  }
  // theta is Michelot's formula over the support whatever bracket the bisection left: 12
  // halvings give the bits of 60.
  CHECK(on_ranks(3, v, [](const Comm& comm, std::vector<double>& own) {
          project_simplex_ranks(comm, own, 12);
        }) == one);
  std::vector<double> sorted = v;
  project_simplex_sort(sorted);
  double sum = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    CHECK(one[i] >= 0);
    CHECK((one[i] == 0) == (sorted[i] == 0));  // the same support
    CHECK(std::fabs(one[i] - sorted[i]) <= 1e-14);
    sum += one[i];
  }
  CHECK(std::fabs(sum - 1) <= 1e-13);
}

}  // namespace

TEST_CASE("project_simplex_ranks: the same bits at every rank count, the sort method's result") {
  // Random vectors (several 64-row blocks; 100 rows at 3 ranks: rank 0 owns none, at 7 several
  // ranks own none), a large spread (most weights clipped to zero) and a small one (none).
  check_projection(uniform_values(333, 1, -0.5, 1.0));
  check_projection(uniform_values(100, 2, -1.0, 1.0));
  check_projection(uniform_values(200, 3, 0.0, 0.01));
  check_projection(uniform_values(10, 4, -2.0, 3.0));  // one block: one rank holds all
  // Ties: equal values across rank boundaries, ties at the threshold, and one point.
  std::vector<double> ties(260);
  for (std::size_t i = 0; i < ties.size(); ++i) ties[i] = double(i % 5) * 0.25 - 0.3;
  check_projection(ties);
  check_projection(std::vector<double>(130, 0.5));  // all equal: 1/n each
  std::vector<double> two(150, 0.0);
  two[3] = two[140] = 3.0;  // theta = 2.5: 0.5 at rows 3 and 140, zeros elsewhere
  const std::vector<double> p =
      on_ranks(3, two, [](const Comm& c, std::vector<double>& o) { project_simplex_ranks(c, o); });
  CHECK(p[3] == 0.5);
  CHECK(p[140] == 0.5);
  CHECK(std::count(p.begin(), p.end(), 0.0) == 148);
  check_projection(two);
  check_projection({7.0});
  // Already on the simplex: unchanged to rounding (theta = (sum - 1) / n, the sum rounded).
  std::vector<double> on(190, 1.0 / 190);
  const std::vector<double> q =
      on_ranks(4, on, [](const Comm& c, std::vector<double>& o) { project_simplex_ranks(c, o); });
  for (std::size_t i = 0; i < on.size(); ++i) CHECK(std::fabs(q[i] - on[i]) <= 1e-16);
}

TEST_CASE("weight steps and metrics across ranks: the one-process steps") {
  const index_t n = 300;
  std::vector<double> w = uniform_values(n, 5, 0.0, 1.0);
  double s = 0;
  for (double x : w) s += x;
  for (double& x : w) x /= s;
  w[7] = w[200] = 0;  // zero weights
  const std::vector<double> g = uniform_values(n, 6, -2.0, 2.0);
  for (int ranks : {1, 2, 3, 4}) {
    INFO("ranks = " << ranks);
    // KL normalised by the sum: the one-process step bit for bit.
    std::vector<double> kl = w;
    weight_step_kl(kl, g, 0.3, MassConstraint::simplex, KlNormalise::sum);
    // Each rank passes its rows of g beside its rows of w.
    const auto kl_ranks = [&](const Comm& c, std::vector<double>& own) {
      const auto [r0, r1] = owned_rows(n, c.rank(), c.size());
      const std::vector<double> g_own(g.begin() + r0, g.begin() + r1);
      weight_step_kl_ranks(c, own, g_own, 0.3, MassConstraint::simplex, KlNormalise::sum);
    };
    CHECK(on_ranks(ranks, w, kl_ranks) == kl);
    // PGD on the simplex: the projection's result (the sort method's to rounding); on M+ the
    // clamp, bit for bit.
    for (MassConstraint mass : {MassConstraint::simplex, MassConstraint::nonnegative}) {
      std::vector<double> pgd = w;
      weight_step_pgd(pgd, g, 0.05, mass);
      const std::vector<double> got =
          on_ranks(ranks, w, [&](const Comm& c, std::vector<double>& own) {
            const auto [r0, r1] = owned_rows(n, c.rank(), c.size());
            const std::vector<double> g_own(g.begin() + r0, g.begin() + r1);
            weight_step_pgd_ranks(c, own, g_own, 0.05, mass);
          });
      for (std::size_t i = 0; i < pgd.size(); ++i) {
        CHECK(std::fabs(got[i] - pgd[i]) <= (mass == MassConstraint::simplex ? 1e-14 : 0.0));
      }
    }
    // The metrics: mass and ESS in row order, zeros and max exact.
    const WeightStats one = weight_stats(w);
    std::vector<WeightStats> per(static_cast<std::size_t>(ranks));
    on_ranks(ranks, w, [&](const Comm& c, std::vector<double>& own) {
      per[std::size_t(c.rank())] = weight_stats_ranks(c, own);
    });
    for (const WeightStats& st : per) {
      CHECK(st.mass == one.mass);
      CHECK(st.ess == one.ess);
      CHECK(st.zero_weights == one.zero_weights);
      CHECK(st.max_weight == one.max_weight);
    }
  }
}

}  // namespace nwgf

namespace nwgf {

TEST_CASE("solve_weight_qp_ranks: the dense FISTA solve, the same bits at every rank count") {
  // K a Gaussian Gram matrix of 150 points on the line (dense, positive definite); each rank's
  // products K v over its rows with v allgathered (the dense matvec's row sums, so only the
  // projection differs from solve_weight_qp's).
  const index_t n = 150;
  const std::vector<double> x = uniform_values(n, 7, -2.0, 2.0);
  std::vector<double> K(static_cast<std::size_t>(n * n));
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < n; ++j) {
      const double z = x[std::size_t(i)] - x[std::size_t(j)];
      K[std::size_t(i * n + j)] = std::exp(-0.5 * z * z);
    }
  }
  const std::vector<double> c = uniform_values(n, 8, 0.0, 1.0);
  const std::vector<double> start(static_cast<std::size_t>(n), 1.0 / double(n));
  for (MassConstraint mass : {MassConstraint::simplex, MassConstraint::nonnegative}) {
    const QpResult dense = solve_weight_qp(K, 0.5, c, start, 40, mass);
    std::vector<double> one;
    for (int ranks : {1, 2, 3, 4}) {
      INFO("ranks = " << ranks << ", simplex = " << (mass == MassConstraint::simplex));
      std::vector<double> objective(static_cast<std::size_t>(ranks));
      const std::vector<double> got =
          on_ranks(ranks, start, [&](const Comm& comm, std::vector<double>& own) {
            const auto starts = owned_row_starts(n, comm.size());
            const index_t r0 = starts[std::size_t(comm.rank())];
            std::vector<std::size_t> counts, offsets;
            for (int q = 0; q < comm.size(); ++q) {
              offsets.push_back(std::size_t(starts[std::size_t(q)]) * sizeof(double));
              counts.push_back(std::size_t(starts[std::size_t(q) + 1] - starts[std::size_t(q)]) *
                               sizeof(double));
            }
            const RowsMatvec matvec = [&](const std::vector<double>& v, std::vector<double>& kv) {
              std::vector<double> all(static_cast<std::size_t>(n));
              std::copy(v.begin(), v.end(), all.begin() + r0);
              comm.allgather(all.data(), counts, offsets);
              for (std::size_t i = 0; i < v.size(); ++i) {
                double s = 0;
                for (index_t j = 0; j < n; ++j) {
                  s += K[(std::size_t(r0) + i) * std::size_t(n) + std::size_t(j)] *
                       all[std::size_t(j)];
                }
                kv[i] = s;
              }
            };
            const std::vector<double> c_own(c.begin() + r0, c.begin() + r0 + index_t(own.size()));
            const QpResult r = solve_weight_qp_ranks(comm, matvec, r0, 0.5, c_own, own, 40, mass);
            own = r.b;
            objective[std::size_t(comm.rank())] = r.objective;
          });
      for (double j : objective)
        CHECK(std::fabs(j - dense.objective) <= 1e-12 * std::fabs(dense.objective));
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(std::fabs(got[i] - dense.b[i]) <= 1e-12);
      if (ranks == 1) one = got;
      CHECK(got == one);  // bit for bit
    }
    // The solve moved the weights (a test that could fail).
    double moved = 0;
    for (std::size_t i = 0; i < start.size(); ++i)
      moved = std::max(moved, std::fabs(dense.b[i] - start[i]));
    CHECK(moved > 1e-3);
  }
}

}  // namespace nwgf
