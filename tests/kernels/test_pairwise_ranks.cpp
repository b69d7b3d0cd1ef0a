// The pairwise gradient across ranks (kernels/pairwise_ranks.hpp) gives, bit for bit, what
// pair_gradient gives in one process with the same thread count: P ranks simulated by P threads
// over an in-process communicator (tests/thread_comm.hpp; no MPI: this runs in every build, the
// sanitizer one too; the MPI runs themselves: tests/mpi). Cases: the self pass (d <= 3, split by
// its threads) and the row pass (d > 3; a target with weights, accumulated), f32 and f64, 1..5
// ranks, 1..4 threads; the energy and directional passes of the neural schemes' batches and the
// ift scheme's row sums (split by threads); the Gaussian family and the strided column views of
// energy33.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "tests/kernels/philox_points.hpp"
#include "tests/thread_comm.hpp"

namespace nwgf {
namespace {

using test::ThreadComm;
using test::World;

template <class T>
std::vector<T> points(index_t n, index_t d, std::uint64_t stream) {
  return test::philox_points<T>(7, n, d, stream);
}

// One process's gradient, then P ranks' (each its own copy of grad, every copy compared).
template <class T>
void check_ranks(index_t n, index_t d, index_t m, int threads, int ranks) {
  INFO("n = " << n << ", d = " << d << ", m = " << m << ", threads = " << threads
              << ", ranks = " << ranks << ", sizeof(T) = " << sizeof(T));
  const std::vector<T> x = points<T>(n, d, 1), y = points<T>(m, d, 2);
  std::vector<T> b(static_cast<std::size_t>(m));
  for (index_t j = 0; j < m; ++j) b[std::size_t(j)] = T(0.5 + double(j % 7) / double(m));
  const Context ctx(Device::cpu, threads);
  const ConstPointsView<T> xv(x.data(), n, d, Device::cpu), yv(y.data(), m, d, Device::cpu);
  std::vector<T> ref(static_cast<std::size_t>(n * d));
  const PointsView<T> rv(ref.data(), n, d, Device::cpu);
  riesz_gradient<T>(ctx, xv, nullptr, xv, nullptr, 1.5, T(-0.25), rv, false);
  if (m > 0) riesz_gradient<T>(ctx, xv, nullptr, yv, b.data(), 1.5, T(1), rv, true);

  World world(ranks);
  std::vector<std::vector<T>> got(std::size_t(ranks), std::vector<T>(ref.size(), T(7)));
  std::vector<std::thread> pool;
  for (int q = 0; q < ranks; ++q) {
    pool.emplace_back([&, q] {
      const ThreadComm comm(world, q);
      const Context rctx(Device::cpu, threads);
      const PointsView<T> gv(got[std::size_t(q)].data(), n, d, Device::cpu);
      pair_gradient_ranks<T>(rctx, comm, PairFamily::riesz, 1.5, xv, nullptr, xv, nullptr, T(-0.25),
                             gv, false);
      if (m > 0) {
        pair_gradient_ranks<T>(rctx, comm, PairFamily::riesz, 1.5, xv, nullptr, yv, b.data(), T(1),
                               gv, true);
      }
    });
  }
  for (auto& t : pool) t.join();
  for (int q = 0; q < ranks; ++q) {
    CHECK(std::memcmp(got[std::size_t(q)].data(), ref.data(), ref.size() * sizeof(T)) == 0);
  }
}

TEST_CASE("the self pass split by threads across ranks is bit for bit one process's") {
  // 1100 rows: 5 blocks of 256, so up to 5 threads; ranks beyond them idle.
  for (int threads : {1, 3, 4}) {
    for (int ranks : {1, 2, 3, 4, 5}) {
      check_ranks<double>(1100, 2, 0, threads, ranks);
      check_ranks<float>(1100, 3, 50, threads, ranks);
    }
  }
}

TEST_CASE("the row pass on the 64-row grid across ranks is bit for bit one process's") {
  for (int threads : {1, 2}) {
    for (int ranks : {1, 2, 3, 4, 7}) {
      check_ranks<double>(333, 5, 40, threads, ranks);
      check_ranks<float>(130, 17, 0, threads, ranks);
    }
  }
}

// The batch terms of the neural schemes: the energy pass of X against weighted Y, and the
// directional derivative with both gradients (grad_w accumulated onto a copy), one process's
// bits on every rank (value, coincident count, gradients). Some rows coincide with Y's.
template <class T>
void check_batch_ranks(index_t n, index_t m, index_t d, int threads, int ranks) {
  INFO("n = " << n << ", m = " << m << ", d = " << d << ", threads = " << threads
              << ", ranks = " << ranks << ", sizeof(T) = " << sizeof(T));
  std::vector<T> x = points<T>(n, d, 3), v = points<T>(n, d, 4);
  const std::vector<T> y = points<T>(m, d, 5), w = points<T>(m, d, 6);
  for (index_t k = 0; k < d; ++k) x[std::size_t(k)] = y[std::size_t(d + k)];  // x_0 = y_1
  std::vector<T> b(static_cast<std::size_t>(m));
  for (index_t j = 0; j < m; ++j) b[std::size_t(j)] = T(0.25 + double(j % 5) / double(m));
  const Context ctx(Device::cpu, threads);
  const ConstPointsView<T> xv(x.data(), n, d, Device::cpu), vv(v.data(), n, d, Device::cpu);
  const ConstPointsView<T> yv(y.data(), m, d, Device::cpu), wv(w.data(), m, d, Device::cpu);
  double energy = 0, dir = 0;
  index_t coincident = 0;
  std::vector<T> gv(std::size_t(n * d)), gw(std::size_t(m * d), T(0.5));
  riesz_energy<T>(ctx, xv, nullptr, yv, b.data(), 1.0, &energy);
  riesz_directional<T>(ctx, xv, vv, nullptr, yv, wv, b.data(), 1.0, &dir,
                       PointsView<T>(gv.data(), n, d, Device::cpu),
                       PointsView<T>(gw.data(), m, d, Device::cpu), T(0.75), false, &coincident);
  CHECK(coincident == 1);

  // The ift scheme's row sums: of X against weighted Y with the gradient, then accumulated
  // against X itself (whole on every rank for d <= 3).
  std::vector<T> vals(static_cast<std::size_t>(n)), gs(static_cast<std::size_t>(n * d));
  pair_row_sums_gradient<T>(ctx, PairFamily::riesz, 1.0, xv, nullptr, yv, b.data(), T(-1),
                            vals.data(), PointsView<T>(gs.data(), n, d, Device::cpu), false);
  pair_row_sums<T>(ctx, PairFamily::riesz, 1.0, xv, nullptr, xv, v.data(), T(1), vals.data(),
                   true);

  World world(ranks);
  std::vector<std::vector<T>> valss(std::size_t(ranks), std::vector<T>(vals.size(), T(3)));
  std::vector<std::vector<T>> gss(std::size_t(ranks), std::vector<T>(gs.size(), T(3)));
  std::vector<double> energies(std::size_t(ranks), -1), dirs(std::size_t(ranks), -1);
  std::vector<index_t> counts(std::size_t(ranks), -1);
  std::vector<std::vector<T>> gvs(std::size_t(ranks), std::vector<T>(gv.size(), T(7)));
  std::vector<std::vector<T>> gws(std::size_t(ranks), std::vector<T>(gw.size(), T(0.5)));
  std::vector<std::thread> pool;
  for (int q = 0; q < ranks; ++q) {
    pool.emplace_back([&, q] {
      const ThreadComm comm(world, q);
      const Context rctx(Device::cpu, threads);
      const std::size_t k = std::size_t(q);
      pair_energy_ranks<T>(rctx, comm, PairFamily::riesz, 1.0, xv, nullptr, yv, b.data(),
                           &energies[k]);
      riesz_directional_ranks<T>(rctx, comm, xv, vv, nullptr, yv, wv, b.data(), 1.0, &dirs[k],
                                 PointsView<T>(gvs[k].data(), n, d, Device::cpu),
                                 PointsView<T>(gws[k].data(), m, d, Device::cpu), T(0.75), false,
                                 &counts[k]);
      pair_row_sums_gradient_ranks<T>(rctx, comm, PairFamily::riesz, 1.0, xv, nullptr, yv,
                                      b.data(), T(-1), valss[k].data(),
                                      PointsView<T>(gss[k].data(), n, d, Device::cpu), false);
      pair_row_sums_ranks<T>(rctx, comm, PairFamily::riesz, 1.0, xv, nullptr, xv, v.data(), T(1),
                             valss[k].data(), true);
    });
  }
  for (auto& t : pool) t.join();
  for (int q = 0; q < ranks; ++q) {
    const std::size_t k = std::size_t(q);
    CHECK(std::memcmp(&energies[k], &energy, sizeof(double)) == 0);
    CHECK(std::memcmp(&dirs[k], &dir, sizeof(double)) == 0);
    CHECK(counts[k] == coincident);
    CHECK(std::memcmp(gvs[k].data(), gv.data(), gv.size() * sizeof(T)) == 0);
    CHECK(std::memcmp(gws[k].data(), gw.data(), gw.size() * sizeof(T)) == 0);
    CHECK(std::memcmp(valss[k].data(), vals.data(), vals.size() * sizeof(T)) == 0);
    CHECK(std::memcmp(gss[k].data(), gs.data(), gs.size() * sizeof(T)) == 0);
  }
}

TEST_CASE("the batch terms split by threads across ranks are bit for bit one process's") {
  // 200 rows: 4 blocks of 64 (the last partial); more threads than blocks leave some idle.
  for (int threads : {1, 2, 3, 6}) {
    for (int ranks : {1, 2, 3, 4}) {
      check_batch_ranks<double>(200, 150, 2, threads, ranks);
      check_batch_ranks<float>(200, 70, 3, threads, ranks);
      check_batch_ranks<float>(130, 40, 20, threads, ranks);
    }
  }
}

// The functionals beyond Riesz (schemes/functional_gaussian.cpp, energy33 in
// schemes/functional.cpp): the Gaussian family's self gradient (d <= 3: split by threads; d > 3:
// rows owned), its target term and energy; and energy33's pair terms, the Riesz sums of the y
// column of (n, 2) matrices (strided views, ld 2) weighted by a 0/1 mask: the self gradient, the
// two batch halves against each other (energy, gradients) and the directional derivative, all
// accumulated onto the potential's part. Column 0 of every rank's gradient matrices is that
// rank's own (its rank number): the strided gathers must leave it as it is.
template <class T>
void check_family_ranks(index_t n, index_t d, int threads, int ranks) {
  INFO("n = " << n << ", d = " << d << ", threads = " << threads << ", ranks = " << ranks
              << ", sizeof(T) = " << sizeof(T));
  const index_t m = 90, half = n / 2;
  const double sigma = 0.7;
  const std::vector<T> x = points<T>(n, d, 8), y = points<T>(m, d, 9);
  std::vector<T> b(static_cast<std::size_t>(m));
  for (index_t j = 0; j < m; ++j) b[std::size_t(j)] = T(1.0 / double(m) + double(j % 3) / 1000.0);
  const std::vector<T> z = points<T>(n, 2, 10), u = points<T>(n, 2, 11);
  std::vector<T> mask(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) mask[std::size_t(i)] = T(z[std::size_t(2 * i)] >= 0 ? 1 : 0);
  const auto column = [](const T* base, index_t first, index_t count) {
    return ConstPointsView<T>(base + first * 2 + 1, count, 1, 2, Device::cpu);
  };
  const auto gcolumn = [](std::vector<T>& g, index_t first, index_t count) {
    return PointsView<T>(g.data() + first * 2 + 1, count, 1, 2, Device::cpu);
  };
  const ConstPointsView<T> xv(x.data(), n, d, Device::cpu), yv(y.data(), m, d, Device::cpu);
  const T *a1 = mask.data(), *a2 = mask.data() + half;

  // One process.
  const Context ctx(Device::cpu, threads);
  std::vector<T> g(static_cast<std::size_t>(n * d));
  const PointsView<T> gv(g.data(), n, d, Device::cpu);
  gaussian_gradient<T>(ctx, xv, nullptr, xv, nullptr, sigma, T(0.5), gv, false);
  gaussian_gradient<T>(ctx, xv, nullptr, yv, b.data(), sigma, T(-1), gv, true);
  double ge = 0, e33 = 0, d33 = 0;
  index_t coincident = 0;
  gaussian_energy<T>(ctx, xv, nullptr, yv, b.data(), sigma, &ge);
  std::vector<T> gs(z.size(), T(-1)), gb(z.size(), T(-1)), gd(z.size(), T(-1));
  riesz_gradient<T>(ctx, column(z.data(), 0, n), a1, column(z.data(), 0, n), a1, 1.0, T(-0.1),
                    gcolumn(gs, 0, n), true);
  riesz_energy<T>(ctx, column(z.data(), 0, half), a1, column(z.data(), half, n - half), a2, 1.0,
                  &e33);
  riesz_gradient<T>(ctx, column(z.data(), 0, half), a1, column(z.data(), half, n - half), a2, 1.0,
                    T(0.3), gcolumn(gb, 0, half), true);
  riesz_gradient<T>(ctx, column(z.data(), half, n - half), a2, column(z.data(), 0, half), a1, 1.0,
                    T(0.3), gcolumn(gb, half, n - half), true);
  riesz_directional<T>(ctx, column(z.data(), 0, half), column(u.data(), 0, half), a1,
                       column(z.data(), half, n - half), column(u.data(), half, n - half), a2, 1.0,
                       &d33, gcolumn(gd, 0, half), gcolumn(gd, half, n - half), T(0.2), true,
                       &coincident);

  World world(ranks);
  const auto own = [](std::size_t size, int q) {
    std::vector<T> v(size, T(-1));
    for (std::size_t i = 0; i < size; i += 2) v[i] = T(q);
    return v;
  };
  std::vector<std::vector<T>> gq(std::size_t(ranks), std::vector<T>(g.size(), T(7)));
  std::vector<std::vector<T>> gsq, gbq, gdq;
  for (int q = 0; q < ranks; ++q) {
    gsq.push_back(own(z.size(), q));
    gbq.push_back(own(z.size(), q));
    gdq.push_back(own(z.size(), q));
  }
  std::vector<double> geq(std::size_t(ranks), -1), e33q(std::size_t(ranks), -1),
      d33q(std::size_t(ranks), -1);
  std::vector<index_t> cq(std::size_t(ranks), -1);
  std::vector<std::thread> pool;
  for (int q = 0; q < ranks; ++q) {
    pool.emplace_back([&, q] {
      const ThreadComm comm(world, q);
      const Context rctx(Device::cpu, threads);
      const std::size_t k = std::size_t(q);
      const PointsView<T> gqv(gq[k].data(), n, d, Device::cpu);
      pair_gradient_ranks<T>(rctx, comm, PairFamily::gaussian, sigma, xv, nullptr, xv, nullptr,
                             T(0.5), gqv, false);
      pair_gradient_ranks<T>(rctx, comm, PairFamily::gaussian, sigma, xv, nullptr, yv, b.data(),
                             T(-1), gqv, true);
      pair_energy_ranks<T>(rctx, comm, PairFamily::gaussian, sigma, xv, nullptr, yv, b.data(),
                           &geq[k]);
      pair_gradient_ranks<T>(rctx, comm, PairFamily::riesz, 1.0, column(z.data(), 0, n), a1,
                             column(z.data(), 0, n), a1, T(-0.1), gcolumn(gsq[k], 0, n), true);
      pair_energy_ranks<T>(rctx, comm, PairFamily::riesz, 1.0, column(z.data(), 0, half), a1,
                           column(z.data(), half, n - half), a2, &e33q[k]);
      pair_gradient_ranks<T>(rctx, comm, PairFamily::riesz, 1.0, column(z.data(), 0, half), a1,
                             column(z.data(), half, n - half), a2, T(0.3),
                             gcolumn(gbq[k], 0, half), true);
      pair_gradient_ranks<T>(rctx, comm, PairFamily::riesz, 1.0, column(z.data(), half, n - half),
                             a2, column(z.data(), 0, half), a1, T(0.3),
                             gcolumn(gbq[k], half, n - half), true);
      riesz_directional_ranks<T>(rctx, comm, column(z.data(), 0, half), column(u.data(), 0, half),
                                 a1, column(z.data(), half, n - half),
                                 column(u.data(), half, n - half), a2, 1.0, &d33q[k],
                                 gcolumn(gdq[k], 0, half), gcolumn(gdq[k], half, n - half),
                                 T(0.2), true, &cq[k]);
    });
  }
  for (auto& t : pool) t.join();
  // The one-process column 1 with rank q's column 0.
  const auto same = [](const std::vector<T>& got, const std::vector<T>& ref, int q) {
    std::vector<T> v = ref;
    for (std::size_t i = 0; i < v.size(); i += 2) v[i] = T(q);
    return std::memcmp(got.data(), v.data(), v.size() * sizeof(T)) == 0;
  };
  for (int q = 0; q < ranks; ++q) {
    const std::size_t k = std::size_t(q);
    CHECK(std::memcmp(gq[k].data(), g.data(), g.size() * sizeof(T)) == 0);
    CHECK(std::memcmp(&geq[k], &ge, sizeof(double)) == 0);
    CHECK(std::memcmp(&e33q[k], &e33, sizeof(double)) == 0);
    CHECK(std::memcmp(&d33q[k], &d33, sizeof(double)) == 0);
    CHECK(cq[k] == coincident);
    CHECK(same(gsq[k], gs, q));
    CHECK(same(gbq[k], gb, q));
    CHECK(same(gdq[k], gd, q));
  }
}

TEST_CASE("the Gaussian family and strided column views across ranks are one process's") {
  // 300 rows: 5 row blocks of 64 (the last partial), 2 self-pass blocks of 256.
  for (int threads : {1, 2, 4}) {
    for (int ranks : {1, 2, 3, 4}) {
      check_family_ranks<double>(300, 2, threads, ranks);
      check_family_ranks<float>(300, 3, threads, ranks);
      check_family_ranks<double>(200, 6, threads, ranks);
    }
  }
}

TEST_CASE("a failure on one rank reaches every rank as the same error") {
  World world(3);
  std::vector<int> codes(3, 0);
  std::vector<std::string> messages(3);
  std::vector<std::thread> pool;
  for (int q = 0; q < 3; ++q) {
    pool.emplace_back([&, q] {
      const ThreadComm comm(world, q);
      try {
        collective(comm, [&] {
          if (q == 1) throw_bad_input("rank 1 cannot read its config");
        });
      } catch (const Error& e) {
        codes[std::size_t(q)] = e.exit_code();
        messages[std::size_t(q)] = e.what();
      }
    });
  }
  for (auto& t : pool) t.join();
  for (int q = 0; q < 3; ++q) {
    CHECK(codes[std::size_t(q)] == 2);
    CHECK(messages[std::size_t(q)] == "rank 1 cannot read its config");
  }
}

}  // namespace
}  // namespace nwgf
