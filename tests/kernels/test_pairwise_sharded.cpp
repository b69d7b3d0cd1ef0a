// The sharded pairwise passes (kernels/pairwise_sharded.hpp): each rank holds only its rows of X
// and its block of Y, Y streams past in chunks, and each rank's rows of the gradient, row sums,
// the row sums with the gradient in one pass (Gaussian),
// the energy, and the directional derivative's D, rows of dD/dv and coincident pairs (W streamed
// beside Y) and the rows of dD/dw (the rows of Y against X, riesz_directional_dw_sharded) are
// bit for bit what one process's row pass gives (pair_gradient with Y a
// separate copy of X, so no self pass), with the same thread count. P ranks simulated by P
// threads (tests/thread_comm.hpp); 1..4 and 7 ranks, f32/f64, d = 2, 3, 20, 100, ranks with no
// rows, N not a multiple of anything, small chunks (tiles cut by chunk and rank boundaries), and
// the chunks streamed in the wrong order (the bits must then differ: the check sees the order).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/pairwise_sharded.hpp"
#include "tests/kernels/philox_points.hpp"
#include "tests/thread_comm.hpp"

namespace nwgf {
namespace {

using test::ThreadComm;
using test::World;

template <class T>
std::vector<T> points(index_t n, index_t d, std::uint64_t stream) {
  return test::philox_points<T>(11, n, d, stream);
}

struct Case {
  index_t n, m, d;
  int threads, ranks;
  index_t chunk = 0;      // ShardedOptions::chunk_columns
  bool self = false;      // Y = X (the particle flow's interaction)
  bool reverse = false;   // stream the chunks in the wrong order
};

// What one rank returns: its rows of the gradient and the row sums, and the energy.
template <class T>
struct RankResult {
  std::vector<T> grad, values, grad_v, grad_w, vg_values, vg_grad;
  double energy = 0, directional = 0;
  index_t coincident = -1;
};

// Runs the case; returns how many ranks' results differ from one process's in any bit.
template <class T>
int mismatches(const Case& c) {
  const index_t n = c.n, d = c.d, m = c.self ? c.n : c.m;
  const std::vector<T> x = points<T>(n, d, 1);
  const std::vector<T> y = c.self ? x : points<T>(m, d, 2);  // a copy: the row pass
  std::vector<T> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(m));
  for (index_t i = 0; i < n; ++i) a[std::size_t(i)] = T(0.75 + double(i % 5) / 8.0);
  for (index_t j = 0; j < m; ++j) b[std::size_t(j)] = T(0.5 + double(j % 7) / double(m + 1));
  const T* aw = c.self ? nullptr : a.data();
  const T* bw = c.self ? nullptr : b.data();
  const Context ctx(Device::cpu, c.threads);
  const ConstPointsView<T> xv(x.data(), n, d), yv(y.data(), m, d);
  std::vector<T> ref_g(static_cast<std::size_t>(n * d), T(0.125));
  std::vector<T> ref_v(static_cast<std::size_t>(n));
  double ref_e = 0;
  pair_gradient<T>(ctx, PairFamily::riesz, 1.5, xv, aw, yv, bw, T(-0.5),
                   PointsView<T>(ref_g.data(), n, d), true);
  pair_row_sums<T>(ctx, PairFamily::riesz, 1.5, xv, aw, yv, bw, T(2), ref_v.data(), false);
  pair_energy<T>(ctx, PairFamily::riesz, 1.5, xv, aw, yv, bw, &ref_e);
  // The row sums and the gradient in one pass (the Gaussian family: one exponential for both).
  std::vector<T> ref_vgv(static_cast<std::size_t>(n), T(3));
  std::vector<T> ref_vgg(static_cast<std::size_t>(n * d), T(0.5));
  pair_row_sums_gradient<T>(ctx, PairFamily::gaussian, 0.8, xv, aw, yv, bw, T(-1.5),
                            ref_vgv.data(), PointsView<T>(ref_vgg.data(), n, d), true);
  // The directional pass (v, w: the velocities; Y = X: w a copy of v, and every diagonal pair
  // coincides).
  const std::vector<T> v = points<T>(n, d, 5);
  const std::vector<T> w = c.self ? v : points<T>(m, d, 6);
  const ConstPointsView<T> vv(v.data(), n, d), wv(w.data(), m, d);
  std::vector<T> ref_gv(static_cast<std::size_t>(n * d), T(0.25));
  std::vector<T> ref_gw(static_cast<std::size_t>(m * d), T(-0.125));
  double ref_d = 0;
  index_t ref_count = 0;
  riesz_directional<T>(ctx, xv, vv, aw, yv, wv, bw, 1.5, &ref_d, PointsView<T>(ref_gv.data(), n, d),
                       PointsView<T>(ref_gw.data(), m, d), T(0.75), true, &ref_count);

  const std::vector<index_t> xf = owned_row_starts(n, c.ranks), yf = owned_row_starts(m, c.ranks);
  World world(c.ranks);
  std::vector<RankResult<T>> got(static_cast<std::size_t>(c.ranks));
  std::vector<std::thread> pool;
  for (int q = 0; q < c.ranks; ++q) {
    pool.emplace_back([&, q] {
      const ThreadComm comm(world, q);
      const Context rctx(Device::cpu, c.threads);
      const std::size_t k = std::size_t(q);
      const index_t r0 = xf[k], rows = xf[k + 1] - r0, c0 = yf[k], cols = yf[k + 1] - c0;
      // Only the own rows and the own block, in copies of their own.
      const std::vector<T> xo(x.begin() + r0 * d, x.begin() + (r0 + rows) * d);
      const std::vector<T> yo(y.begin() + c0 * d, y.begin() + (c0 + cols) * d);
      const std::vector<T> ao(a.begin() + r0, a.begin() + r0 + rows);
      const std::vector<T> bo(b.begin() + c0, b.begin() + c0 + cols);
      const std::vector<T> vo(v.begin() + r0 * d, v.begin() + (r0 + rows) * d);
      const std::vector<T> wo(w.begin() + c0 * d, w.begin() + (c0 + cols) * d);
      RankResult<T>& r = got[k];
      r.grad.assign(std::size_t(rows * d), T(0.125));
      r.values.assign(std::size_t(rows), T(9));
      ShardedOptions o;
      o.chunk_columns = c.chunk;
      o.reverse_chunks = c.reverse;
      const ConstPointsView<T> xov(xo.data(), rows, d), yov(yo.data(), cols, d);
      pair_gradient_sharded<T>(rctx, comm, PairFamily::riesz, 1.5, xov, c.self ? nullptr : ao.data(),
                               n, yov, c.self ? nullptr : bo.data(), m, T(-0.5),
                               PointsView<T>(r.grad.data(), rows, d), true, o);
      pair_energy_sharded<T>(rctx, comm, PairFamily::riesz, 1.5, xov, c.self ? nullptr : ao.data(),
                             n, yov, c.self ? nullptr : bo.data(), m, &r.energy, T(2),
                             r.values.data(), false, o);
      r.vg_values.assign(std::size_t(rows), T(3));
      r.vg_grad.assign(std::size_t(rows * d), T(0.5));
      pair_row_sums_gradient_sharded<T>(rctx, comm, PairFamily::gaussian, 0.8, xov,
                                        c.self ? nullptr : ao.data(), n, yov,
                                        c.self ? nullptr : bo.data(), m, T(-1.5),
                                        r.vg_values.data(),
                                        PointsView<T>(r.vg_grad.data(), rows, d), true, o);
      r.grad_v.assign(std::size_t(rows * d), T(0.25));
      riesz_directional_sharded<T>(
          rctx, comm, xov, ConstPointsView<T>(vo.data(), rows, d), c.self ? nullptr : ao.data(), n,
          yov, ConstPointsView<T>(wo.data(), cols, d), c.self ? nullptr : bo.data(), m, 1.5,
          &r.directional, PointsView<T>(r.grad_v.data(), rows, d), T(0.75), true, &r.coincident, o);
      r.grad_w.assign(std::size_t(cols * d), T(-0.125));
      riesz_directional_dw_sharded<T>(
          rctx, comm, xov, ConstPointsView<T>(vo.data(), rows, d), c.self ? nullptr : ao.data(), n,
          yov, ConstPointsView<T>(wo.data(), cols, d), c.self ? nullptr : bo.data(), m, 1.5,
          PointsView<T>(r.grad_w.data(), cols, d), T(0.75), true, o);
    });
  }
  for (auto& t : pool) t.join();
  int bad = 0;
  for (int q = 0; q < c.ranks; ++q) {
    const std::size_t k = std::size_t(q);
    const index_t r0 = xf[k], rows = xf[k + 1] - r0, c0 = yf[k], cols = yf[k + 1] - c0;
    const RankResult<T>& r = got[k];
    // A rank without rows has empty vectors (data() may be null, which memcmp must not get).
    const auto same_bytes = [](const void* a, const void* b, std::size_t bytes) {
      return bytes == 0 || std::memcmp(a, b, bytes) == 0;
    };
    const bool same =
        same_bytes(r.grad.data(), ref_g.data() + r0 * d, std::size_t(rows * d) * sizeof(T)) &&
        same_bytes(r.values.data(), ref_v.data() + r0, std::size_t(rows) * sizeof(T)) &&
        same_bytes(&r.energy, &ref_e, sizeof(double)) &&
        same_bytes(r.vg_values.data(), ref_vgv.data() + r0, std::size_t(rows) * sizeof(T)) &&
        same_bytes(r.vg_grad.data(), ref_vgg.data() + r0 * d, std::size_t(rows * d) * sizeof(T)) &&
        same_bytes(r.grad_v.data(), ref_gv.data() + r0 * d, std::size_t(rows * d) * sizeof(T)) &&
        same_bytes(r.grad_w.data(), ref_gw.data() + c0 * d, std::size_t(cols * d) * sizeof(T)) &&
        same_bytes(&r.directional, &ref_d, sizeof(double)) && r.coincident == ref_count;
    bad += same ? 0 : 1;
  }
  return bad;
}

template <class T>
void check_same(const Case& c) {
  INFO("n = " << c.n << ", m = " << c.m << ", d = " << c.d << ", threads = " << c.threads
              << ", ranks = " << c.ranks << ", chunk = " << c.chunk << ", self = " << c.self
              << ", sizeof(T) = " << sizeof(T));
  CHECK(mismatches<T>(c) == 0);
}

TEST_CASE("sharded passes are bit for bit one process's row pass") {
  for (int ranks : {1, 2, 3, 4, 7}) {
    for (int threads : {1, 3}) {
      // d = 2, 3: transposed tiles (jb = 1024 columns in f32 at d = 2, 1360 in f64 at d = 3).
      check_same<float>({2500, 3100, 2, threads, ranks});
      check_same<double>({1300, 2222, 3, threads, ranks, 700});
      // Chunks shorter than a tile and not a multiple of 64 either: tiles cut everywhere.
      check_same<float>({333, 2049, 2, threads, ranks, 1});
      // d = 20, 100: Y read in place (jb = 3276 in f32 at d = 20, 327 in f64 at d = 100).
      check_same<float>({190, 7000, 20, threads, ranks, 3300});
      check_same<double>({200, 1000, 100, threads, ranks, 1});
      // Y = X (the particle flow): the row pass over all ordered pairs.
      check_same<double>({901, 0, 2, threads, ranks, 0, true});
    }
  }
}

TEST_CASE("sharded passes: ranks with no rows of X or of Y, and an empty Y") {
  // 100 rows are 2 blocks of 64: of 3..7 ranks most hold none.
  for (int ranks : {3, 4, 7}) {
    check_same<float>({100, 70, 2, 2, ranks});
    check_same<double>({65, 130, 20, 1, ranks, 16});
    check_same<float>({130, 0, 3, 2, ranks});
  }
}

TEST_CASE("a row's bits do not depend on the thread count (one process and sharded)") {
  // The row pass (and so the sharded pass) gives every row the same bits at any thread count;
  // the energy's thread partials differ, so only the rows are compared here.
  const index_t n = 700, m = 900, d = 5;
  const std::vector<float> x = points<float>(n, d, 3), y = points<float>(m, d, 4);
  const ConstPointsView<float> xv(x.data(), n, d), yv(y.data(), m, d);
  std::vector<float> g1(std::size_t(n * d)), g4(g1.size());
  pair_gradient<float>(Context(Device::cpu, 1), PairFamily::riesz, 1.0, xv, nullptr, yv, nullptr,
                       1.0f, PointsView<float>(g1.data(), n, d), false);
  pair_gradient<float>(Context(Device::cpu, 4), PairFamily::riesz, 1.0, xv, nullptr, yv, nullptr,
                       1.0f, PointsView<float>(g4.data(), n, d), false);
  CHECK(std::memcmp(g1.data(), g4.data(), g1.size() * sizeof(float)) == 0);
}

TEST_CASE("sharded passes: the chunks in the wrong order give other bits") {
  // Reversed, the tiles cut the stream of columns elsewhere and the sums run in another order:
  // the bitwise check above would fail, so it does test the order. (One rank, one chunk: no
  // order to get wrong.)
  CHECK(mismatches<float>({500, 5000, 2, 2, 3, 1024, false, true}) > 0);
  CHECK(mismatches<double>({300, 4000, 20, 1, 2, 1638, false, true}) > 0);
  CHECK(mismatches<float>({500, 5000, 2, 2, 3, 1024, false, false}) == 0);
}

// A caller's error on one rank only (a gradient view of the wrong shape, a velocity of the wrong
// rows) is every rank's error: the passes check their arguments inside a collective, so the
// other ranks throw the same error instead of waiting in the stream's first collective for a
// rank that left. A hang fails the test after 120 s (the process exits: threads blocked in a
// collective cannot be joined).
TEST_CASE("sharded passes: a bad argument on one rank is every rank's error, no hang") {
  constexpr int kRanks = 3;
  const index_t n = 300, m = 200, d = 3;
  const std::vector<double> x = points<double>(n, d, 1), y = points<double>(m, d, 2);
  const std::vector<index_t> xf = owned_row_starts(n, kRanks), yf = owned_row_starts(m, kRanks);
  for (int pass = 0; pass < 3; ++pass) {
    World world(kRanks);
    std::vector<std::string> errors(kRanks);
    std::vector<std::thread> pool;
    std::vector<std::future<void>> done;
    for (int q = 0; q < kRanks; ++q) {
      std::promise<void> finished;
      done.push_back(finished.get_future());
      pool.emplace_back([&, q, finished = std::move(finished)]() mutable {
        const ThreadComm comm(world, q);
        const Context ctx(Device::cpu, 1);
        const std::size_t k = std::size_t(q);
        const index_t r0 = xf[k], rows = xf[k + 1] - r0, c0 = yf[k], cols = yf[k + 1] - c0;
        const ConstPointsView<double> xo(x.data() + r0 * d, rows, d);
        const ConstPointsView<double> yo(y.data() + c0 * d, cols, d);
        // Rank 1 alone gets it wrong: one row short of its own rows.
        const index_t bad = q == 1 ? rows - 1 : rows;
        std::vector<double> g(std::size_t(rows * d), 0.0), vv(std::size_t(rows * d), 0.5),
            wv(std::size_t(cols * d), 0.25);
        try {
          if (pass == 0) {
            pair_gradient_sharded<double>(ctx, comm, PairFamily::riesz, 1.0, xo, nullptr, n, yo,
                                          nullptr, m, 1.0, PointsView<double>(g.data(), bad, d),
                                          false);
          } else if (pass == 1) {
            double dd = 0;
            riesz_directional_sharded<double>(ctx, comm, xo, ConstPointsView<double>(vv.data(), bad, d),
                                              nullptr, n, yo,
                                              ConstPointsView<double>(wv.data(), cols, d), nullptr,
                                              m, 1.0, &dd, PointsView<double>(), 1.0, false,
                                              nullptr);
          } else {
            riesz_directional_dw_sharded<double>(
                ctx, comm, xo, ConstPointsView<double>(vv.data(), bad, d), nullptr, n, yo,
                ConstPointsView<double>(wv.data(), cols, d), nullptr, m, 1.0,
                PointsView<double>(wv.data(), cols, d), 1.0, false);
          }
        } catch (const Error& e) {
          errors[k] = e.what();
        }
        finished.set_value();
      });
    }
    for (auto& f : done) {
      if (f.wait_for(std::chrono::seconds(120)) != std::future_status::ready) {
        std::fprintf(stderr, "FAIL: pass %d: ranks left waiting for a rank that threw\n", pass);
        std::_Exit(1);
      }
    }
    for (auto& t : pool) t.join();
    CAPTURE(pass);
    for (int q = 0; q < kRanks; ++q) {
      CAPTURE(q);
      const std::string& e = errors[std::size_t(q)];
      const bool named = e.find("must have the shapes") != std::string::npos ||
                         e.find("must be a (rows_owned, d) view") != std::string::npos;
      CHECK(named);
      CHECK(errors[std::size_t(q)] == errors[1]);
    }
  }
}

}  // namespace
}  // namespace nwgf
