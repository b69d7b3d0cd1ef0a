// The sharded pairwise passes on the CUDA backend (kernels/pairwise_sharded.hpp) under the CUDA
// emulation build, whose NCCL is the stand-in over MPI: run by `mpirun -np P
// emu_pairwise_sharded` (cmake/NwgfEmulate.cmake, label mpi), its own main, one per rank. Every
// rank draws the whole problem, uploads only its own rows of X (and a) and its own block of Y
// (and b) to its device, and compares what the sharded passes give its rows with one process's
// CUDA row pass (pair_gradient, pair_row_sums, pair_row_sums_gradient with Y a separate copy of
// X), bit for bit: the gradient, the row sums, the row sums with the gradient; and the energy
// with the one-process sharded pass over all rows (single_process_comm, other chunks) and, in
// f64, with the 64-row blocks of the one-process row sums added in order on the host. Chunks of
// one tile, of several, not dividing the ranks' blocks (tiles cut by rank boundaries), d = 2
// (the small-d kernel, tiles of 128) and d = 5, 20 (the general kernel, tiles of 16); the Riesz
// and Gaussian families and the interaction kernels W (quartic_quadratic, log_quadratic,
// gaussian_attraction: the sharded runner's term-by-term functionals), d = 1 as energy33's y
// column. The Riesz cases also run the directional pass (riesz_directional_sharded, W streamed
// beside Y, some rows of Y copies of rows of X so that coincident pairs occur): dD/dv, dD/dw (the
// second pass, riesz_directional_dw_sharded) and the coincident count bit for bit one process's
// riesz_directional, D the one-process sharded pass's bits and within 1e-9 (relative) of
// riesz_directional's (other summation order). Then the chunks streamed in reverse order must
// give other bits (the check sees the order).
// Exit 0 when every check holds on every rank; 1 with the failing cases on stderr otherwise.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/pairwise_sharded.hpp"

#include "../kernels/philox_points.hpp"
#include "emu_rows.hpp"

namespace nwgf {
namespace {

using emu_test::download_all;

template <class T>
std::vector<T> points(index_t n, index_t d, std::uint64_t stream) {
  return test::philox_points<T>(5, n, d, stream);
}

bool same_bytes(const void* a, const void* b, std::size_t bytes) {
  return bytes == 0 || std::memcmp(a, b, bytes) == 0;
}

struct Case {
  index_t n, m, d;
  PairFamily family;
  double param;
  index_t chunk;         // ShardedOptions::chunk_columns
  bool weights;          // a and b (else none)
  bool reverse = false;  // stream the chunks in reverse order
};

// The directional pass of one case on every rank (Riesz, r = c.param): what differs from one
// process (empty: nothing).
template <class T>
std::string directional_differs(const Context& ctx, const DeviceComm& comm, const Case& c) {
  const int ranks = comm.size(), q = comm.rank();
  const index_t n = c.n, m = c.m, d = c.d;
  const std::vector<T> x = points<T>(n, d, 1), v = points<T>(n, d, 3), w = points<T>(m, d, 4);
  std::vector<T> y = points<T>(m, d, 2);
  // Every 7th row of Y a copy of X's row: coincident pairs (z = 0).
  for (index_t j = 0; j < std::min(n, m); j += 7) {
    std::copy(x.begin() + j * d, x.begin() + (j + 1) * d, y.begin() + j * d);
  }
  std::vector<T> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(m));
  for (index_t i = 0; i < n; ++i) a[std::size_t(i)] = T(0.75 + double(i % 5) / 8.0);
  for (index_t j = 0; j < m; ++j) b[std::size_t(j)] = T(0.5 + double(j % 7) / double(m + 1));
  const T scale = T(-0.5);
  // Accumulating onto a start (with weights) or not.
  const bool acc = c.weights;
  const std::vector<T> start(static_cast<std::size_t>(n * d), T(0.25));

  const Buffer<T> xd = upload(ctx, x), vd = upload(ctx, v), yd = upload(ctx, y),
                  wd = upload(ctx, w), ad = upload(ctx, a), bd = upload(ctx, b);
  const T* aw = c.weights ? ad.data() : nullptr;
  const T* bw = c.weights ? bd.data() : nullptr;
  const ConstPointsView<T> xv(xd.data(), n, d, Device::cuda), vv(vd.data(), n, d, Device::cuda),
      yv(yd.data(), m, d, Device::cuda), wv(wd.data(), m, d, Device::cuda);
  const std::vector<T> start_w(static_cast<std::size_t>(m * d), T(-0.125));
  Buffer<T> rg = upload(ctx, start), rgw = upload(ctx, start_w);
  Buffer<double> rd(ctx, 1);
  index_t ref_count = -1;
  riesz_directional<T>(ctx, xv, vv, aw, yv, wv, bw, c.param, rd.data(),
                       PointsView<T>(rg.data(), n, d, Device::cuda),
                       PointsView<T>(rgw.data(), m, d, Device::cuda), scale, acc, &ref_count);
  const std::vector<T> ref_g = download_all(ctx, rg), ref_gw = download_all(ctx, rgw);
  const double ref_d = download_all(ctx, rd)[0];
  ShardedOptions o;
  o.chunk_columns = c.chunk;
  o.reverse_chunks = c.reverse;
  double one_d = 0;
  riesz_directional_sharded<T>(ctx, single_process_comm(), xv, vv, aw, n, yv, wv, bw, m, c.param,
                               &one_d, PointsView<T>(), scale, false, nullptr);

  const auto [r0, r1] = owned_rows(n, q, ranks);
  const auto [c0, c1] = owned_rows(m, q, ranks);
  const index_t rows = r1 - r0, cols = c1 - c0;
  const auto part = [](const std::vector<T>& h, index_t i0, index_t i1, index_t k) {
    return std::vector<T>(h.begin() + i0 * k, h.begin() + i1 * k);
  };
  const Buffer<T> xo = upload(ctx, part(x, r0, r1, d)), vo = upload(ctx, part(v, r0, r1, d)),
                  yo = upload(ctx, part(y, c0, c1, d)), wo = upload(ctx, part(w, c0, c1, d)),
                  ao = upload(ctx, part(a, r0, r1, 1)), bo = upload(ctx, part(b, c0, c1, 1));
  Buffer<T> g = upload(ctx, part(start, r0, r1, d));
  double dd = -1;
  index_t count = -1;
  riesz_directional_sharded<T>(
      ctx, comm, ConstPointsView<T>(xo.data(), rows, d, Device::cuda),
      ConstPointsView<T>(vo.data(), rows, d, Device::cuda), c.weights ? ao.data() : nullptr, n,
      ConstPointsView<T>(yo.data(), cols, d, Device::cuda),
      ConstPointsView<T>(wo.data(), cols, d, Device::cuda), c.weights ? bo.data() : nullptr, m,
      c.param, &dd, PointsView<T>(g.data(), rows, d, Device::cuda), scale, acc, &count, o);
  Buffer<T> gw = upload(ctx, part(start_w, c0, c1, d));
  riesz_directional_dw_sharded<T>(
      ctx, comm, ConstPointsView<T>(xo.data(), rows, d, Device::cuda),
      ConstPointsView<T>(vo.data(), rows, d, Device::cuda), c.weights ? ao.data() : nullptr, n,
      ConstPointsView<T>(yo.data(), cols, d, Device::cuda),
      ConstPointsView<T>(wo.data(), cols, d, Device::cuda), c.weights ? bo.data() : nullptr, m,
      c.param, PointsView<T>(gw.data(), cols, d, Device::cuda), scale, acc, o);
  const std::vector<T> hg = download_all(ctx, g), hgw = download_all(ctx, gw);

  std::string what;
  if (!same_bytes(hg.data(), ref_g.data() + r0 * d, hg.size() * sizeof(T))) what += " dD/dv";
  if (!same_bytes(hgw.data(), ref_gw.data() + c0 * d, hgw.size() * sizeof(T))) what += " dD/dw";
  if (count != ref_count) {
    what += " coincident(" + std::to_string(count) + " vs " + std::to_string(ref_count) + ")";
  }
  if (ref_count == 0) what += " no-coincident-pairs";
  if (!same_bytes(&dd, &one_d, sizeof dd)) what += " D";
  if (!(std::abs(dd - ref_d) <= 1e-9 * (std::abs(ref_d) + 1))) what += " D(vs riesz_directional)";
  return what;
}

// One case on every rank: the names of what differs from one process (empty: nothing).
template <class T>
std::string differs(const Context& ctx, const DeviceComm& comm, const Case& c) {
  const int ranks = comm.size(), q = comm.rank();
  const index_t n = c.n, m = c.m, d = c.d;
  const std::vector<T> x = points<T>(n, d, 1), y = points<T>(m, d, 2);
  std::vector<T> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(m));
  for (index_t i = 0; i < n; ++i) a[std::size_t(i)] = T(0.75 + double(i % 5) / 8.0);
  for (index_t j = 0; j < m; ++j) b[std::size_t(j)] = T(0.5 + double(j % 7) / double(m + 1));
  const T scale = T(-0.5);

  // One process on this rank's device: all rows.
  const Buffer<T> xd = upload(ctx, x), yd = upload(ctx, y), ad = upload(ctx, a),
                  bd = upload(ctx, b);
  const T* aw = c.weights ? ad.data() : nullptr;
  const T* bw = c.weights ? bd.data() : nullptr;
  const ConstPointsView<T> xv(xd.data(), n, d, Device::cuda), yv(yd.data(), m, d, Device::cuda);
  Buffer<T> rg(ctx, n * d), rv(ctx, n), rvv(ctx, n), rvg(ctx, n * d);
  pair_gradient<T>(ctx, c.family, c.param, xv, aw, yv, bw, scale,
                   PointsView<T>(rg.data(), n, d, Device::cuda), false);
  pair_row_sums<T>(ctx, c.family, c.param, xv, aw, yv, bw, T(1), rv.data(), false);
  // Accumulating onto a start the sharded pass gets too.
  copy_from_host(ctx, rvv, std::vector<T>(std::size_t(n), T(3)).data(), n);
  copy_from_host(ctx, rvg, std::vector<T>(std::size_t(n * d), T(0.5)).data(), n * d);
  pair_row_sums_gradient<T>(ctx, c.family, c.param, xv, aw, yv, bw, T(1.5), rvv.data(),
                            PointsView<T>(rvg.data(), n, d, Device::cuda), true);
  const std::vector<T> ref_g = download_all(ctx, rg), ref_v = download_all(ctx, rv),
                       ref_vv = download_all(ctx, rvv), ref_vg = download_all(ctx, rvg);
  ShardedOptions o;
  o.chunk_columns = c.chunk;
  o.reverse_chunks = c.reverse;
  // The energy of one process's sharded pass (all rows, its own chunks).
  double ref_e = 0;
  pair_energy_sharded<T>(ctx, single_process_comm(), c.family, c.param, xv, aw, n, yv, bw, m,
                         &ref_e);

  // This rank's rows.
  const auto [r0, r1] = owned_rows(n, q, ranks);
  const auto [c0, c1] = owned_rows(m, q, ranks);
  const index_t rows = r1 - r0, cols = c1 - c0;
  const Buffer<T> xo = upload(ctx, std::vector<T>(x.begin() + r0 * d, x.begin() + r1 * d));
  const Buffer<T> yo = upload(ctx, std::vector<T>(y.begin() + c0 * d, y.begin() + c1 * d));
  const Buffer<T> ao = upload(ctx, std::vector<T>(a.begin() + r0, a.begin() + r1));
  const Buffer<T> bo = upload(ctx, std::vector<T>(b.begin() + c0, b.begin() + c1));
  const T* aow = c.weights ? ao.data() : nullptr;
  const T* bow = c.weights ? bo.data() : nullptr;
  const ConstPointsView<T> xov(xo.data(), rows, d, Device::cuda),
      yov(yo.data(), cols, d, Device::cuda);
  Buffer<T> g(ctx, rows * d), v(ctx, rows), vv(ctx, rows), vg(ctx, rows * d);
  pair_gradient_sharded<T>(ctx, comm, c.family, c.param, xov, aow, n, yov, bow, m, scale,
                           PointsView<T>(g.data(), rows, d, Device::cuda), false, o);
  double e = -1;
  pair_energy_sharded<T>(ctx, comm, c.family, c.param, xov, aow, n, yov, bow, m, &e, T(1), v.data(),
                         false, o);
  if (rows > 0) {
    copy_from_host(ctx, vv, std::vector<T>(std::size_t(rows), T(3)).data(), rows);
    copy_from_host(ctx, vg, std::vector<T>(std::size_t(rows * d), T(0.5)).data(), rows * d);
  }
  pair_row_sums_gradient_sharded<T>(ctx, comm, c.family, c.param, xov, aow, n, yov, bow, m, T(1.5),
                                    vv.data(), PointsView<T>(vg.data(), rows, d, Device::cuda),
                                    true, o);
  const std::vector<T> hg = download_all(ctx, g), hv = download_all(ctx, v),
                       hvv = download_all(ctx, vv), hvg = download_all(ctx, vg);

  std::string what;
  const std::size_t sz = sizeof(T);
  if (!same_bytes(hg.data(), ref_g.data() + r0 * d, hg.size() * sz)) what += " gradient";
  if (!same_bytes(hv.data(), ref_v.data() + r0, hv.size() * sz)) what += " row_sums";
  if (!same_bytes(hvv.data(), ref_vv.data() + r0, hvv.size() * sz)) what += " row_sums_values";
  if (!same_bytes(hvg.data(), ref_vg.data() + r0 * d, hvg.size() * sz)) what += " row_sums_grad";
  if (!same_bytes(&e, &ref_e, sizeof e)) what += " energy";
  if constexpr (sizeof(T) == sizeof(double)) {
    // The values are the rows' doubles (scale 1): their 64-row blocks in order on the host.
    double host_e = 0;
    for (index_t b0 = 0; b0 < n; b0 += 64) {
      double s = 0;
      for (index_t i = b0; i < std::min(n, b0 + 64); ++i) s += double(ref_v[std::size_t(i)]);
      host_e += s;
    }
    if (!same_bytes(&e, &host_e, sizeof e)) what += " energy(host blocks)";
  }
  if (c.family == PairFamily::riesz) what += directional_differs<T>(ctx, comm, c);
  return what;
}

}  // namespace
}  // namespace nwgf

int main() {
  using namespace nwgf;
  const CommSession session;
  const Comm& host = session.comm();
  Context ctx(Device::cuda, 1);
  std::unique_ptr<DeviceComm> dc = make_nccl_comm(ctx, host);
  std::string failures;
  const auto run = [&](const Case& c, bool f64, bool expect_same) {
    const std::string what = f64 ? differs<double>(ctx, *dc, c) : differs<float>(ctx, *dc, c);
    if (what.empty() == expect_same) return;
    failures += "rank " + std::to_string(host.rank()) + ": n = " + std::to_string(c.n) +
                ", m = " + std::to_string(c.m) + ", d = " + std::to_string(c.d) +
                (f64 ? ", f64" : ", f32") + ", chunk = " + std::to_string(c.chunk) +
                (c.reverse ? ", reversed" : "") +
                (expect_same ? ": differs in" + what : ": the same bits in reverse order") + "\n";
  };
  // d = 2: tiles of 128 columns; chunks of 1 tile (rank blocks of 64-row multiples cut tiles).
  run({700, 650, 2, PairFamily::riesz, 1.0, 128, true}, false, true);
  // Y = a copy of X, no weights, one chunk per rank.
  run({450, 450, 2, PairFamily::riesz, 1.0, 0, false}, true, true);
  // d = 5, 20: the general kernel, tiles of 16; chunk 40 -> 48 columns.
  run({300, 333, 5, PairFamily::gaussian, 0.8, 40, true}, true, true);
  run({200, 260, 20, PairFamily::riesz, 1.5, 16, true}, false, true);
  // The interaction kernels W (param 1): small d (d = 2, 1) and the general kernel (d = 5).
  run({333, 333, 2, PairFamily::quartic_quadratic, 1.0, 128, false}, true, true);
  run({300, 250, 5, PairFamily::log_quadratic, 1.0, 16, true}, false, true);
  run({260, 300, 1, PairFamily::gaussian_attraction, 1.0, 0, true}, true, true);
  // d = 1 with weights, energy33's masked y column (Riesz r = 1).
  run({400, 400, 1, PairFamily::riesz, 1.0, 256, true}, true, true);
  // The directional pass at d = 5 (r < 1: coincident pairs only counted), f32 and f64, and
  // d = 20 in f64, d = 2 in f64 with weights.
  run({300, 333, 5, PairFamily::riesz, 0.7, 40, false}, false, true);
  run({300, 333, 5, PairFamily::riesz, 1.0, 40, true}, true, true);
  run({200, 260, 20, PairFamily::riesz, 1.2, 16, false}, true, true);
  run({330, 300, 2, PairFamily::riesz, 1.5, 128, true}, true, true);
  // The order: the same chunks reversed must not give one process's bits.
  run({700, 650, 2, PairFamily::riesz, 1.0, 128, true, true}, false, false);
  const CommStatus agreed = host.agree({failures.empty() ? 0 : 1, failures});
  if (agreed.code != 0) {
    std::fprintf(stderr, "FAIL (%d ranks):\n%s", host.size(), agreed.message.c_str());
    return 1;
  }
  if (host.root()) {
    std::printf("ok: %d ranks, the CUDA sharded passes bit for bit one process's rows\n",
                host.size());
  }
  return 0;
}
