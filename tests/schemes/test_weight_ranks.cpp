// The IFT weights split across ranks (schemes/ift/weight_ranks.hpp), P ranks simulated by P
// threads (tests/thread_comm.hpp; the MPI runs: tests/mpi, mpi_sharded_ift_*): the simplex
// projection the same bit for bit at every rank count (the 64-row grid of owned_rows, ranks
// without rows included) and, against the one-process sort method, the same support and weights
// to rounding; ties, zeros, negative entries, a vector already on the simplex. The projection
// gives the bits of the halving-by-halving version it replaced (projection_before) on
// adversarial vectors, in the rounds counted by CountingComm. The KL step with the sum and the
// weight metrics give the one-process bits; the PGD step the projection's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/schemes/ift/simplex.hpp"
#include "nwgf/schemes/ift/weight_ranks.hpp"
#include "nwgf/schemes/ift/weight_step.hpp"
#include "nwgf/schemes/ift/weight_step_math.hpp"
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
  // halvings give the bits of 60 here (not for every vector: kNearTies below).
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

namespace nwgf {
namespace {

// Counts the rounds of messages a rank takes part in: each collective (broadcast, allgather,
// agree) is one; an ordered sum (sends along the ranks, then the last rank's broadcast) counts
// once, by its broadcast.
class CountingComm final : public Comm {
 public:
  explicit CountingComm(const Comm& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  const char* kind() const override { return inner_.kind(); }
  CommStatus agree(const CommStatus& local) const override {
    ++rounds;
    return inner_.agree(local);
  }
  void broadcast(void* data, std::size_t bytes, int root) const override {
    ++rounds;
    inner_.broadcast(data, bytes, root);
  }
  void allgather(void* data, const std::vector<std::size_t>& counts,
                 const std::vector<std::size_t>& offsets) const override {
    ++rounds;
    inner_.allgather(data, counts, offsets);
  }
  void send(const void* data, std::size_t bytes, int dest) const override {
    inner_.send(data, bytes, dest);
  }
  void recv(void* data, std::size_t bytes, int source) const override {
    inner_.recv(data, bytes, source);
  }
  mutable int rounds = 0;

 private:
  const Comm& inner_;
};

// Michelot's steps from theta (a lower end of the bracket), as project_simplex_ranks takes
// them; the threshold they end on. steps: how many.
double michelot_from(const std::vector<double>& v, double theta, int& steps) {
  index_t previous = -1;
  steps = 0;
  for (index_t k = 0; k <= index_t(v.size()); ++k) {
    double acc[2] = {0, 0};
    for (double x : v) {
      if (x > theta) acc[0] += x, acc[1] += 1;
    }
    ++steps;
    const index_t active = index_t(acc[1]);
    const double next = simplex_threshold(acc[0], acc[1]);
    const bool done = active == previous || !(next > theta);
    previous = active;
    theta = next;
    if (done) break;
  }
  return theta;
}

// The projection as project_simplex_ranks computed it before it cut the bisection in passes of
// several halvings (one process: its sums in row order are these loops), and the rounds it
// took across ranks: 3 allgathers (n, min, max), one ordered sum per halving and one per
// Michelot step. theta_out: the threshold.
std::vector<double> projection_before(std::vector<double> v, int iterations, int& rounds,
                                      double* theta_out = nullptr) {
  const index_t n = index_t(v.size());
  rounds = 3;
  if (n == 0) return v;
  double lo = *std::min_element(v.begin(), v.end()) - 1.0 / double(n);
  double hi = *std::max_element(v.begin(), v.end());
  for (int k = 0; k < iterations; ++k) {
    const double mid = 0.5 * (lo + hi);
    double s = 0;
    for (double x : v) s += simplex_part(x, mid);
    (s > 1.0 ? lo : hi) = mid;
    ++rounds;
  }
  int steps = 0;
  const double theta = michelot_from(v, lo, steps);
  rounds += steps;
  if (theta_out) *theta_out = theta;
  for (double& x : v) x = simplex_part(x, theta);
  return v;
}

// project_simplex_ranks at 1..4 and 7 ranks against projection_before, bit for bit; returns the
// most rounds any rank count took (the same at every count: every rank takes part in every
// round).
int check_same_bits(const std::vector<double>& v, int iterations, int& rounds_before) {
  INFO("n = " << v.size() << ", iterations = " << iterations);
  const std::vector<double> before = projection_before(v, iterations, rounds_before);
  int most = 0;
  for (int ranks : {1, 2, 3, 4, 7}) {
    INFO("ranks = " << ranks);
    std::vector<int> rounds(std::size_t(ranks), 0);
    const std::vector<double> got = on_ranks(ranks, v, [&](const Comm& c, std::vector<double>& o) {
      const CountingComm counting(c);
      project_simplex_ranks(counting, o, iterations);
      rounds[std::size_t(c.rank())] = counting.rounds;
    });
    bool same = got.size() == before.size();
    for (std::size_t i = 0; same && i < got.size(); ++i) {
      same = std::memcmp(&got[i], &before[i], sizeof(double)) == 0;
    }
    CHECK(same);
    for (int r : rounds) CHECK(r == rounds[0]);
    if (ranks > 1) most = std::max(most, rounds[0]);  // one rank: no messages, counted anyway
  }
  return most;
}

// v (n in [2, 41], values in +-scale) with 1..4 entries moved to within 2 ulps of its
// projection's threshold theta: Michelot's steps from a lower end with another active set than
// the halvings' end on other last bits for some of these (found by search: 5 in 500), so the
// passes must stop on a bracket with no v_i inside.
std::vector<double> near_threshold(std::uint64_t stream) {
  const auto u = [&](std::uint64_t k) { return philox_uniform<double>(21, stream, k); };
  const std::size_t n = 2 + std::size_t(u(0) * 40);
  const double scale = std::pow(10.0, std::floor(u(1) * 7) - 3);
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = (2 * u(2 + i) - 1) * scale;
  int rounds = 0;
  double theta = 0;
  projection_before(v, 60, rounds, &theta);
  const int moved = 1 + int(u(100) * 4);
  for (int r = 0; r < moved; ++r) {
    const std::size_t i = std::size_t(u(101 + std::uint64_t(r)) * double(n));
    const int ulps = int(std::floor(u(201 + std::uint64_t(r)) * 5)) - 2;
    double y = theta;
    for (int q = 0; q < std::abs(ulps); ++q) y = std::nextafter(y, ulps > 0 ? 1e300 : -1e300);
    v[std::min(i, n - 1)] = y;
  }
  return v;
}

// One of the searched vectors: Michelot's steps from its first entry (6.43..., below the
// halvings' lower end, 7.76...) end 1 ulp below the halvings' theta.
const std::vector<double> kNearTies = {
    6.4304537573776184, 7.7632301041379801, 6.5246041306627394, 7.8320426027318728,
    -9.878451424662968, 2.7282965874860765, 7.7632301041379792, -2.2234923297645812,
    8.6944176055440856, 6.8609465527263502, 4.1001022381777696, -9.7455339007585788,
    2.4493468303699428};

}  // namespace

TEST_CASE("project_simplex_ranks: the bits of the halving-by-halving projection, in few rounds") {
  // Rounds: 1 allgather, at most ceil(60 / 6) = 10 passes of the bisection's tree, then
  // Michelot's steps past the first (their sums at the tree's points give the first, and the
  // second where it changes no active set).
  int most = 0, most_before = 0, before = 0;
  const auto check = [&](const std::vector<double>& v, int iterations = 60) {
    const int r = check_same_bits(v, iterations, before);
    most = std::max(most, r);
    most_before = std::max(most_before, before);
    return r;
  };
  // Random vectors: the bracket holds no v_i after a few passes.
  for (index_t n : {1, 2, 5, 64, 100, 333, 5000}) {
    CHECK(check(uniform_values(n, 11, -0.5, 1.0)) <= 6);
    CHECK(check(uniform_values(n, 12, 0.0, 1e-3)) <= 6);  // nothing clipped
  }
  CHECK(check(uniform_values(2000, 13, -1e6, 1e6)) <= 7);  // one weight (the max) survives
  // One huge entry among zeros (theta = 0: the bracket holds the zeros to the last halving),
  // and among equal values, ties at the threshold and the root a data value.
  for (double big : {1.0, 1e6, 1e300}) {
    std::vector<double> v(150, 0.0);
    v[77] = big;
    check(v);
  }
  for (double a : {0.3, -7.25, 1e-300, 123456.789}) {
    std::vector<double> v(201, a);
    v[200] = a + 1;  // theta = a (to rounding)
    check(v);
    v[0] = a + 1;  // theta = a + 0.5
    check(v);
  }
  check(std::vector<double>(130, 0.5));
  check(std::vector<double>(65, 1e300));  // min v - 1/n rounds to min v
  check({1.7e308, 1.6e308, 1.65e308});     // lo + hi overflows: the midpoints out of order
  std::vector<double> ties(260);
  for (std::size_t i = 0; i < ties.size(); ++i) ties[i] = double(i % 5) * 0.25 - 0.3;
  check(ties);
  check({7.0});
  check({-3.0});
  check({});
  // Already on the simplex; geometric values (Michelot's steps drop one value at a time from
  // below); entries within 2 ulps of the threshold (near_threshold, kNearTies).
  check(std::vector<double>(190, 1.0 / 190));
  std::vector<double> geometric(200);
  for (std::size_t i = 0; i < geometric.size(); ++i) geometric[i] = std::ldexp(1.0, -int(i % 60));
  check(geometric);
  check(kNearTies);
  {
    int unused = 0;
    double theta = 0;
    projection_before(kNearTies, 60, unused, &theta);
    CHECK(michelot_from(kNearTies, kNearTies[0], unused) == std::nextafter(theta, -1e300));
  }
  for (std::uint64_t stream = 0; stream < 400; ++stream) check(near_threshold(stream));
  // Fewer halvings than 60, not a multiple of the 6 per pass: the same bits as as many halvings.
  for (int iterations : {-1, 0, 1, 7, 12, 13}) {
    check(uniform_values(333, 16, -0.5, 1.0), iterations);
    check(near_threshold(17), iterations);
  }
  MESSAGE("rounds per projection, worst case over these vectors: "
          << most << " (halving by halving: " << most_before << ")");
  CHECK(most <= 13);
  CHECK(most_before >= 63);
}

}  // namespace nwgf
