// The sliced sums and gradient across ranks (kernels/sliced_ranks.hpp) give, bit for bit, what
// SlicedRiesz::evaluate gives in one process with the same thread count: P ranks simulated by P
// threads (tests/thread_comm.hpp; the MPI runs themselves: tests/mpi). Cases: with and without
// targets, sums asked for or not, accumulate, several chunks of directions (a large workspace,
// few rows used), ranks that own no rows or no directions, ties; f32 (packed sort) and f64.
// Also Comm::alltoallv itself, with uneven and empty parts.
#include <doctest/doctest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "nwgf/kernels/sliced_ranks.hpp"
#include "tests/kernels/philox_points.hpp"
#include "tests/thread_comm.hpp"

namespace nwgf {
namespace {

using test::ThreadComm;
using test::World;

template <class T>
std::vector<T> points(index_t n, index_t d, std::uint64_t stream) {
  return test::philox_points<T>(5, n, d, stream, true);
}

struct Case {
  index_t n, m, d;
  int directions;
  index_t max_n;  // > n: fewer directions per chunk (chunk = 2^25 / (max_n + max_m))
  int threads, ranks;
  bool sums, accumulate;
};

template <class T>
void check_ranks(const Case& c) {
  INFO("n = " << c.n << ", m = " << c.m << ", d = " << c.d << ", S = " << c.directions
              << ", max_n = " << c.max_n << ", threads = " << c.threads << ", ranks = " << c.ranks
              << ", sums = " << c.sums << ", accumulate = " << c.accumulate
              << ", sizeof(T) = " << sizeof(T));
  const std::vector<T> x = points<T>(c.n, c.d, 1), y = points<T>(c.m, c.d, 2);
  const std::vector<T> start = points<T>(c.n, c.d, 3);  // grad before an accumulating call
  const ConstPointsView<T> xv(x.data(), c.n, c.d, Device::cpu), yv(y.data(), c.m, c.d, Device::cpu);
  const T sxx = T(-0.3), sxy = T(0.7);

  const Context ctx(Device::cpu, c.threads);
  SlicedRiesz<T> one(ctx, c.max_n, c.m, c.d, c.directions);
  one.draw_directions(ctx, 9, 4, 2);
  std::vector<T> ref = start;
  double ref_xx = 0, ref_xy = 0;
  one.evaluate(ctx, xv, yv, c.sums ? &ref_xx : nullptr, c.sums ? &ref_xy : nullptr, sxx, sxy,
               PointsView<T>(ref.data(), c.n, c.d, Device::cpu), c.accumulate);

  World world(c.ranks);
  std::vector<std::vector<T>> got(std::size_t(c.ranks), start);
  std::vector<double> xx(std::size_t(c.ranks), -1), xy(std::size_t(c.ranks), -1);
  std::vector<std::thread> pool;
  for (int q = 0; q < c.ranks; ++q) {
    pool.emplace_back([&, q] {
      const ThreadComm comm(world, q);
      const Context rctx(Device::cpu, c.threads);
      SlicedRiesz<T> sliced(rctx, c.max_n, c.m, c.d, c.directions);
      sliced.draw_directions(rctx, 9, 4, 2);
      SlicedRanksBuffers<T> buffers;
      const auto r = std::size_t(q);
      // Twice: the buffers and the workspace are reused.
      for (int call = 0; call < 2; ++call) {
        got[r] = start;
        sliced_gradient_ranks<T>(
            rctx, comm, sliced, xv, yv, c.sums ? &xx[r] : nullptr, c.sums ? &xy[r] : nullptr, sxx,
            sxy, PointsView<T>(got[r].data(), c.n, c.d, Device::cpu), c.accumulate, buffers);
      }
    });
  }
  for (auto& t : pool) t.join();
  for (int q = 0; q < c.ranks; ++q) {
    const auto r = std::size_t(q);
    CHECK(std::memcmp(got[r].data(), ref.data(), ref.size() * sizeof(T)) == 0);
    if (c.sums) {
      CHECK(std::memcmp(&xx[r], &ref_xx, sizeof(double)) == 0);
      CHECK(std::memcmp(&xy[r], &ref_xy, sizeof(double)) == 0);
    }
  }
}

TEST_CASE("the sliced gradient across ranks is bit for bit one process's") {
  for (int ranks : {1, 2, 3, 4}) {
    for (int threads : {1, 3}) {
      // Targets and sums; 2^25 / 2^20 = 32 directions per chunk: chunks of 32, 32, 6.
      check_ranks<float>({700, 90, 3, 70, index_t(1) << 20, threads, ranks, true, false});
      check_ranks<double>({700, 90, 3, 70, index_t(1) << 20, threads, ranks, true, true});
      // The particle scheme's call: no sums, no targets; 100 rows = 2 blocks of 64, so some
      // ranks own no rows; 5 directions over up to 4 ranks.
      check_ranks<float>({100, 0, 2, 5, 100, threads, ranks, false, false});
      check_ranks<double>({130, 40, 5, 64, 130, threads, ranks, false, true});
    }
  }
  // More ranks than directions and than row blocks.
  check_ranks<float>({150, 20, 1, 3, 150, 2, 7, true, false});
}

TEST_CASE("alltoallv delivers every part, uneven and empty ones included") {
  constexpr int ranks = 4;
  // Rank a sends (a + 2 b) % 5 bytes to rank b, each byte 16 a + b + offset.
  const auto count = [](int a, int b) { return std::size_t((a + 2 * b) % 5); };
  World world(ranks);
  std::vector<int> ok(ranks, 0);
  std::vector<std::thread> pool;
  for (int q = 0; q < ranks; ++q) {
    pool.emplace_back([&, q] {
      const ThreadComm comm(world, q);
      std::vector<std::size_t> sc(ranks), so(ranks), rc(ranks), ro(ranks);
      std::size_t st = 1, rt = 3;  // parts start after a gap: offsets are honoured
      for (int r = 0; r < ranks; ++r) {
        so[std::size_t(r)] = st;
        sc[std::size_t(r)] = count(q, r);
        st += sc[std::size_t(r)];
        ro[std::size_t(r)] = rt;
        rc[std::size_t(r)] = count(r, q);
        rt += rc[std::size_t(r)] + 1;
      }
      std::vector<unsigned char> send(st, 0xee), recv(rt, 0xee);
      for (int r = 0; r < ranks; ++r) {
        for (std::size_t k = 0; k < sc[std::size_t(r)]; ++k) {
          send[so[std::size_t(r)] + k] = static_cast<unsigned char>(16 * q + r + int(k));
        }
      }
      comm.alltoallv(send.data(), sc, so, recv.data(), rc, ro);
      bool good = true;
      for (int r = 0; r < ranks; ++r) {
        for (std::size_t k = 0; k < rc[std::size_t(r)]; ++k) {
          good = good && recv[ro[std::size_t(r)] + k] == 16 * r + q + int(k);
        }
        // The byte after each part is untouched.
        good = good && recv[ro[std::size_t(r)] + rc[std::size_t(r)]] == 0xee;
      }
      ok[std::size_t(q)] = good;
    });
  }
  for (auto& t : pool) t.join();
  for (int q = 0; q < ranks; ++q) CHECK(ok[std::size_t(q)] == 1);
}

}  // namespace
}  // namespace nwgf
