// The sliced Riesz sums and gradient across ranks (kernels/sliced_ranks.hpp).
#include "nwgf/kernels/sliced_ranks.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"

namespace nwgf {

template <class T>
void sliced_gradient_ranks(const Context& ctx, const Comm& comm, SlicedRiesz<T>& sliced,
                           ConstPointsView<T> x, ConstPointsView<T> y, double* out_xx,
                           double* out_xy, T scale_xx, T scale_xy, PointsView<T> grad,
                           bool accumulate, SlicedRanksBuffers<T>& buffers) {
  const int ranks = comm.size(), me = comm.rank();
  if (ranks == 1) {
    sliced.evaluate(ctx, x, y, out_xx, out_xy, scale_xx, scale_xy, grad, accumulate);
    return;
  }
  if (ctx.is_cuda()) {
    // The sorts split by directions, the sorted rows gathered over NCCL, the rest whole on every
    // rank (detail::CudaSortSplit): the shapes are checked before any exchange, alike on every
    // rank, and each rank's part is agreed (collective()) before its gather.
    const auto* device = dynamic_cast<const DeviceComm*>(&comm);
    if (!device) {
      throw_bad_input("sliced: the CUDA backend across ranks needs a device communicator (NCCL)");
    }
    detail::CudaSortSplit split;
    split.part = me;
    split.parts = ranks;
    split.own = [device](const std::function<void()>& f) { collective(*device, f); };
    split.gather = [device](void* data, const std::vector<std::size_t>& counts,
                            const std::vector<std::size_t>& offsets) {
      device->device_allgather(data, counts, offsets);
    };
    sliced.evaluate(ctx, x, y, out_xx, out_xy, scale_xx, scale_xy, grad, accumulate, &split);
    return;
  }
  detail::SlicedWorkspace<T>& ws = sliced.workspace();
  const index_t n = x.rows, m = y.rows, d = ws.d, nm = n + m;
  // The checks of SlicedRiesz::evaluate: every rank passes the same shapes, so every rank throws.
  if (n > ws.max_n || m > ws.max_m || (n > 0 && x.cols != d) || (m > 0 && y.cols != d)) {
    throw_bad_input("sliced: x (" + std::to_string(n) + " rows) or y (" + std::to_string(m) +
                    " rows) does not fit the workspace (" + std::to_string(ws.max_n) + ", " +
                    std::to_string(ws.max_m) + " rows, d = " + std::to_string(d) + ")");
  }
  if (grad.data && (grad.rows != n || grad.cols != d || grad.ld != d)) {
    throw_runtime("sliced_gradient_ranks: grad must be a dense (N, d) view");
  }
  const bool want_grad = grad.data != nullptr && n > 0;
  const bool want_sums = out_xx != nullptr || out_xy != nullptr;
  const int S = ws.directions;
  const auto rs = [](int r) { return std::size_t(r); };

  // Row owners on the fixed grid of kernels/pairwise_ranks.hpp.
  const std::vector<index_t> row0 = owned_row_starts(n, ranks);
  const index_t mine = row0[rs(me) + 1] - row0[rs(me)];

  std::vector<std::size_t> send_counts(rs(ranks)), send_offsets(rs(ranks));
  std::vector<std::size_t> recv_counts(rs(ranks)), recv_offsets(rs(ranks));
  std::vector<std::size_t> sum_counts(rs(ranks)), sum_offsets(rs(ranks));
  for (int c0 = 0; c0 < S && n > 0; c0 += ws.chunk) {
    const int sc = std::min(ws.chunk, S - c0);
    // The chunk's directions [dir(r), dir(r + 1)) belong to rank r.
    const auto dir = [&](int r) { return int(std::int64_t(sc) * r / ranks); };
    const int s0 = dir(me), s1 = dir(me + 1);
    const index_t own = s1 - s0;
    T* proj = ws.proj_x.data();  // (sc, n + m)
    collective(comm, [&] {
      detail::cpu_sliced_project(ctx, ws, x, y, c0, sc);
      detail::cpu_sliced_rank(ctx, ws, n, m, c0, s0, s1, scale_xx, scale_xy, want_grad);
      if (!want_grad) return;
      // To rank r: the block (own, rows of r) of G, row-major. Nothing to itself: its own
      // directions' G is in place already.
      buffers.send.resize(std::size_t(own * n));
      buffers.recv.resize(std::size_t(index_t(sc) * mine));
      for (int r = 0; r < ranks; ++r) {
        const index_t a = row0[rs(r)], rows = r == me ? 0 : row0[rs(r) + 1] - a;
        send_offsets[rs(r)] = std::size_t(own * a) * sizeof(T);
        send_counts[rs(r)] = std::size_t(own * rows) * sizeof(T);
        // From rank r: its directions' block of this rank's rows, which lands in direction order.
        const index_t from = r == me ? 0 : dir(r + 1) - dir(r);
        recv_offsets[rs(r)] = std::size_t(index_t(dir(r)) * mine) * sizeof(T);
        recv_counts[rs(r)] = std::size_t(from * mine) * sizeof(T);
      }
      // Each (direction, destination) piece is one copy: spread over the threads.
      const index_t pieces = own * ranks;
      T* send = buffers.send.data();
#pragma omp parallel for num_threads(std::max(ctx.threads(), 1)) schedule(static)
      for (index_t k = 0; k < pieces; ++k) {
        const index_t s = k / ranks;
        const int r = int(k % ranks);
        const index_t a = row0[rs(r)], rows = row0[rs(r) + 1] - a;
        if (r == me || rows == 0) continue;
        std::memcpy(send + own * a + s * rows, proj + (s0 + s) * nm + a,
                    std::size_t(rows) * sizeof(T));
      }
    });
    if (want_grad) {
      comm.alltoallv(buffers.send.data(), send_counts, send_offsets, buffers.recv.data(),
                     recv_counts, recv_offsets);
      // This rank's rows of G for the other ranks' directions, back in place.
      const index_t a = row0[rs(me)];
      const T* recv = buffers.recv.data();
#pragma omp parallel for num_threads(std::max(ctx.threads(), 1)) schedule(static)
      for (index_t s = 0; s < sc; ++s) {
        if ((s >= s0 && s < s1) || mine == 0) continue;
        std::memcpy(proj + s * nm + a, recv + s * mine, std::size_t(mine) * sizeof(T));
      }
      detail::cpu_sliced_back_project(ctx, ws, n, m, c0, sc, grad, accumulate);
    }
    if (want_sums) {
      for (int r = 0; r < ranks; ++r) {
        sum_offsets[rs(r)] = std::size_t(2 * (c0 + dir(r))) * sizeof(double);
        sum_counts[rs(r)] = std::size_t(2 * (dir(r + 1) - dir(r))) * sizeof(double);
      }
      comm.allgather(ws.sums.data(), sum_counts, sum_offsets);
    }
  }
  if (want_grad) {
    std::vector<std::size_t> counts(rs(ranks)), offsets(rs(ranks));
    for (int r = 0; r < ranks; ++r) {
      offsets[rs(r)] = std::size_t(row0[rs(r)] * d) * sizeof(T);
      counts[rs(r)] = std::size_t((row0[rs(r) + 1] - row0[rs(r)]) * d) * sizeof(T);
    }
    comm.allgather(grad.data, counts, offsets);
  }
  detail::cpu_sliced_sums(ws, n, out_xx, out_xy);
}

#define NWGF_SLICED_RANKS_INSTANTIATE(T)                                                           \
  template void sliced_gradient_ranks<T>(const Context&, const Comm&, SlicedRiesz<T>&,             \
                                         ConstPointsView<T>, ConstPointsView<T>, double*, double*, \
                                         T, T, PointsView<T>, bool, SlicedRanksBuffers<T>&);
NWGF_SLICED_RANKS_INSTANTIATE(float)
NWGF_SLICED_RANKS_INSTANTIATE(double)
#undef NWGF_SLICED_RANKS_INSTANTIATE

}  // namespace nwgf
