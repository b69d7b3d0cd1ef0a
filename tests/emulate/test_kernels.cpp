// Every hand-written CUDA kernel, run by the emulator on small ragged sizes (N below one tile,
// N = 1, N not a multiple of the tile, padded leading dimensions) under several schedules, must
// match the CPU backend. Kernel faults (barrier divergence, host pointers, ...) surface as
// nwgf::Error from the launch checks and fail the test.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "nwgf/nn/adam.hpp"
#include "nwgf/nn/mlp.hpp"
#include "nwgf_emu/control.hpp"
#include "nwgf/schemes/scheme_ops.hpp"

using namespace nwgf;
using nwgf::emu::Policy;
using nwgf::emu::Schedule;

namespace {

const std::vector<Schedule>& schedules() {
  static const std::vector<Schedule> s = {
      {Policy::forward, 0, 0}, {Policy::reverse, 0, 0}, {Policy::random, 11, 50}};
  return s;
}

template <class T>
std::vector<T> normals(index_t n, std::uint64_t stream, double sd = 1.0) {
  Context cpu(Device::cpu, 1);
  std::vector<T> v(std::size_t(std::max<index_t>(n, 0)));
  if (n > 0) rng_normal<T>(cpu, 99, stream, 0, v.data(), n, T(0), T(sd));
  return v;
}

template <class T>
double tolerance() {
  return std::is_same_v<T, float> ? 2e-4 : 1e-10;
}

// Runs f on the CPU and, under every schedule, on the emulated device; the flattened results
// must agree to tol relative to the largest CPU value (and exactly in size).
void compare(const std::string& what, double tol,
             const std::function<std::vector<double>(const Context&)>& f) {
  CAPTURE(what);
  Context cpu(Device::cpu, 2), gpu(Device::cuda, 1);
  const std::vector<double> want = f(cpu);
  double scale = 1;
  for (double v : want) {
    if (std::isfinite(v)) scale = std::max(scale, std::fabs(v));
  }
  const Schedule saved = emu::schedule();
  for (const Schedule& s : schedules()) {
    emu::set_schedule(s);
    const std::string sched = emu::to_string(s);
    CAPTURE(sched);
    const std::vector<double> got = f(gpu);
    REQUIRE(got.size() == want.size());
    std::size_t bad = 0, first = got.size();
    for (std::size_t i = 0; i < got.size(); ++i) {
      const bool same =
          std::isnan(want[i]) ? std::isnan(got[i]) : std::fabs(got[i] - want[i]) <= tol * scale;
      if (!same && bad++ == 0) first = i;
    }
    if (bad) {
      const double g = got[first], w = want[first];
      CAPTURE(first);
      CAPTURE(g);
      CAPTURE(w);
      CHECK(bad == 0);
    }
  }
  emu::set_schedule(saved);
}

template <class T>
void append(std::vector<double>& out, const std::vector<T>& v) {
  out.insert(out.end(), v.begin(), v.end());
}

// Points with row stride ld >= d on ctx's device (padding filled with NaN: a kernel that reads
// it poisons its result).
template <class T>
Buffer<T> padded(const Context& ctx, const std::vector<T>& p, index_t n, index_t d, index_t ld) {
  std::vector<T> h(std::size_t(std::max<index_t>(n * ld, 1)), std::numeric_limits<T>::quiet_NaN());
  for (index_t i = 0; i < n; ++i) {
    for (index_t k = 0; k < d; ++k) h[std::size_t(i * ld + k)] = p[std::size_t(i * d + k)];
  }
  return upload(ctx, h);
}

TEST_CASE_TEMPLATE("rng kernel: ragged counts and offsets", T, float, double) {
  for (const index_t n : {1, 3, 4, 5, 255, 257, 1025}) {
    for (const std::uint64_t offset : {0, 1, 7}) {
      compare("rng n=" + std::to_string(n) + " offset=" + std::to_string(offset), 1e-12,
              [&](const Context& ctx) {
                Buffer<T> u(ctx, n), z(ctx, n);
                rng_uniform<T>(ctx, 3, 1, offset, u.data(), n, T(-2), T(5));
                rng_normal<T>(ctx, 3, 2, offset, z.data(), n, T(1), T(0.5));
                std::vector<double> out;
                append(out, download(ctx, u));
                append(out, download(ctx, z));
                return out;
              });
    }
  }
}

TEST_CASE_TEMPLATE("pairwise kernels: energy, gradient, directional", T, float, double) {
  struct Case {
    index_t n, m, d, ld;
    double r;
    bool weights, accumulate;
  };
  // kThreads = 128 rows per block, kSmallTile = 128 (d <= 3), kTileJ = 16 x kTileK = 32 (d > 3).
  const std::vector<Case> cases = {
      {1, 1, 1, 1, 1.0, false, false},    {1, 5, 2, 2, 1.5, true, false},
      {5, 1, 3, 3, 0.7, false, true},     {127, 129, 2, 2, 1.0, true, false},
      {129, 17, 1, 1, 1.3, false, true},  {130, 257, 3, 5, 1.0, true, true},
      {3, 16, 4, 4, 1.0, false, false},   {33, 15, 5, 7, 1.5, true, false},
      {129, 33, 33, 33, 1.0, true, true}, {40, 20, 40, 41, 0.6, false, false},
      {17, 1, 65, 65, 1.8, true, true},
      // >= 4 blocks of rows: the second pass reduces partials over several tree levels
      {600, 7, 2, 2, 1.0, false, false},  {520, 3, 5, 6, 1.5, true, false},
  };
  for (const Case& c : cases) {
    const auto x = normals<T>(c.n * c.d, 1), y = normals<T>(c.m * c.d, 2);
    const auto v = normals<T>(c.n * c.d, 3), w = normals<T>(c.m * c.d, 4);
    auto yc = y;  // y_0 = x_0: a coincident pair (rates and gradient factors at z = 0)
    for (index_t k = 0; k < c.d; ++k) yc[std::size_t(k)] = x[std::size_t(k)];
    const auto a = normals<T>(c.n, 5, 0.1), b = normals<T>(c.m, 6, 0.1);
    auto wa = a, wb = b;
    for (auto& e : wa) e += T(1);
    for (auto& e : wb) e += T(1);
    const std::string what = "pairwise n=" + std::to_string(c.n) + " m=" + std::to_string(c.m) +
                             " d=" + std::to_string(c.d) + " ld=" + std::to_string(c.ld) +
                             " r=" + std::to_string(c.r);
    compare(what, tolerance<T>(), [&](const Context& ctx) {
      const Device dev = ctx.device();
      Buffer<T> bx = padded(ctx, x, c.n, c.d, c.ld), by = padded(ctx, yc, c.m, c.d, c.ld);
      Buffer<T> bv = padded(ctx, v, c.n, c.d, c.ld), bw = padded(ctx, w, c.m, c.d, c.ld);
      Buffer<T> ba = upload(ctx, wa), bb = upload(ctx, wb);
      const T* pa = c.weights ? ba.data() : nullptr;
      const T* pb = c.weights ? bb.data() : nullptr;
      const ConstPointsView<T> X(bx.data(), c.n, c.d, c.ld, dev), Y(by.data(), c.m, c.d, c.ld, dev);
      const ConstPointsView<T> V(bv.data(), c.n, c.d, c.ld, dev), W(bw.data(), c.m, c.d, c.ld, dev);
      Buffer<T> g = upload(ctx, std::vector<T>(std::size_t(c.n * c.d), T(0.25)));
      Buffer<T> gv = upload(ctx, std::vector<T>(std::size_t(c.n * c.d), T(-0.5)));
      Buffer<T> gw = upload(ctx, std::vector<T>(std::size_t(c.m * c.d), T(0.125)));
      Buffer<double> out(ctx, 3);
      PairwiseWorkspace ws;
      riesz_energy<T>(ctx, X, pa, Y, pb, c.r, out.data(), &ws);
      riesz_energy<T>(ctx, X, pa, X, pa, c.r, out.data() + 1);  // y aliases x
      riesz_gradient<T>(ctx, X, pa, Y, pb, c.r, T(0.75), PointsView<T>(g.data(), c.n, c.d, dev),
                        c.accumulate, &ws);
      index_t coincident = -1;
      riesz_directional<T>(
          ctx, X, V, pa, Y, W, pb, c.r, out.data() + 2, PointsView<T>(gv.data(), c.n, c.d, dev),
          PointsView<T>(gw.data(), c.m, c.d, dev), T(1.25), c.accumulate, &coincident, &ws);
      std::vector<double> res;
      append(res, download(ctx, out));
      append(res, download(ctx, g));
      append(res, download(ctx, gv));
      append(res, download(ctx, gw));
      res.push_back(double(coincident));
      return res;
    });
  }
}

TEST_CASE_TEMPLATE("mlp kernels: bias + activation, masked bias gradient", T, float, double) {
  // colsum blocks are 32 columns x 8 rows; chunks of >= 64 rows (at most 128 chunks).
  for (const index_t batch : {1, 7, 33, 130}) {
    for (const auto& widths : {std::vector<index_t>{3, 40, 33, 2}, std::vector<index_t>{1, 1}}) {
      const index_t in_w = widths.front(), out_w = widths.back();
      const auto in = normals<T>(batch * in_w, 7), dout = normals<T>(batch * out_w, 8);
      compare("mlp batch=" + std::to_string(batch) + " layers=" + std::to_string(widths.size()),
              tolerance<T>(), [&](const Context& ctx) {
                const Device dev = ctx.device();
                Mlp<T> net(ctx, widths, 130);
                net.init(ctx, 5, 1);
                Buffer<T> bin = upload(ctx, in), bdout = upload(ctx, dout);
                Buffer<T> bout(ctx, batch * out_w), bdin(ctx, batch * in_w);
                net.forward(ctx, ConstPointsView<T>(bin.data(), batch, in_w, dev),
                            PointsView<T>(bout.data(), batch, out_w, dev));
                net.backward(ctx, ConstPointsView<T>(bdout.data(), batch, out_w, dev),
                             PointsView<T>(bdin.data(), batch, in_w, dev));
                net.backward(ctx, ConstPointsView<T>(bdout.data(), batch, out_w, dev),
                             PointsView<T>(nullptr, batch, in_w, dev), true);
                std::vector<T> grads(std::size_t(net.num_params()));
                detail::copy_bytes(ctx, grads.data(), Device::cpu, net.grads(), dev,
                                   grads.size() * sizeof(T));
                std::vector<double> res;
                append(res, download(ctx, bout));
                append(res, download(ctx, bdin));
                append(res, grads);
                return res;
              });
    }
  }
}

TEST_CASE_TEMPLATE("adam kernel: ragged parameter counts, several steps", T, float, double) {
  for (const index_t n : {1, 255, 257, 1000}) {
    const auto p0 = normals<T>(n, 9), g0 = normals<T>(n, 10);
    compare("adam n=" + std::to_string(n), tolerance<T>() * 0.01, [&](const Context& ctx) {
      Buffer<T> p = upload(ctx, p0), g = upload(ctx, g0);
      Adam<T> opt(ctx, n);
      for (int s = 0; s < 3; ++s) opt.step(ctx, p.data(), g.data(), 1e-2 * (s + 1));
      std::vector<T> mom(std::size_t(2 * n));
      detail::copy_bytes(ctx, mom.data(), Device::cpu, opt.moments(), ctx.device(),
                         mom.size() * sizeof(T));
      std::vector<double> res;
      append(res, download(ctx, p));
      append(res, mom);
      res.push_back(double(opt.device_steps(ctx)));
      return res;
    });
  }
}

TEST_CASE_TEMPLATE("sliced kernels: ranks, ties, empty y", T, float, double) {
  struct Case {
    index_t n, m, d;
    int directions;
    bool ties;
  };
  for (const Case c : {Case{1, 0, 2, 3, false}, Case{1, 1, 3, 5, false}, Case{2, 33, 3, 5, true},
                       Case{257, 100, 4, 7, false}, Case{100, 257, 1, 2, true}}) {
    auto x = normals<T>(c.n * c.d, 11), y = normals<T>(c.m * c.d, 12);
    if (c.ties) {  // integer grids, and y holds every x point: ties inside and across the sets
      for (auto& e : x) e = std::round(e);
      for (auto& e : y) e = std::round(e);
      std::copy(x.begin(), x.end(), y.begin());
    }
    compare("sliced n=" + std::to_string(c.n) + " m=" + std::to_string(c.m), tolerance<T>(),
            [&](const Context& ctx) {
              const Device dev = ctx.device();
              SlicedRiesz<T> s(ctx, c.n + 3, c.m + 1, c.d, c.directions);
              s.draw_directions(ctx, 17, 3, 2);
              Buffer<T> bx = upload(ctx, x), by = upload(ctx, y.empty() ? std::vector<T>{0} : y);
              Buffer<T> g = upload(ctx, std::vector<T>(x.size(), T(0.25)));
              Buffer<double> sums(ctx, 2);
              s.evaluate(ctx, ConstPointsView<T>(bx.data(), c.n, c.d, dev),
                         ConstPointsView<T>(by.data(), c.m, c.d, dev), sums.data(), sums.data() + 1,
                         T(-0.5), T(1.5), PointsView<T>(g.data(), c.n, c.d, dev), c.ties);
              std::vector<double> res;
              append(res, download(ctx, sums));
              append(res, download(ctx, g));
              return res;
            });
  }
}

TEST_CASE_TEMPLATE("scheme kernels: network input, transport partials, axpby", T, float, double) {
  for (const index_t count : {index_t(1), index_t(100), reduce_chunk, reduce_chunk + 37}) {
    const auto xs = normals<T>(count, 13), ts = normals<T>(count, 14);
    compare("scheme ops count=" + std::to_string(count), tolerance<T>(), [&](const Context& ctx) {
      Buffer<T> x = upload(ctx, xs), t = upload(ctx, ts), g(ctx, count), y = upload(ctx, ts);
      std::vector<double> res;
      res.push_back(transport_cost<T>(ctx, x.data(), t.data(), count, T(0.5), g.data()));
      res.push_back(transport_cost<T>(ctx, x.data(), t.data(), count, T(0.5), nullptr));
      res.push_back(sum_squares<T>(ctx, x.data(), count));
      axpby<T>(ctx, count, T(2), x.data(), T(-0.5), y.data());
      res.push_back(all_finite<T>(ctx, y.data(), count));
      append(res, download(ctx, g));
      append(res, download(ctx, y));
      return res;
    });
  }
  const index_t n = 37, d = 3;
  const auto xs = normals<T>(n * d, 15);
  for (const index_t batch : {1, 5, 300}) {
    for (const index_t l : {0, 2}) {
      for (const bool random : {false, true}) {
        compare("network input batch=" + std::to_string(batch) + " l=" + std::to_string(l),
                tolerance<T>(), [&](const Context& ctx) {
                  BatchRows rows;
                  rows.random = random;
                  rows.first = random ? 0 : (batch <= n ? n - batch : 0);
                  rows.seed = 4;
                  rows.stream = 2;
                  rows.counter = 9;
                  rows.z_stream = 3;
                  rows.z_counter = 1;
                  const index_t b = random ? batch : std::min(batch, n);
                  Buffer<T> x = upload(ctx, xs), in(ctx, b * (d + l)), xb(ctx, b * d);
                  network_input<T>(ctx, x.data(), n, d, l, rows, b, in.data(), xb.data());
                  std::vector<double> res;
                  append(res, download(ctx, in));
                  append(res, download(ctx, xb));
                  return res;
                });
      }
    }
  }
}

TEST_CASE_TEMPLATE("scheme kernels: row reductions (energy (33) rows, dot products)", T, float,
                   double) {
  for (const index_t n : {index_t(1), index_t(300), reduce_chunk + 5}) {
    auto xy = normals<T>(2 * n, 16);
    for (index_t i = 0; i < n; i += 7) xy[std::size_t(2 * i + 1)] = T(0);  // y = 0 rows
    const auto vs = normals<T>(2 * n, 17);
    compare("energy33 n=" + std::to_string(n), tolerance<T>(), [&](const Context& ctx) {
      Buffer<T> bxy = upload(ctx, xy), bv = upload(ctx, vs), grad(ctx, 2 * n), mask(ctx, n);
      std::vector<double> res;
      for (const bool with_v : {false, true}) {
        const Energy33Row<T> row{bxy.data(), with_v ? bv.data() : nullptr, T(0.5), grad.data(),
                                 mask.data()};
        res.push_back(reduce_rows(ctx, row, n));
        append(res, download(ctx, grad));
        append(res, download(ctx, mask));
      }
      res.push_back(reduce_rows(ctx, DotRow<T>{bxy.data(), bv.data()}, 2 * n));
      return res;
    });
  }
}

TEST_CASE("all-finite check sees a NaN in the ragged tail") {
  for (const index_t count : {index_t(1), reduce_chunk + 1}) {
    compare("all_finite count=" + std::to_string(count), 0, [&](const Context& ctx) {
      std::vector<double> h(std::size_t(count), 1.0);
      h.back() = std::numeric_limits<double>::quiet_NaN();
      Buffer<double> v = upload(ctx, h);
      return std::vector<double>{double(all_finite<double>(ctx, v.data(), count)),
                                 double(all_finite<double>(ctx, v.data(), count - 1))};
    });
  }
}

}  // namespace
