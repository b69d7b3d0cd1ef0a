// The sliced sums and gradient with O((N + M)/P) memory per rank (kernels/sliced_sharded.hpp):
// bit for bit the same at every rank count (P = 1 the reference: one process runs the same
// 64-row blocks), P ranks simulated by P threads (tests/thread_comm.hpp; the MPI runs: tests/mpi).
// Cases: N not a multiple of 64, M != N and M = 0, ranks without rows (of X, of Y or of both)
// and without directions, several chunks of directions, sums asked for or not, accumulate,
// f32 (packed sort) and f64. Against the one-GEMM SlicedRiesz::evaluate the projections may
// differ in the last bit: the difference is bounded. A transpose sending the wrong parts fails.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "nwgf/kernels/sliced_sharded.hpp"
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
  int threads;
  bool sums, accumulate;
};

template <class T>
struct Result {
  std::vector<T> grad;         // all rows, each from its owner
  std::vector<double> xx, xy;  // per rank
};

template <class T>
Result<T> run_sharded(const Case& c, int ranks, const std::vector<T>& x, const std::vector<T>& y,
                      const std::vector<T>& start, SlicedShardedOptions options = {}) {
  Result<T> res;
  res.grad = start;
  res.xx.assign(std::size_t(ranks), -1);
  res.xy.assign(std::size_t(ranks), -1);
  World world(ranks);
  const T sxx = T(-0.3), sxy = T(0.7);
  std::vector<std::thread> pool;
  for (int q = 0; q < ranks; ++q) {
    pool.emplace_back([&, q] {
      const ThreadComm comm(world, q);
      const Context ctx(Device::cpu, c.threads);
      SlicedRiesz<T> sliced(ctx, c.max_n, c.m, c.d, c.directions, ranks);
      sliced.draw_directions(ctx, 9, 4, 2);
      SlicedShardedBuffers<T> buffers;
      const auto [r0, r1] = owned_rows(c.n, q, ranks);
      const auto [t0, t1] = owned_rows(c.m, q, ranks);
      // The own rows only, copied out (nothing else of X or Y is reachable).
      std::vector<T> xo(x.begin() + r0 * c.d, x.begin() + r1 * c.d);
      std::vector<T> yo(y.begin() + t0 * c.d, y.begin() + t1 * c.d);
      const std::vector<T> go(start.begin() + r0 * c.d, start.begin() + r1 * c.d);
      std::vector<T> g;
      const auto r = std::size_t(q);
      // Twice: the buffers and the workspace are reused.
      for (int call = 0; call < 2; ++call) {
        g = go;
        sliced_gradient_sharded<T>(
            ctx, comm, sliced, ConstPointsView<T>(xo.data(), r1 - r0, c.d, Device::cpu), c.n,
            ConstPointsView<T>(yo.data(), t1 - t0, c.d, Device::cpu), c.m,
            c.sums ? &res.xx[r] : nullptr, c.sums ? &res.xy[r] : nullptr, sxx, sxy,
            PointsView<T>(g.data(), r1 - r0, c.d, Device::cpu), c.accumulate, buffers, options);
      }
      std::copy(g.begin(), g.end(), res.grad.begin() + r0 * c.d);
    });
  }
  for (auto& t : pool) t.join();
  return res;
}

template <class T>
void check_sharded(const Case& c) {
  INFO("n = " << c.n << ", m = " << c.m << ", d = " << c.d << ", S = " << c.directions
              << ", max_n = " << c.max_n << ", threads = " << c.threads << ", sums = " << c.sums
              << ", accumulate = " << c.accumulate << ", sizeof(T) = " << sizeof(T));
  const std::vector<T> x = points<T>(c.n, c.d, 1), y = points<T>(c.m, c.d, 2);
  const std::vector<T> start = points<T>(c.n, c.d, 3);  // grad before an accumulating call
  const Result<T> one = run_sharded<T>(c, 1, x, y, start);
  for (int ranks : {2, 3, 4, 7}) {
    INFO("ranks = " << ranks);
    const Result<T> got = run_sharded<T>(c, ranks, x, y, start);
    CHECK(std::memcmp(got.grad.data(), one.grad.data(), one.grad.size() * sizeof(T)) == 0);
    if (c.sums) {
      for (int q = 0; q < ranks; ++q) {
        CHECK(std::memcmp(&got.xx[std::size_t(q)], &one.xx[0], sizeof(double)) == 0);
        CHECK(std::memcmp(&got.xy[std::size_t(q)], &one.xy[0], sizeof(double)) == 0);
      }
    }
  }
  // Against one process's SlicedRiesz::evaluate (one GEMM over all rows): the same estimate,
  // projections that may differ in the last bit. Bounded relatively to the largest entry.
  const Context ctx(Device::cpu, c.threads);
  SlicedRiesz<T> ref(ctx, c.max_n, c.m, c.d, c.directions);
  ref.draw_directions(ctx, 9, 4, 2);
  std::vector<T> g = start;
  double xx = 0, xy = 0;
  ref.evaluate(ctx, ConstPointsView<T>(x.data(), c.n, c.d, Device::cpu),
               ConstPointsView<T>(y.data(), c.m, c.d, Device::cpu), &xx, &xy, T(-0.3), T(0.7),
               PointsView<T>(g.data(), c.n, c.d, Device::cpu), c.accumulate);
  double diff = 0, scale = 0;
  for (std::size_t k = 0; k < g.size(); ++k) {
    diff = std::max(diff, std::abs(double(g[k]) - double(one.grad[k])));
    scale = std::max(scale, std::abs(double(g[k])));
  }
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  const std::string note =
      "sharded vs one-GEMM: max |diff| / max |grad| = " + std::to_string(diff / scale) +
      (diff == 0 ? " (same bits)" : "");
  MESSAGE(note);
  CHECK(diff <= tol * scale);
  if (c.sums) {
    CHECK(std::abs(xx - one.xx[0]) <= tol * std::abs(xx));
    CHECK(std::abs(xy - one.xy[0]) <= tol * std::abs(xy));
  }
}

TEST_CASE("the sharded sliced gradient has the same bits at every rank count") {
  for (int threads : {1, 3}) {
    // Targets and sums; 2^25 / 2^20 = 32 directions per chunk: chunks of 32, 32, 6.
    check_sharded<float>({700, 90, 3, 70, index_t(1) << 20, threads, true, false});
    check_sharded<double>({700, 90, 3, 70, index_t(1) << 20, threads, true, true});
  }
  // The particle scheme's call: no sums, no targets; 100 rows = 2 blocks of 64, so some ranks
  // own no rows; 5 directions over up to 7 ranks.
  check_sharded<float>({100, 0, 2, 5, 100, 1, false, false});
  check_sharded<double>({130, 40, 5, 64, 130, 2, false, true});
  // M > N, d = 1, more ranks than directions and row blocks.
  check_sharded<float>({150, 333, 1, 3, 150, 2, true, false});
  check_sharded<double>({200, 70, 20, 16, 200, 1, true, false});
  // d = 784 (OpenBLAS splits K) and more rows: where one GEMM over all rows may round otherwise.
  check_sharded<float>({3000, 500, 784, 24, 3000, 2, true, false});
  check_sharded<double>({2500, 0, 784, 8, 2500, 1, false, false});
  check_sharded<float>({20000, 7000, 2, 8, 20000, 1, true, false});
}

TEST_CASE("a transpose that sends the wrong parts changes the sharded sliced gradient") {
  const Case c{300, 130, 2, 16, 300, 1, true, false};
  const std::vector<float> x = points<float>(c.n, c.d, 1), y = points<float>(c.m, c.d, 2);
  const std::vector<float> start(x.size(), 0.f);
  const Result<float> one = run_sharded<float>(c, 1, x, y, start);
  SlicedShardedOptions broken;
  broken.swap_transpose = true;
  // One rank: swapping does nothing; two or more: other projections sorted.
  CHECK(std::memcmp(run_sharded<float>(c, 1, x, y, start, broken).grad.data(), one.grad.data(),
                    one.grad.size() * sizeof(float)) == 0);
  for (int ranks : {2, 4}) {  // 16 directions split evenly: the parts keep their sizes
    const Result<float> got = run_sharded<float>(c, ranks, x, y, start, broken);
    CHECK(std::memcmp(got.grad.data(), one.grad.data(), one.grad.size() * sizeof(float)) != 0);
  }
}

TEST_CASE("the sharded sliced pass refuses a workspace for another rank count") {
  World world(1);
  const ThreadComm comm(world, 0);
  const Context ctx(Device::cpu, 1);
  SlicedRiesz<double> sliced(ctx, 10, 0, 2, 4, 2);  // for 2 ranks
  SlicedShardedBuffers<double> buffers;
  std::vector<double> x(20, 0.5), g(20);
  CHECK_THROWS(sliced_gradient_sharded<double>(
      ctx, comm, sliced, ConstPointsView<double>(x.data(), 10, 2, Device::cpu), 10,
      ConstPointsView<double>(), 0, nullptr, nullptr, 1.0, 0.0,
      PointsView<double>(g.data(), 10, 2, Device::cpu), false, buffers));
  // And evaluate() refuses a workspace for the sharded pass.
  CHECK_THROWS(sliced.evaluate(ctx, ConstPointsView<double>(x.data(), 10, 2, Device::cpu),
                               ConstPointsView<double>(), nullptr, nullptr, 1.0, 0.0,
                               PointsView<double>(g.data(), 10, 2, Device::cpu), false));
}

}  // namespace
}  // namespace nwgf
