// The sliced Riesz sums and gradient across ranks with O((N + M)/P) memory per rank
// (kernels/sliced_sharded.hpp).
#include "nwgf/kernels/sliced_sharded.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"

namespace nwgf {
namespace {

constexpr index_t kBlock = 64;  // the row grid's block (owned_row_starts)

// c (sc, rows) with row stride ldc = theta_c (sc, d) a^T for a (rows, d) with row stride lda:
// one GEMM per 64-row block of the grid, so a block's projections have the same bits whichever
// rank holds it (a rank's rows start on a block boundary).
// (block: kBlock, or all rows at once for SlicedShardedOptions::one_gemm.)
template <class T>
void project_blocks(const Context& ctx, const T* theta, int sc, index_t d, const T* a, index_t lda,
                    index_t rows, T* c, index_t ldc, index_t block) {
  for (index_t i = 0; i < rows; i += block) {
    const index_t b = std::min(block, rows - i);
    gemm<T>(ctx, Op::N, Op::T, sc, b, d, T(1), theta, d, a + i * lda, lda, T(0), c + i, ldc);
  }
}

// grad (rows, d) = factor g^T theta_c (+ grad when beta = 1), g (sc, rows) with row stride ldg:
// one GEMM per 64-row block, as project_blocks.
template <class T>
void back_project_blocks(const Context& ctx, const T* g, index_t ldg, int sc, const T* theta,
                         index_t d, index_t rows, T factor, T beta, T* grad, index_t block) {
  for (index_t i = 0; i < rows; i += block) {
    const index_t b = std::min(block, rows - i);
    gemm<T>(ctx, Op::T, Op::N, b, d, sc, factor, g + i, ldg, theta, d, beta, grad + i * d, d);
  }
}

// v holds at least size elements on ctx's device (grown, contents dropped).
template <class T>
T* grow_device(const Context& ctx, Buffer<T>& v, index_t size) {
  if (v.size() < size) v = Buffer<T>(ctx, size);
  return v.data();
}

#ifdef NWGF_HAVE_CUDA
// Steps 1-5 on this rank's GPU (sliced_gradient_sharded's CUDA path, kernels/sliced_sharded.hpp):
// the layouts of the CPU path, the own projections (sc, width) sent by directions, received as
// (own, rank r's rows of X then of Y) per rank and copied into one process's (own, n) and
// (own, m) rows of the workspace; G (own, n) sent back by row owners into (sc, rows).
template <class T>
void sharded_on_device(const Context& ctx, const Comm& comm, detail::SlicedWorkspace<T>& ws,
                       ConstPointsView<T> x_own, index_t n, ConstPointsView<T> y_own, index_t m,
                       const std::vector<index_t>& xf, const std::vector<index_t>& yf,
                       bool want_grad, bool want_sums, double* out_xx, double* out_xy, T scale_xx,
                       T scale_xy, PointsView<T> grad_own, bool accumulate,
                       SlicedShardedBuffers<T>& buffers, const SlicedShardedOptions& options) {
  const int ranks = comm.size(), me = comm.rank();
  const auto rs = [](int r) { return std::size_t(r); };
  const bool alone = ranks == 1;
  const auto* dc = dynamic_cast<const DeviceComm*>(&comm);
  if (!alone && !dc) {
    throw_runtime(
        "sliced_gradient_sharded: the CUDA backend across ranks needs the NCCL device "
        "communicator");
  }
  const index_t d = ws.d, nm = n + m;
  const index_t rows = xf[rs(me) + 1] - xf[rs(me)], trows = yf[rs(me) + 1] - yf[rs(me)];
  const index_t width = rows + trows;
  const int S = ws.directions;
  const index_t share = (index_t(ws.chunk) + ranks - 1) / ranks;
  buffers.sums.assign(std::size_t(2 * S), 0.0);
  T* dsend = nullptr;
  T* drecv = nullptr;
  T* dg = nullptr;
  double* dsums = nullptr;
  double* dacc = nullptr;  // (rows, d): the own rows' back-projection so far
  collective(comm, [&] {
    if (want_grad) dacc = grow_device(ctx, buffers.device_acc, rows * d);
    if (!alone) {
      dsend = grow_device(ctx, buffers.device_send, index_t(ws.chunk) * width);
      drecv = grow_device(ctx, buffers.device_recv, share * nm);
      if (want_grad) dg = grow_device(ctx, buffers.device_g, index_t(ws.chunk) * rows);
    }
    dsums = grow_device(ctx, buffers.device_sums, 2 * share);
  });
  std::vector<std::size_t> send_counts(rs(ranks)), send_offsets(rs(ranks));
  std::vector<std::size_t> recv_counts(rs(ranks)), recv_offsets(rs(ranks));
  for (int c0 = 0; c0 < S && n > 0; c0 += ws.chunk) {
    const int sc = std::min(ws.chunk, S - c0);
    const auto dir = [&](int r) { return int(std::int64_t(sc) * r / ranks); };
    const int s0 = dir(me);
    const index_t own = dir(me + 1) - s0;
    const T* theta = ws.theta.data() + index_t(c0) * d;
    T* px = ws.proj_x.data();  // (own, n): the own directions' projections of X, then G
    T* py = ws.proj_y.data();  // (own, m)
    const T* g = px;
    index_t ldg = n;
    // 1. The own rows' projections: one rank writes one process's rows directly.
    collective(comm, [&] {
      TraceSpan span(Phase::sliced_project);
      if (alone) {
        detail::cuda_sliced_project_rows(ctx, theta, sc, d, x_own.data, x_own.ld, rows, px, n);
        detail::cuda_sliced_project_rows(ctx, theta, sc, d, y_own.data, y_own.ld, trows, py, m);
        return;
      }
      detail::cuda_sliced_project_rows(ctx, theta, sc, d, x_own.data, x_own.ld, rows, dsend, width);
      detail::cuda_sliced_project_rows(ctx, theta, sc, d, y_own.data, y_own.ld, trows, dsend + rows,
                                       width);
      for (int r = 0; r < ranks; ++r) {
        const int to = options.swap_transpose ? ranks - 1 - r : r;
        send_offsets[rs(to)] = std::size_t(index_t(dir(r)) * width) * sizeof(T);
        send_counts[rs(to)] = std::size_t(index_t(dir(r + 1) - dir(r)) * width) * sizeof(T);
        const index_t w = xf[rs(r) + 1] - xf[rs(r)] + yf[rs(r) + 1] - yf[rs(r)];
        recv_offsets[rs(r)] = std::size_t(own * (xf[rs(r)] + yf[rs(r)])) * sizeof(T);
        recv_counts[rs(r)] = std::size_t(own * w) * sizeof(T);
      }
    });
    // 2. The transpose, device to device.
    if (!alone) {
      dc->device_alltoallv(dsend, send_counts, send_offsets, drecv, recv_counts, recv_offsets);
    }
    // 3. One process's rows, sorted and ranked direction by direction.
    collective(comm, [&] {
      for (int r = 0; r < ranks && !alone; ++r) {
        const index_t xr = xf[rs(r) + 1] - xf[rs(r)], yr = yf[rs(r) + 1] - yf[rs(r)];
        const T* from = drecv + own * (xf[rs(r)] + yf[rs(r)]);
        detail::cuda_copy_rows(ctx, px + xf[rs(r)], n, from, xr + yr, own, xr);
        detail::cuda_copy_rows(ctx, py + yf[rs(r)], m, from + xr, xr + yr, own, yr);
      }
      detail::cuda_sliced_rank_directions(ctx, ws, n, m, int(own), scale_xx, scale_xy, want_grad,
                                          dsums);
      if (want_sums && own > 0) {
        detail::copy_bytes(ctx, buffers.sums.data() + 2 * (c0 + s0), Device::cpu, dsums,
                           Device::cuda, std::size_t(2 * own) * sizeof(double));
      }
      if (!want_grad || alone) return;
      // 4. To rank r: (own, its rows) of G; from rank r: (its directions, own rows).
      for (int r = 0; r < ranks; ++r) {
        const index_t xr = xf[rs(r) + 1] - xf[rs(r)];
        detail::cuda_copy_rows(ctx, drecv + own * xf[rs(r)], xr, px + xf[rs(r)], n, own, xr);
        send_offsets[rs(r)] = std::size_t(own * xf[rs(r)]) * sizeof(T);
        send_counts[rs(r)] = std::size_t(own * xr) * sizeof(T);
        recv_offsets[rs(r)] = std::size_t(index_t(dir(r)) * rows) * sizeof(T);
        recv_counts[rs(r)] = std::size_t(index_t(dir(r + 1) - dir(r)) * rows) * sizeof(T);
      }
    });
    if (want_grad) {
      if (!alone) {
        dc->device_alltoallv(drecv, send_counts, send_offsets, dg, recv_counts, recv_offsets);
        g = dg;
        ldg = rows;
      }
      // 5. The own rows' gradient, continued direction by direction in double.
      collective(comm, [&] {
        TraceSpan span(Phase::sliced_back_project);
        detail::cuda_sliced_back_project_rows(ctx, g, ldg, sc, theta, d, rows, c0 == 0, dacc);
      });
    }
    if (want_sums) {
      for (int r = 0; r < ranks; ++r) {
        send_offsets[rs(r)] = std::size_t(2 * (c0 + dir(r))) * sizeof(double);
        send_counts[rs(r)] = std::size_t(2 * (dir(r + 1) - dir(r))) * sizeof(double);
      }
      comm.allgather(buffers.sums.data(), send_counts, send_offsets);
    }
  }
  const double cd = sliced_constant(d) / S;
  if (want_grad) {
    collective(comm, [&] {
      detail::cuda_sliced_finish_rows(ctx, dacc, rows, d, cd, accumulate, grad_own.data);
    });
  }
  // The sums in direction order, as cpu_sliced_sums adds one process's.
  double xx = 0, xy = 0;
  for (int s = 0; s < S && n > 0; ++s) {
    xx += buffers.sums[std::size_t(2 * s)];
    xy += buffers.sums[std::size_t(2 * s + 1)];
  }
  if (out_xx) *out_xx = cd * xx;
  if (out_xy) *out_xy = cd * xy;
}
#endif

}  // namespace

template <class T>
void sliced_gradient_sharded(const Context& ctx, const Comm& comm, SlicedRiesz<T>& sliced,
                             ConstPointsView<T> x_own, index_t n, ConstPointsView<T> y_own,
                             index_t m, double* out_xx, double* out_xy, T scale_xx, T scale_xy,
                             PointsView<T> grad_own, bool accumulate,
                             SlicedShardedBuffers<T>& buffers,
                             const SlicedShardedOptions& options) {
  detail::SlicedWorkspace<T>& ws = sliced.workspace();
  const int ranks = comm.size(), me = comm.rank();
  const auto rs = [](int r) { return std::size_t(r); };
  const index_t d = ws.d, nm = n + m;
  // The chunks, the direction split and the exchanges below are every rank's own computation:
  // the sizes must be the same everywhere.
  const bool want_sums = out_xx != nullptr || out_xy != nullptr;
  require_same(comm, "the sharded sliced pass's sizes (n, m, d, S) and sums",
               std::to_string(n) + ", " + std::to_string(m) + ", " + std::to_string(d) + ", " +
                   std::to_string(ws.directions) + (want_sums ? ", sums" : ", no sums"));
  if (n > ws.max_n || m > ws.max_m || ws.proj_parts != ranks) {
    throw_runtime("sliced_gradient_sharded: n = " + std::to_string(n) +
                  ", m = " + std::to_string(m) + " at " + std::to_string(ranks) +
                  " ranks do not fit the workspace (" + std::to_string(ws.max_n) + ", " +
                  std::to_string(ws.max_m) + " rows, " + std::to_string(ws.proj_parts) + " parts)");
  }
  const std::vector<index_t> xf = owned_row_starts(n, ranks), yf = owned_row_starts(m, ranks);
  const index_t rows = xf[rs(me) + 1] - xf[rs(me)], trows = yf[rs(me) + 1] - yf[rs(me)];
  const index_t width = rows + trows;  // this rank's projections per direction
  // Whether a gradient is asked for: a rank without rows says nothing (an empty vector's data()
  // may be null), so the ranks with rows decide, and must agree.
  std::vector<char> has_grad(rs(ranks), 0);
  has_grad[rs(me)] = char(rows == 0 ? 0 : grad_own.data ? 2 : 1);
  {
    std::vector<std::size_t> counts(rs(ranks), 1), offsets(rs(ranks));
    for (int r = 0; r < ranks; ++r) offsets[rs(r)] = rs(r);
    comm.allgather(has_grad.data(), counts, offsets);
  }
  const bool want_grad =
      n > 0 && std::find(has_grad.begin(), has_grad.end(), char(2)) != has_grad.end();
  if (want_grad && std::find(has_grad.begin(), has_grad.end(), char(1)) != has_grad.end()) {
    throw_runtime("sliced_gradient_sharded: some ranks pass a gradient and others none");
  }
  const int S = ws.directions;
  const T factor = T(sliced_constant(d) / S);
  const index_t block = options.one_gemm ? std::max<index_t>(1, std::max(rows, trows)) : kBlock;
  collective(comm, [&] {
    if (x_own.rows != rows || y_own.rows != trows || (rows > 0 && x_own.cols != d) ||
        (trows > 0 && y_own.cols != d)) {
      throw_runtime("sliced_gradient_sharded: rank " + std::to_string(me) + " holds " +
                    std::to_string(x_own.rows) + " rows of X and " + std::to_string(y_own.rows) +
                    " of Y, not its rows of the grid (" + std::to_string(rows) + ", " +
                    std::to_string(trows) + ") of d = " + std::to_string(d));
    }
    if (grad_own.data && (grad_own.rows != rows || grad_own.cols != d || grad_own.ld != d)) {
      throw_runtime("sliced_gradient_sharded: grad_own must be a dense (rows, d) view");
    }
  });

  if (ctx.is_cuda()) {
#ifdef NWGF_HAVE_CUDA
    sharded_on_device(ctx, comm, ws, x_own, n, y_own, m, xf, yf, want_grad, want_sums, out_xx,
                      out_xy, scale_xx, scale_xy, grad_own, accumulate, buffers, options);
    return;
#endif
  }
  std::vector<std::size_t> send_counts(rs(ranks)), send_offsets(rs(ranks));
  std::vector<std::size_t> recv_counts(rs(ranks)), recv_offsets(rs(ranks));
  for (int c0 = 0; c0 < S && n > 0; c0 += ws.chunk) {
    const int sc = std::min(ws.chunk, S - c0);
    // The chunk's directions [dir(r), dir(r + 1)) belong to rank r.
    const auto dir = [&](int r) { return int(std::int64_t(sc) * r / ranks); };
    const int s0 = dir(me);
    const index_t own = dir(me + 1) - s0;
    const T* theta = ws.theta.data() + index_t(c0) * d;
    // The space: proj (own, n + m) the own directions' projections, then G; it also holds the
    // first transpose's send part (consumed before proj is filled) and the second's receive part
    // (G sent off before) where they fit; recv the first transpose's receive part, then the
    // second's send part (own n <= own (n + m)).
    T* proj = ws.proj_x.data();
    const index_t proj_cap = ws.proj_x.size();
    const auto grow = [](std::vector<T>& v, index_t size) {
      if (v.size() < std::size_t(size)) v.resize(std::size_t(size));
      return v.data();
    };
    // One rank: its projections, (sc, n + m) with X's rows then Y's, are one process's rows
    // [p | q] already, and G stays in them: no transposes, no receive buffer.
    const bool alone = ranks == 1;
    T* send = nullptr;
    T* recv = nullptr;
    T* g = nullptr;
    index_t ldg = rows;
    // 1. The own rows' projections, (sc, width) row-major, so rank r's directions are one piece.
    collective(comm, [&] {
      TraceSpan span(Phase::sliced_project);
      send = index_t(sc) * width <= proj_cap ? proj : grow(buffers.send, index_t(sc) * width);
      recv = alone ? nullptr : grow(buffers.recv, own * nm);
      project_blocks(ctx, theta, sc, d, x_own.data, x_own.ld, rows, send, width, block);
      if (trows > 0)
        project_blocks(ctx, theta, sc, d, y_own.data, y_own.ld, trows, send + rows, width, block);
      for (int r = 0; r < ranks; ++r) {
        const int to = options.swap_transpose ? ranks - 1 - r : r;
        send_offsets[rs(to)] = std::size_t(index_t(dir(r)) * width) * sizeof(T);
        send_counts[rs(to)] = std::size_t(index_t(dir(r + 1) - dir(r)) * width) * sizeof(T);
        // From rank r: (own, its rows of X then of Y), after those of ranks < r.
        const index_t w = xf[rs(r) + 1] - xf[rs(r)] + yf[rs(r) + 1] - yf[rs(r)];
        recv_offsets[rs(r)] = std::size_t(own * (xf[rs(r)] + yf[rs(r)])) * sizeof(T);
        recv_counts[rs(r)] = std::size_t(own * w) * sizeof(T);
      }
    });
    // 2. The transpose: every rank gets all N + M projections of its directions.
    if (!alone) comm.alltoallv(send, send_counts, send_offsets, recv, recv_counts, recv_offsets);
    // 3. Laid out as one process's rows [p | q], sorted and ranked: sums and G[s, 0..n).
    collective(comm, [&] {
      const index_t pieces = alone ? 0 : own * ranks;
#pragma omp parallel for num_threads(std::max(ctx.threads(), 1)) schedule(static)
      for (index_t k = 0; k < pieces; ++k) {
        const index_t s = k / ranks;
        const int r = int(k % ranks);
        const index_t xr = xf[rs(r) + 1] - xf[rs(r)], yr = yf[rs(r) + 1] - yf[rs(r)];
        const T* from = recv + own * (xf[rs(r)] + yf[rs(r)]) + s * (xr + yr);
        if (xr > 0) std::memcpy(proj + s * nm + xf[rs(r)], from, std::size_t(xr) * sizeof(T));
        if (yr > 0)
          std::memcpy(proj + s * nm + n + yf[rs(r)], from + xr, std::size_t(yr) * sizeof(T));
      }
      if (own > 0) {
        detail::cpu_sliced_rank(ctx, ws, n, m, c0 + s0, 0, int(own), scale_xx, scale_xy, want_grad);
      }
      if (!want_grad) return;
      if (alone) {
        g = proj;
        ldg = nm;
        return;
      }
      // 4. To rank r: (own, its rows) of G; from rank r: (its directions, own rows), landing in
      // direction order in g (sc, rows).
      send = recv;
      g = index_t(sc) * rows <= proj_cap ? proj : grow(buffers.g, index_t(sc) * rows);
      for (int r = 0; r < ranks; ++r) {
        const index_t xr = xf[rs(r) + 1] - xf[rs(r)];
        send_offsets[rs(r)] = std::size_t(own * xf[rs(r)]) * sizeof(T);
        send_counts[rs(r)] = std::size_t(own * xr) * sizeof(T);
        recv_offsets[rs(r)] = std::size_t(index_t(dir(r)) * rows) * sizeof(T);
        recv_counts[rs(r)] = std::size_t(index_t(dir(r + 1) - dir(r)) * rows) * sizeof(T);
      }
#pragma omp parallel for num_threads(std::max(ctx.threads(), 1)) schedule(static)
      for (index_t k = 0; k < pieces; ++k) {
        const index_t s = k / ranks;
        const int r = int(k % ranks);
        const index_t xr = xf[rs(r) + 1] - xf[rs(r)];
        if (xr > 0) {
          std::memcpy(send + own * xf[rs(r)] + s * xr, proj + s * nm + xf[rs(r)],
                      std::size_t(xr) * sizeof(T));
        }
      }
    });
    if (want_grad) {
      if (!alone) comm.alltoallv(send, send_counts, send_offsets, g, recv_counts, recv_offsets);
      // 5. The own rows' gradient.
      TraceSpan span(Phase::sliced_back_project);
      const T beta = (c0 == 0 && !accumulate) ? T(0) : T(1);
      back_project_blocks(ctx, g, ldg, sc, theta, d, rows, factor, beta, grad_own.data, block);
    }
    if (want_sums) {
      for (int r = 0; r < ranks; ++r) {
        send_offsets[rs(r)] = std::size_t(2 * (c0 + dir(r))) * sizeof(double);
        send_counts[rs(r)] = std::size_t(2 * (dir(r + 1) - dir(r))) * sizeof(double);
      }
      comm.allgather(ws.sums.data(), send_counts, send_offsets);
    }
  }
  detail::cpu_sliced_sums(ws, n, out_xx, out_xy);
}

#define NWGF_SLICED_SHARDED_INSTANTIATE(T)                                                       \
  template void sliced_gradient_sharded<T>(const Context&, const Comm&, SlicedRiesz<T>&,         \
                                           ConstPointsView<T>, index_t, ConstPointsView<T>,      \
                                           index_t, double*, double*, T, T, PointsView<T>, bool, \
                                           SlicedShardedBuffers<T>&, const SlicedShardedOptions&);
NWGF_SLICED_SHARDED_INSTANTIATE(float)
NWGF_SLICED_SHARDED_INSTANTIATE(double)
#undef NWGF_SLICED_SHARDED_INSTANTIATE

}  // namespace nwgf
