// The pairwise gradient across ranks (kernels/pairwise_ranks.hpp).
#include "nwgf/kernels/pairwise_ranks.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/reduce.hpp"

namespace nwgf {
namespace {

// Allgathers the rows of the CPU view g (N, d) that the ranks own (rank r the rows
// [first[r], first[r + 1])). A dense view (ld = d) moves in place; a strided one (a column of a
// wider matrix, ld > d: energy33's y coordinates) through a packed copy, so what lies between
// its rows stays as each rank has it.
template <class T>
void allgather_rows(const Comm& comm, PointsView<T> g, const std::vector<index_t>& first) {
  const int ranks = comm.size(), q = comm.rank();
  const index_t d = g.cols, ld = g.ld;
  std::vector<std::size_t> counts(static_cast<std::size_t>(ranks)), offsets(counts.size());
  for (int r = 0; r < ranks; ++r) {
    const index_t r0 = first[std::size_t(r)], r1 = first[std::size_t(r) + 1];
    offsets[std::size_t(r)] = std::size_t(r0 * d) * sizeof(T);
    counts[std::size_t(r)] = std::size_t((r1 - r0) * d) * sizeof(T);
  }
  if (ld == d) {
    comm.allgather(g.data, counts, offsets);
    return;
  }
  const index_t own0 = first[std::size_t(q)], own1 = first[std::size_t(q) + 1];
  std::vector<T> packed(static_cast<std::size_t>(g.rows * d));
  for (index_t i = own0; i < own1; ++i) {
    for (index_t k = 0; k < d; ++k) packed[std::size_t(i * d + k)] = g.data[i * ld + k];
  }
  comm.allgather(packed.data(), counts, offsets);
  for (index_t i = 0; i < g.rows; ++i) {
    if (i >= own0 && i < own1) continue;
    for (index_t k = 0; k < d; ++k) g.data[i * ld + k] = packed[std::size_t(i * d + k)];
  }
}

}  // namespace

std::vector<index_t> owned_row_starts(index_t n, int ranks) {
  const index_t grid = detail::cpu_row_block();
  const index_t blocks = (n + grid - 1) / grid;
  std::vector<index_t> first(static_cast<std::size_t>(ranks) + 1);
  for (int r = 0; r <= ranks; ++r) first[std::size_t(r)] = std::min(n, blocks * r / ranks * grid);
  return first;
}

std::pair<index_t, index_t> owned_rows(index_t n, int rank, int ranks) {
  const std::vector<index_t> first = owned_row_starts(n, ranks);
  return {first[std::size_t(rank)], first[std::size_t(rank) + 1]};
}

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
  if (grad.ld < grad.cols || grad.rows != x.rows || grad.cols != x.cols) {
    throw_runtime("pair_gradient_ranks: grad must be an (N, d) view");
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
  const std::vector<index_t> first = owned_row_starts(n, ranks);
  const index_t r0 = first[std::size_t(q)], rows = first[std::size_t(q) + 1] - r0;
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
  // CUDA: the rows stay on the device; NCCL gathers them on the Context's stream. Each rank's
  // part is the contiguous span from its first row's start to its last row's end: its rows
  // when dense; when strided (ld > d) also the entries between them, which the caller keeps
  // the same on every rank (energy33: the potential's column, computed whole on each rank), so
  // no packed copy (a kernel) is needed and the gathered view is bit for bit the dense case's.
  if (device_comm) {
    const index_t ld = grad.ld;
    std::vector<std::size_t> counts(static_cast<std::size_t>(ranks)), offsets(counts.size());
    for (int r = 0; r < ranks; ++r) {
      const index_t f0 = first[std::size_t(r)], f1 = first[std::size_t(r) + 1];
      offsets[std::size_t(r)] = std::size_t(f0 * ld) * sizeof(T);
      counts[std::size_t(r)] = f1 > f0 ? std::size_t((f1 - f0 - 1) * ld + d) * sizeof(T) : 0;
    }
    device_comm->device_allgather(grad.data, counts, offsets);
  } else {
    allgather_rows(comm, grad, first);
  }
}

namespace {

// The rows [first, last) of a pass's X side (x, v, a, g, values); Y untouched.
template <class T>
detail::RowPassArgs<T> pass_rows(detail::RowPassArgs<T> p, index_t first, index_t last) {
  p.x.data += first * p.x.ld;
  p.x.rows = last - first;
  if (p.v.data) {
    p.v.data += first * p.v.ld;
    p.v.rows = last - first;
  }
  if (p.a) p.a += first;
  if (p.g.data) {
    p.g.data += first * p.g.ld;
    p.g.rows = last - first;
  }
  if (p.values) p.values += first;
  return p;
}

// One CPU row pass split by the threads of one process (pairwise_ranks.hpp).
template <class T>
detail::PassResult row_pass_by_threads(const Context& ctx, const Comm& comm,
                                       detail::PairwisePass pass, const detail::RowPassArgs<T>& p) {
  const int ranks = comm.size(), q = comm.rank();
  const index_t n = p.x.rows, d = p.x.cols;
  if (p.g.data && (p.g.ld < p.g.cols || p.g.rows != n || p.g.cols != d)) {
    throw_runtime("row_pass_by_threads: g must be an (N, d) view");
  }
  const int nt = detail::cpu_row_threads(ctx.threads());
  const index_t grid = detail::cpu_row_block();
  const index_t blocks = (n + grid - 1) / grid;
  // Thread t's rows in one process: the row blocks [B t / nt, B (t + 1) / nt).
  const auto first_row = [&](int t) { return std::min(n, blocks * t / nt * grid); };
  const auto first_thread = [&](int r) { return int(std::int64_t(nt) * r / ranks); };
  const int t0 = first_thread(q), t1 = first_thread(q + 1);
  std::vector<double> value(std::size_t(nt), 0.0);
  std::vector<index_t> count(std::size_t(nt), 0);
  const bool write_values =
      p.values && (pass == detail::PairwisePass::energy ||
                   pass == detail::PairwisePass::value_gradient);
  const bool write_g = pass != detail::PairwisePass::energy && p.g.data;
  collective(comm, [&] {
    TraceSpan span(Phase::pairwise);
    trace_count(Counter::pairs, double(first_row(t1) - first_row(t0)) * double(p.y.rows));
    // Each of this rank's threads runs its rows as one single-threaded pass (a nested parallel
    // region of one thread), from 0 and in row order: the partial of that thread.
#pragma omp parallel for num_threads(std::max(t1 - t0, 1)) schedule(static, 1)
    for (int t = t0; t < t1; ++t) {
      const index_t i0 = first_row(t), i1 = first_row(t + 1);
      if (i1 == i0) continue;
      const detail::PassResult r = detail::cpu_row_pass<T>(pass, pass_rows(p, i0, i1), 1);
      value[std::size_t(t)] = r.value;
      count[std::size_t(t)] = r.coincident;
    }
  });
  std::vector<std::size_t> counts(static_cast<std::size_t>(ranks)), offsets(counts.size());
  const auto gather = [&](void* data, std::size_t per_thread, std::size_t per_row) {
    for (int r = 0; r < ranks; ++r) {
      const int a = first_thread(r), b = first_thread(r + 1);
      offsets[std::size_t(r)] =
          per_row ? std::size_t(first_row(a)) * per_row : std::size_t(a) * per_thread;
      counts[std::size_t(r)] = per_row ? std::size_t(first_row(b) - first_row(a)) * per_row
                                       : std::size_t(b - a) * per_thread;
    }
    comm.allgather(data, counts, offsets);
  };
  gather(value.data(), sizeof(double), 0);
  gather(count.data(), sizeof(index_t), 0);
  if (write_g) {
    std::vector<index_t> first(static_cast<std::size_t>(ranks) + 1);
    for (int r = 0; r <= ranks; ++r) first[std::size_t(r)] = first_row(first_thread(r));
    allgather_rows(comm, p.g, first);
  }
  if (write_values) gather(p.values, 0, sizeof(T));
  detail::PassResult res;
  res.value = sum_in_order(value.data(), nt);
  for (int t = 0; t < nt; ++t) res.coincident += count[std::size_t(t)];
  return res;
}

}  // namespace

template <class T>
void pair_energy_ranks(const Context& ctx, const Comm& comm, PairFamily family, double param,
                       ConstPointsView<T> x, const T* a, ConstPointsView<T> y, const T* b,
                       double* out) {
  const detail::RowPassArgs<T> p = detail::pair_pass_args(family, param, x, a, y, b);
  if (comm.size() == 1 || ctx.is_cuda() ||
      detail::cpu_takes_self_pass(detail::PairwisePass::energy, p)) {
    pair_energy(ctx, family, param, x, a, y, b, out);
    return;
  }
  *out = row_pass_by_threads(ctx, comm, detail::PairwisePass::energy, p).value;
}

template <class T>
void pair_row_sums_ranks(const Context& ctx, const Comm& comm, PairFamily family, double param,
                         ConstPointsView<T> x, const T* a, ConstPointsView<T> y, const T* b,
                         T scale, T* values, bool accumulate) {
  detail::RowPassArgs<T> p = detail::pair_pass_args(family, param, x, a, y, b);
  p.values = values;
  p.scale = scale;
  p.accumulate = accumulate;
  if (comm.size() == 1 || ctx.is_cuda() ||
      detail::cpu_takes_self_pass(detail::PairwisePass::energy, p)) {
    pair_row_sums(ctx, family, param, x, a, y, b, scale, values, accumulate);
    return;
  }
  row_pass_by_threads(ctx, comm, detail::PairwisePass::energy, p);
}

template <class T>
void pair_row_sums_gradient_ranks(const Context& ctx, const Comm& comm, PairFamily family,
                                  double param, ConstPointsView<T> x, const T* a,
                                  ConstPointsView<T> y, const T* b, T scale, T* values,
                                  PointsView<T> grad, bool accumulate) {
  if (comm.size() == 1 || ctx.is_cuda()) {
    pair_row_sums_gradient(ctx, family, param, x, a, y, b, scale, values, grad, accumulate);
    return;
  }
  detail::RowPassArgs<T> p = detail::pair_pass_args(family, param, x, a, y, b);
  p.values = values;
  p.g = grad;
  p.scale = scale;
  p.accumulate = accumulate;
  row_pass_by_threads(ctx, comm, detail::PairwisePass::value_gradient, p);
}

template <class T>
void riesz_directional_ranks(const Context& ctx, const Comm& comm, ConstPointsView<T> x,
                             ConstPointsView<T> v, const T* a, ConstPointsView<T> y,
                             ConstPointsView<T> w, const T* b, double r, double* out,
                             PointsView<T> grad_v, PointsView<T> grad_w, T scale, bool accumulate,
                             index_t* coincident) {
  if (comm.size() == 1 || ctx.is_cuda()) {
    riesz_directional(ctx, x, v, a, y, w, b, r, out, grad_v, grad_w, scale, accumulate,
                      coincident);
    return;
  }
  // The two passes of riesz_directional (kernels/pairwise_api.cpp).
  const auto [p, pq] =
      detail::directional_pass_args(x, v, a, y, w, b, r, grad_v, grad_w, scale, accumulate);
  const detail::PassResult res =
      row_pass_by_threads(ctx, comm, detail::PairwisePass::directional, p);
  if (out) *out = res.value;
  if (coincident) *coincident = res.coincident;
  if (grad_w.data) row_pass_by_threads(ctx, comm, detail::PairwisePass::directional, pq);
}

#define NWGF_RANKS_INSTANTIATE(T)                                                                  \
  template void pair_gradient_ranks<T>(const Context&, const Comm&, PairFamily, double,            \
                                       ConstPointsView<T>, const T*, ConstPointsView<T>, const T*, \
                                       T, PointsView<T>, bool);                                     \
  template void pair_energy_ranks<T>(const Context&, const Comm&, PairFamily, double,              \
                                     ConstPointsView<T>, const T*, ConstPointsView<T>, const T*,   \
                                     double*);                                                     \
  template void riesz_directional_ranks<T>(                                                        \
      const Context&, const Comm&, ConstPointsView<T>, ConstPointsView<T>, const T*,              \
      ConstPointsView<T>, ConstPointsView<T>, const T*, double, double*, PointsView<T>,            \
      PointsView<T>, T, bool, index_t*);                                                          \
  template void pair_row_sums_ranks<T>(const Context&, const Comm&, PairFamily, double,            \
                                       ConstPointsView<T>, const T*, ConstPointsView<T>, const T*, \
                                       T, T*, bool);                                               \
  template void pair_row_sums_gradient_ranks<T>(const Context&, const Comm&, PairFamily, double,   \
                                                ConstPointsView<T>, const T*, ConstPointsView<T>,  \
                                                const T*, T, T*, PointsView<T>, bool);
NWGF_RANKS_INSTANTIATE(float)
NWGF_RANKS_INSTANTIATE(double)
#undef NWGF_RANKS_INSTANTIATE

}  // namespace nwgf
