// The pairwise gradient across ranks (kernels/pairwise_ranks.hpp).
#include "nwgf/kernels/pairwise_ranks.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/trace.hpp"

namespace nwgf {

template <class T>
void pair_gradient_ranks(const Context& ctx, const Comm& comm, PairFamily family, double param,
                         ConstPointsView<T> x, const T* a, ConstPointsView<T> y, const T* b,
                         T scale, PointsView<T> grad, bool accumulate) {
  const int ranks = comm.size(), q = comm.rank();
  if (ranks == 1) {
    pair_gradient(ctx, family, param, x, a, y, b, scale, grad, accumulate);
    return;
  }
  const DeviceComm* device_comm = nullptr;
  if (ctx.is_cuda()) {
    device_comm = dynamic_cast<const DeviceComm*>(&comm);
    if (!device_comm) {
      throw_bad_input("pairwise: the CUDA backend across ranks needs a device communicator (NCCL)");
    }
  }
  if (grad.ld != grad.cols || grad.rows != x.rows || grad.cols != x.cols) {
    throw_runtime("pair_gradient_ranks: grad must be a dense (N, d) view");
  }
  detail::RowPassArgs<T> p = detail::pair_pass_args(family, param, x, a, y, b);
  p.g = grad;
  p.scale = scale;
  p.accumulate = accumulate;
  const index_t n = x.rows, d = x.cols;
  if (!device_comm && detail::cpu_takes_self_pass(detail::PairwisePass::gradient, p)) {
    const int nt = detail::cpu_self_threads(n, ctx.threads());
    const int t0 = int(std::int64_t(nt) * q / ranks), t1 = int(std::int64_t(nt) * (q + 1) / ranks);
    std::vector<double> acc;
    std::vector<std::vector<double>> part;
    // Every rank computes its threads' buffers at once; errors are agreed before the sum moves.
    collective(comm, [&] {
      TraceSpan span(Phase::pairwise);
      trace_count(Counter::pairs, 0.5 * double(n) * double(n) * double(t1 - t0) / double(nt));
      acc.assign(std::size_t(n * d), 0.0);
      part = detail::cpu_self_gradient_buffers(p, nt, t0, t1, ctx.threads());
    });
    // The running sum: from rank q - 1, plus this rank's threads in order, to rank q + 1.
    const std::size_t bytes = acc.size() * sizeof(double);
    if (q > 0) comm.recv(acc.data(), bytes, q - 1);
    if (!part.empty()) {
      const index_t count = n * d;
      double* accp = acc.data();
#pragma omp parallel for num_threads(std::max(ctx.threads(), 1)) schedule(static)
      for (index_t e = 0; e < count; ++e) {
        double v = accp[e];
        for (const auto& buf : part) v += buf[std::size_t(e)];
        accp[e] = v;
      }
    }
    if (q + 1 < ranks) comm.send(acc.data(), bytes, q + 1);
    comm.broadcast(acc.data(), bytes, ranks - 1);
    detail::cpu_write_gradient(p, acc.data(), ctx.threads());
    return;
  }
  // Rank boundaries fall on multiples of the CPU row pass's row block, so each rank's blocks are
  // those of one process. The CUDA row pass (kernels/pairwise.cu: one thread per row, summing
  // over all of Y in a fixed order, no symmetric self pass) gives a row the same bits whichever
  // rows its launch covers, so the same grid serves it.
  const index_t grid = detail::cpu_row_block();
  const index_t blocks = (n + grid - 1) / grid;
  std::vector<std::size_t> counts(static_cast<std::size_t>(ranks)), offsets(counts.size());
  for (int r = 0; r < ranks; ++r) {
    const index_t r0 = std::min(n, blocks * r / ranks * grid);
    const index_t r1 = std::min(n, blocks * (r + 1) / ranks * grid);
    offsets[std::size_t(r)] = std::size_t(r0 * d) * sizeof(T);
    counts[std::size_t(r)] = std::size_t((r1 - r0) * d) * sizeof(T);
  }
  const index_t r0 = index_t(offsets[std::size_t(q)] / sizeof(T)) / d;
  const index_t rows = index_t(counts[std::size_t(q)] / sizeof(T)) / d;
  collective(comm, [&] {
    if (rows == 0) return;
    ConstPointsView<T> xs = x;
    xs.data = x.data + r0 * x.ld;
    xs.rows = rows;
    PointsView<T> gs = grad;
    gs.data = grad.data + r0 * grad.ld;
    gs.rows = rows;
    pair_gradient(ctx, family, param, xs, a ? a + r0 : nullptr, y, b, scale, gs, accumulate);
  });
  // CUDA: the rows stay on the device; NCCL gathers them on the Context's stream.
  if (device_comm) {
    device_comm->device_allgather(grad.data, counts, offsets);
  } else {
    comm.allgather(grad.data, counts, offsets);
  }
}

#define NWGF_RANKS_INSTANTIATE(T)                                                                  \
  template void pair_gradient_ranks<T>(const Context&, const Comm&, PairFamily, double,            \
                                       ConstPointsView<T>, const T*, ConstPointsView<T>, const T*, \
                                       T, PointsView<T>, bool);
NWGF_RANKS_INSTANTIATE(float)
NWGF_RANKS_INSTANTIATE(double)
#undef NWGF_RANKS_INSTANTIATE

}  // namespace nwgf
