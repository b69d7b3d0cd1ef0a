// Exact pairwise sums across ranks with O(N/P) memory per rank (kernels/pairwise_sharded.hpp).
#include "nwgf/kernels/pairwise_sharded.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#ifdef NWGF_HAVE_CUDA
#include "nwgf/engine/device_stream.hpp"
#endif
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/reduce.hpp"

namespace nwgf {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One chunk of the stream: global columns [c0, c1) of Y, all in rank `owner`'s block.
struct Chunk {
  index_t c0 = 0, c1 = 0;
  int owner = 0;
};

// The chunks in global column order: each rank's block cut at the multiples of `per` (global
// columns), so a chunk never spans two ranks.
std::vector<Chunk> chunk_list(const std::vector<index_t>& first, index_t per) {
  std::vector<Chunk> chunks;
  for (std::size_t r = 0; r + 1 < first.size(); ++r) {
    for (index_t c = first[r]; c < first[r + 1];) {
      const index_t e = std::min(first[r + 1], (c / per + 1) * per);
      chunks.push_back({c, e, int(r)});
      c = e;
    }
  }
  return chunks;
}

// The local outcome of work that may fail on some ranks only (memory): kept, then agreed.
CommStatus status_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& err) {
    return {err.exit_code(), err.what()};
  } catch (const std::bad_alloc&) {
    return {1, "out of memory"};
  } catch (const std::exception& err) {
    return {1, err.what()};
  }
}

[[noreturn]] void throw_agreed(const CommStatus& s) {
  throw Error(s.code == 2   ? ErrorKind::bad_input
              : s.code == 3 ? ErrorKind::numerical
                            : ErrorKind::runtime,
              s.message);
}

// What every rank computes alike before a stream (so it must be the same everywhere, checked):
// the grid of Y, this rank's rows and first column, the chunk length (a multiple of the
// column tile jb) and the chunks in stream order, and whether Y has weights.
struct StreamPlan {
  std::vector<index_t> yf;
  index_t rows = 0, y0 = 0, per = 0;
  std::vector<Chunk> chunks;
  bool weights = false;
};

template <class T>
StreamPlan plan_stream(const Comm& comm, const detail::RowPassArgs<T>& p, index_t n, index_t m,
                       index_t jb, const ShardedOptions& options) {
  const int ranks = comm.size(), q = comm.rank();
  const index_t d = p.x.cols;
  require_same(comm, "the sharded pass's sizes (n, m, d)",
               std::to_string(n) + ", " + std::to_string(m) + ", " + std::to_string(d));
  StreamPlan s;
  const std::vector<index_t> xf = owned_row_starts(n, ranks);
  s.yf = owned_row_starts(m, ranks);
  s.rows = xf[std::size_t(q) + 1] - xf[std::size_t(q)];
  s.y0 = s.yf[std::size_t(q)];
  s.per = options.chunk_columns;
  if (s.per <= 0) s.per = std::max<index_t>(1, (index_t(4) << 20) / index_t(sizeof(T)) / d);
  s.per = (s.per + jb - 1) / jb * jb;
  s.chunks = chunk_list(s.yf, s.per);
  if (options.reverse_chunks) std::reverse(s.chunks.begin(), s.chunks.end());
  // Whether Y has weights: b_own of a rank with no columns says nothing (an empty vector's
  // data() may be null), so the ranks with columns decide, and must agree.
  std::vector<char> has_b(static_cast<std::size_t>(ranks), 0);
  has_b[std::size_t(q)] = char(p.y.rows == 0 ? 0 : p.b ? 2 : 1);
  {
    std::vector<std::size_t> counts(has_b.size(), 1), offsets(has_b.size());
    for (std::size_t r = 0; r < offsets.size(); ++r) offsets[r] = r;
    comm.allgather(has_b.data(), counts, offsets);
  }
  s.weights = std::find(has_b.begin(), has_b.end(), char(2)) != has_b.end();
  if (s.weights && std::find(has_b.begin(), has_b.end(), char(1)) != has_b.end()) {
    throw_runtime("pairwise_sharded: some ranks pass weights of Y and others none");
  }
  return s;
}

// This rank's arguments hold exactly its rows of the plan's grids (X, and V for the directional
// pass; Y, and W); called inside the stream's first collective, so every rank learns of a
// mismatch on any rank.
template <class T>
void check_own_rows(const StreamPlan& plan, const detail::RowPassArgs<T>& p, int q, bool dir) {
  const index_t rows = plan.rows, cols = plan.yf[std::size_t(q) + 1] - plan.y0;
  if (p.x.rows != rows || p.y.rows != cols || p.y.cols != p.x.cols ||
      (dir && (p.v.rows != rows || p.w.rows != p.y.rows))) {
    throw_runtime("pairwise_sharded: rank " + std::to_string(q) + " holds " +
                  std::to_string(p.x.rows) + " rows of X and " + std::to_string(p.y.rows) +
                  " of Y, not its rows of the grid (" + std::to_string(rows) + ", " +
                  std::to_string(cols) + ")");
  }
}

// The stream and the row accumulators of one sharded pass (energy, gradient, both, or the
// directional pass, whose W streams beside Y and whose coincident pairs this rank's rows met are
// added to *coincident).
template <class T>
ShardedStats stream_rows(const Context& ctx, const Comm& comm, detail::PairwisePass pass,
                         const detail::RowPassArgs<T>& p, index_t n, index_t m,
                         const ShardedOptions& options, std::vector<double>& acc_value,
                         std::vector<double>& acc_g, index_t* coincident = nullptr) {
  const int q = comm.rank();
  const index_t d = p.x.cols;
  const index_t jb = detail::cpu_column_tile<T>(d);
  const StreamPlan plan = plan_stream(comm, p, n, m, jb, options);
  const index_t rows = plan.rows, y0 = plan.y0, per = plan.per;
  const std::vector<Chunk>& chunks = plan.chunks;
  const bool weights = plan.weights;
  const bool want_g = pass != detail::PairwisePass::energy;
  const bool dir = pass == detail::PairwisePass::directional;
  // Staging slot layout: jb columns of carry (the start of a tile cut by the previous chunk,
  // right-aligned) then the chunk's columns, so the cut tile reads on contiguously.
  const index_t slot_cols = jb + per;
  std::vector<T> ys[2], bs[2], ws[2];
  ShardedStats st;
  st.chunk_columns = per;
  st.chunks = index_t(chunks.size());
  collective(comm, [&] {
    check_own_rows(plan, p, q, dir);
    acc_value.assign(std::size_t(rows), 0.0);
    if (want_g) acc_g.assign(std::size_t(rows * d), 0.0);
    const index_t used = std::min(slot_cols, jb + std::max<index_t>(m, 0));
    for (auto& y : ys) y.resize(std::size_t(used * d));
    if (dir) {
      for (auto& w : ws) w.resize(std::size_t(used * d));
    }
    if (weights) {
      for (auto& b : bs) b.resize(std::size_t(used));
    }
    st.buffer_bytes =
        (acc_value.size() + acc_g.size()) * sizeof(double) +
        (ys[0].size() + ys[1].size() + bs[0].size() + bs[1].size() + ws[0].size() + ws[1].size()) *
            sizeof(T);
  });
  if (chunks.empty()) return st;

  CommRequest pending[2][3];
  // Posts chunk k's broadcast into slot k % 2 (the owner copies its columns in first).
  const auto post = [&](std::size_t k) {
    const Chunk& c = chunks[k];
    const std::size_t s = k % 2;
    const index_t len = c.c1 - c.c0;
    T* yd = ys[s].data() + jb * d;
    T* bd = weights ? bs[s].data() + jb : nullptr;
    T* wd = dir ? ws[s].data() + jb * d : nullptr;
    if (c.owner == q) {
      for (index_t j = 0; j < len; ++j) {
        const T* src = p.y.data + (c.c0 - y0 + j) * p.y.ld;
        std::copy(src, src + d, yd + j * d);
        if (dir) {
          const T* wsrc = p.w.data + (c.c0 - y0 + j) * p.w.ld;
          std::copy(wsrc, wsrc + d, wd + j * d);
        }
      }
      if (weights) std::copy(p.b + (c.c0 - y0), p.b + (c.c1 - y0), bd);
    }
    pending[s][0] = comm.ibroadcast(yd, std::size_t(len * d) * sizeof(T), c.owner);
    if (weights) pending[s][1] = comm.ibroadcast(bd, std::size_t(len) * sizeof(T), c.owner);
    if (dir) pending[s][2] = comm.ibroadcast(wd, std::size_t(len * d) * sizeof(T), c.owner);
  };

  std::exception_ptr failed;
  index_t carry = 0;  // columns of a cut tile waiting at the end of the current slot's carry area
  TraceSpan span(Phase::pairwise);
  trace_count(Counter::pairs, double(rows) * double(m));
  post(0);
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    const std::size_t s = k % 2, nexts = (k + 1) % 2;
    const double w0 = now_seconds();
    pending[s][0].wait();
    pending[s][1].wait();
    pending[s][2].wait();
    st.wait_seconds += now_seconds() - w0;
    if (k + 1 < chunks.size()) post(k + 1);
    const index_t len = chunks[k].c1 - chunks[k].c0;
    const index_t avail = carry + len;
    const bool last = k + 1 == chunks.size();
    const index_t take = last ? avail : avail / jb * jb;
    const double c0 = now_seconds();
    if (!failed && rows > 0 && take > 0) {
      try {
        detail::RowPassArgs<T> pk = p;
        pk.y = ConstPointsView<T>(ys[s].data() + (jb - carry) * d, take, d, Device::cpu);
        pk.b = weights ? bs[s].data() + (jb - carry) : nullptr;
        if (dir) pk.w = ConstPointsView<T>(ws[s].data() + (jb - carry) * d, take, d, Device::cpu);
        const auto progress = [&] {
          if (k + 1 < chunks.size()) {
            pending[nexts][0].test();
            pending[nexts][1].test();
            pending[nexts][2].test();
          }
        };
        detail::cpu_rows_against_tiles<T>(pass, pk, acc_value.data(),
                                          want_g ? acc_g.data() : nullptr, ctx.threads(), progress,
                                          coincident);
      } catch (...) {
        failed = std::current_exception();
      }
    }
    st.compute_seconds += now_seconds() - c0;
    // The cut tile's columns move to the next slot's carry area (its broadcast, in flight,
    // fills the columns after it).
    const index_t left = avail - take;
    if (left > 0) {
      const T* from = ys[s].data() + (jb - carry + take) * d;
      std::memcpy(ys[nexts].data() + (jb - left) * d, from, std::size_t(left * d) * sizeof(T));
      if (weights) {
        std::memcpy(bs[nexts].data() + (jb - left), bs[s].data() + (jb - carry + take),
                    std::size_t(left) * sizeof(T));
      }
      if (dir) {
        std::memcpy(ws[nexts].data() + (jb - left) * d, ws[s].data() + (jb - carry + take) * d,
                    std::size_t(left * d) * sizeof(T));
      }
    }
    carry = left;
  }
  const CommStatus agreed = comm.agree(failed ? status_of(failed) : CommStatus{});
  if (agreed.code != 0) throw_agreed(agreed);
  return st;
}

// The value of a row pass from this rank's row sums acc (a_i-weighted), on every rank, bit for
// bit one process's: there thread t of nt sums a_i row_i over its rows (the 64-row blocks
// [B t / nt, B (t + 1) / nt)) in order from 0, and the partials add in thread order. Here the
// nt partials pass rank 0 -> 1 -> ... -> P-1, each adding its rows in order to their thread's
// partial, and the last rank broadcasts them.
template <class T>
double rows_in_thread_order(const Context& ctx, const Comm& comm, index_t n, const T* a_own,
                            const std::vector<double>& acc) {
  const int ranks = comm.size(), q = comm.rank();
  const int nt = detail::cpu_row_threads(ctx.threads());
  const index_t grid = detail::cpu_row_block();
  const index_t blocks = (n + grid - 1) / grid;
  const index_t r0 = owned_row_starts(n, ranks)[std::size_t(q)];
  std::vector<double> part(std::size_t(nt), 0.0);
  const std::size_t bytes = part.size() * sizeof(double);
  if (q > 0) comm.recv(part.data(), bytes, q - 1);
  int t = 0;
  for (index_t i = 0; i < index_t(acc.size()); ++i) {
    const index_t bi = (r0 + i) / grid;
    while (t + 1 < nt && blocks * (t + 1) / nt <= bi) ++t;
    part[std::size_t(t)] += (a_own ? double(a_own[i]) : 1.0) * acc[std::size_t(i)];
  }
  if (q + 1 < ranks) comm.send(part.data(), bytes, q + 1);
  comm.broadcast(part.data(), bytes, ranks - 1);
  return sum_in_order(part.data(), nt);
}

template <class T>
detail::RowPassArgs<T> own_args(const Context& ctx, PairFamily family, double param,
                                ConstPointsView<T> x_own, const T* a_own, ConstPointsView<T> y_own,
                                const T* b_own) {
  if (x_own.device != ctx.device() || y_own.device != ctx.device()) {
    throw_runtime("pairwise_sharded: the own rows are not on the context's device");
  }
  return detail::pair_pass_args(family, param, x_own, a_own, y_own, b_own);
}

#ifdef NWGF_HAVE_CUDA
// The CUDA stream: the chunks of stream_rows in the same global column order, broadcast by their
// owners into two device staging slots (DeviceComm::device_broadcast), the CUDA row kernels
// carrying each row's sums from chunk to chunk in acc ((rows, d + 1) doubles, detail::RowCarry),
// chunks cut on the kernels' column tiles (detail::cuda_column_tile; a tile cut by the end of a
// rank's block is completed from the next chunk, its start carried over as on the CPU). The
// owner's packs and the broadcasts run on a second stream (DeviceStream) beside ctx's, which
// runs the kernels and the carry copies: chunk k + 1's broadcast into the other slot overlaps
// chunk k's kernel. Two events per slot order them: the broadcast into slot s waits for the
// kernel and carry copy that last read s (chunk k - 2's), chunk k's kernel waits for chunk k's
// broadcast. The carry copy writes the next slot's carry area, which that slot's broadcast (in
// flight) does not touch, and reads slot s after the kernel's wait. Only the queueing changes:
// the arithmetic, and so the bits, are those of one stream. The directional pass streams W
// beside Y in the same slots' layout and adds the coincident pairs of this rank's rows to
// device_count (one index_t on the device).
template <class T>
ShardedStats stream_rows_cuda(const Context& ctx, const Comm& comm, detail::PairwisePass pass,
                              const detail::RowPassArgs<T>& p, index_t n, index_t m,
                              const ShardedOptions& options, Buffer<double>& acc,
                              index_t* device_count = nullptr) {
  const int ranks = comm.size(), q = comm.rank();
  const index_t d = p.x.cols;
  const bool dir = pass == detail::PairwisePass::directional;
  const auto* dc = dynamic_cast<const DeviceComm*>(&comm);
  if (ranks > 1 && !dc) {
    throw_runtime(
        "pairwise_sharded: the CUDA backend across ranks needs the NCCL device "
        "communicator");
  }
  const index_t jb = detail::cuda_column_tile<T>(d);
  const StreamPlan plan = plan_stream(comm, p, n, m, jb, options);
  const index_t rows = plan.rows, y0 = plan.y0, per = plan.per;
  const std::vector<Chunk>& chunks = plan.chunks;
  const bool weights = plan.weights;
  const index_t slot_cols = jb + per;
  Buffer<T> ys[2], bs[2], ws[2];
  ShardedStats st;
  st.chunk_columns = per;
  st.chunks = index_t(chunks.size());
  collective(comm, [&] {
    check_own_rows(plan, p, q, dir);
    acc = Buffer<double>(ctx, rows * (d + 1));
    const index_t used = std::min(slot_cols, jb + std::max<index_t>(m, 0));
    for (auto& y : ys) y = Buffer<T>(ctx, used * d);
    if (dir) {
      for (auto& w : ws) w = Buffer<T>(ctx, used * d);
    }
    if (weights) {
      for (auto& b : bs) b = Buffer<T>(ctx, used);
    }
    st.buffer_bytes = acc.bytes() + ys[0].bytes() + ys[1].bytes() + bs[0].bytes() + bs[1].bytes() +
                      ws[0].bytes() + ws[1].bytes();
  });
  // The packs and broadcasts go on a stream of their own beside ctx's (declared after the slots:
  // it waits for its work before they are freed). staged[s]: recorded on it after the chunk
  // broadcast into slot s; read[s]: recorded on ctx's stream after the last kernel and carry copy
  // that read slot s.
  const DeviceStream side(ctx);
  const DeviceEvent staged[2] = {DeviceEvent(ctx), DeviceEvent(ctx)};
  const DeviceEvent read[2] = {DeviceEvent(ctx), DeviceEvent(ctx)};
  // The owner's rows [c0, c1) of Y (or W) packed into a slot.
  const auto pack = [&](T* to, ConstPointsView<T> from, const Chunk& c) {
    const T* src = from.data + (c.c0 - y0) * from.ld;
    const index_t len = c.c1 - c.c0;
    if (from.ld == d) {
      side.copy(to, src, std::size_t(len * d) * sizeof(T));
      return;
    }
    for (index_t j = 0; j < len; ++j) {
      side.copy(to + j * d, src + j * from.ld, std::size_t(d) * sizeof(T));
    }
  };

  const double t0 = now_seconds();
  // Queues chunk k's broadcast into slot k % 2 (the owner copies its columns in first).
  const auto post = [&](std::size_t k) {
    const Chunk& c = chunks[k];
    const std::size_t s = k % 2;
    const index_t len = c.c1 - c.c0;
    T* yd = ys[s].data() + jb * d;
    T* bd = weights ? bs[s].data() + jb : nullptr;
    T* wd = dir ? ws[s].data() + jb * d : nullptr;
    read[s].wait(side);  // chunk k - 2's kernel and carry copy are done with the slot
    if (c.owner == q) {
      pack(yd, p.y, c);
      if (dir) pack(wd, p.w, c);
      if (weights) side.copy(bd, p.b + (c.c0 - y0), std::size_t(len) * sizeof(T));
    }
    if (ranks > 1) {
      dc->device_broadcast(yd, std::size_t(len * d) * sizeof(T), c.owner, side);
      if (weights) dc->device_broadcast(bd, std::size_t(len) * sizeof(T), c.owner, side);
      if (dir) dc->device_broadcast(wd, std::size_t(len * d) * sizeof(T), c.owner, side);
    }
    staged[s].record(side);
  };

  std::exception_ptr failed;
  PairwiseWorkspace pws;
  bool started = false;  // a launch has put this rank's rows into acc
  // One launch of this rank's rows against `cols` staged columns of slot s from column `at`.
  const auto launch = [&](std::size_t s, index_t at, index_t cols, bool last) {
    if (failed || rows == 0) return;
    try {
      detail::RowPassArgs<T> pk = p;
      pk.y = ConstPointsView<T>(ys[s].data() + at * d, cols, d, Device::cuda);
      pk.b = weights ? bs[s].data() + at : nullptr;
      if (dir) pk.w = ConstPointsView<T>(ws[s].data() + at * d, cols, d, Device::cuda);
      detail::RowCarry c;
      c.from = started ? acc.data() : nullptr;
      c.to = acc.data();
      c.last = last;
      detail::cuda_row_pass(ctx, pass, pk, nullptr, nullptr, pws, device_count, c);
      started = true;
    } catch (...) {
      failed = std::current_exception();
    }
  };
  TraceSpan span(Phase::pairwise);
  trace_count(Counter::pairs, double(rows) * double(m));
  index_t carry = 0;  // columns of a cut tile at the end of the current slot's carry area
  if (chunks.empty()) launch(0, 0, 0, true);  // no columns: the rows' zeros
  if (!chunks.empty()) post(0);
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    const std::size_t s = k % 2, nexts = (k + 1) % 2;
    if (k + 1 < chunks.size()) post(k + 1);
    const index_t len = chunks[k].c1 - chunks[k].c0;
    const index_t avail = carry + len;
    const bool last = k + 1 == chunks.size();
    const index_t take = last ? avail : avail / jb * jb;
    staged[s].wait(ctx);  // chunk k's columns are in slot s
    if (take > 0 || last) launch(s, jb - carry, take, last);
    const index_t left = avail - take;
    if (left > 0) {
      detail::copy_bytes(ctx, ys[nexts].data() + (jb - left) * d, Device::cuda,
                         ys[s].data() + (jb - carry + take) * d, Device::cuda,
                         std::size_t(left * d) * sizeof(T));
      if (weights) {
        detail::copy_bytes(ctx, bs[nexts].data() + (jb - left), Device::cuda,
                           bs[s].data() + (jb - carry + take), Device::cuda,
                           std::size_t(left) * sizeof(T));
      }
      if (dir) {
        detail::copy_bytes(ctx, ws[nexts].data() + (jb - left) * d, Device::cuda,
                           ws[s].data() + (jb - carry + take) * d, Device::cuda,
                           std::size_t(left * d) * sizeof(T));
      }
    }
    read[s].record(ctx);
    carry = left;
  }
  try {
    ctx.synchronize();
  } catch (...) {
    if (!failed) failed = std::current_exception();
  }
  st.compute_seconds = now_seconds() - t0;
  const CommStatus agreed = comm.agree(failed ? status_of(failed) : CommStatus{});
  if (agreed.code != 0) throw_agreed(agreed);
  return st;
}

// The energy of a CUDA sharded pass on every rank: the 64-row blocks of the global grid each
// summed in row order (a_i times the row's value, on the device), gathered in global block
// order and added in that order, so the same bits at any rank count.
template <class T>
double energy_on_grid(const Context& ctx, const Comm& comm, index_t n, index_t d, const T* a_own,
                      const Buffer<double>& acc) {
  const int ranks = comm.size(), q = comm.rank();
  const index_t grid = detail::cpu_row_block();
  const std::vector<index_t> xf = owned_row_starts(n, ranks);
  const index_t blocks = (n + grid - 1) / grid;
  std::vector<std::size_t> counts(static_cast<std::size_t>(ranks)), offsets(counts.size());
  for (int r = 0; r < ranks; ++r) {
    const index_t b0 = xf[std::size_t(r)] / grid, b1 = (xf[std::size_t(r) + 1] + grid - 1) / grid;
    offsets[std::size_t(r)] = std::size_t(b0) * sizeof(double);
    counts[std::size_t(r)] = std::size_t(b1 - b0) * sizeof(double);
  }
  std::vector<double> sums(static_cast<std::size_t>(blocks), 0.0);
  collective(comm, [&] {
    const index_t rows = xf[std::size_t(q) + 1] - xf[std::size_t(q)];
    const index_t own = index_t(counts[std::size_t(q)] / sizeof(double));
    if (own == 0) return;
    Buffer<double> dev(ctx, own);
    detail::cuda_row_block_sums(ctx, acc.data(), d + 1, a_own, rows, dev.data());
    detail::copy_bytes(ctx, sums.data() + offsets[std::size_t(q)] / sizeof(double), Device::cpu,
                       dev.data(), Device::cuda, dev.bytes());
  });
  comm.allgather(sums.data(), counts, offsets);
  return sum_in_order(sums.data(), blocks);
}
#endif

}  // namespace

template <class T>
ShardedStats pair_gradient_sharded(const Context& ctx, const Comm& comm, PairFamily family,
                                   double param, ConstPointsView<T> x_own, const T* a_own,
                                   index_t n, ConstPointsView<T> y_own, const T* b_own, index_t m,
                                   T scale, PointsView<T> grad_own, bool accumulate,
                                   const ShardedOptions& options) {
  detail::RowPassArgs<T> p;
  // The arguments checked inside a collective: a rank whose arguments are wrong throws with
  // every other rank instead of leaving them waiting in the stream's first collective.
  collective(comm, [&] {
    p = own_args(ctx, family, param, x_own, a_own, y_own, b_own);
    if (grad_own.rows != x_own.rows || grad_own.cols != x_own.cols ||
        grad_own.ld < grad_own.cols) {
      throw_runtime("pair_gradient_sharded: grad_own must be a (rows_owned, d) view");
    }
  });
  p.g = grad_own;
  p.scale = scale;
  p.accumulate = accumulate;
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    Buffer<double> acc;
    return stream_rows_cuda(ctx, comm, detail::PairwisePass::gradient, p, n, m, options, acc);
  }
#endif
  std::vector<double> acc_value, acc_g;
  const ShardedStats st = stream_rows(ctx, comm, detail::PairwisePass::gradient, p, n, m, options,
                                      acc_value, acc_g);
  detail::cpu_write_rows(p, nullptr, acc_g.data(), ctx.threads());
  return st;
}

template <class T>
ShardedStats pair_row_sums_gradient_sharded(const Context& ctx, const Comm& comm,
                                            PairFamily family, double param,
                                            ConstPointsView<T> x_own, const T* a_own, index_t n,
                                            ConstPointsView<T> y_own, const T* b_own, index_t m,
                                            T scale, T* values_own, PointsView<T> grad_own,
                                            bool accumulate, const ShardedOptions& options) {
  detail::RowPassArgs<T> p;
  collective(comm, [&] {  // as in pair_gradient_sharded
    p = own_args(ctx, family, param, x_own, a_own, y_own, b_own);
    if (grad_own.rows != x_own.rows || grad_own.cols != x_own.cols ||
        grad_own.ld < grad_own.cols) {
      throw_runtime("pair_row_sums_gradient_sharded: grad_own must be a (rows_owned, d) view");
    }
    if (x_own.rows > 0 && !values_own) {
      throw_runtime("pair_row_sums_gradient_sharded: values_own is null");
    }
  });
  p.values = values_own;
  p.g = grad_own;
  p.scale = scale;
  p.accumulate = accumulate;
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    Buffer<double> acc;
    return stream_rows_cuda(ctx, comm, detail::PairwisePass::value_gradient, p, n, m, options, acc);
  }
#endif
  std::vector<double> acc_value, acc_g;
  const ShardedStats st = stream_rows(ctx, comm, detail::PairwisePass::value_gradient, p, n, m,
                                      options, acc_value, acc_g);
  detail::cpu_write_rows(p, acc_value.data(), acc_g.data(), ctx.threads());
  return st;
}

template <class T>
ShardedStats pair_energy_sharded(const Context& ctx, const Comm& comm, PairFamily family,
                                 double param, ConstPointsView<T> x_own, const T* a_own, index_t n,
                                 ConstPointsView<T> y_own, const T* b_own, index_t m, double* out,
                                 T scale, T* values_own, bool accumulate,
                                 const ShardedOptions& options) {
  detail::RowPassArgs<T> p;
  collective(comm, [&] {  // as in pair_gradient_sharded
    p = own_args(ctx, family, param, x_own, a_own, y_own, b_own);
  });
  p.values = values_own;
  p.scale = scale;
  p.accumulate = accumulate;
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    Buffer<double> acc;
    const ShardedStats st =
        stream_rows_cuda(ctx, comm, detail::PairwisePass::energy, p, n, m, options, acc);
    if (out) *out = energy_on_grid(ctx, comm, n, x_own.cols, a_own, acc);
    return st;
  }
#endif
  std::vector<double> acc_value, acc_g;
  const ShardedStats st = stream_rows(ctx, comm, detail::PairwisePass::energy, p, n, m, options,
                                      acc_value, acc_g);
  if (values_own) detail::cpu_write_rows(p, acc_value.data(), nullptr, ctx.threads());
  if (out) *out = rows_in_thread_order(ctx, comm, n, a_own, acc_value);
  return st;
}

template <class T>
ShardedStats riesz_directional_sharded(const Context& ctx, const Comm& comm,
                                       ConstPointsView<T> x_own, ConstPointsView<T> v_own,
                                       const T* a_own, index_t n, ConstPointsView<T> y_own,
                                       ConstPointsView<T> w_own, const T* b_own, index_t m,
                                       double r, double* out, PointsView<T> grad_v_own, T scale,
                                       bool accumulate, index_t* coincident,
                                       const ShardedOptions& options) {
  detail::RowPassArgs<T> p;
  collective(comm, [&] {  // as in pair_gradient_sharded
    p = own_args(ctx, PairFamily::riesz, r, x_own, a_own, y_own, b_own);
    if (v_own.rows != x_own.rows || v_own.cols != x_own.cols || w_own.rows != y_own.rows ||
        w_own.cols != y_own.cols ||
        (grad_v_own.data && (grad_v_own.rows != x_own.rows || grad_v_own.cols != x_own.cols))) {
      throw_runtime("riesz_directional_sharded: v, w and grad_v must have the shapes of x and y");
    }
    if (ctx.is_cuda() && (v_own.device != Device::cuda || w_own.device != Device::cuda ||
                          (grad_v_own.data && grad_v_own.device != Device::cuda))) {
      throw_runtime("riesz_directional_sharded: v, w and grad_v are not on the context's device");
    }
  });
  p.v = v_own;
  p.w = w_own;
  p.g = grad_v_own;
  p.scale = scale;
  p.accumulate = accumulate;
  index_t own_count = 0;
  ShardedStats st;
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    // The rows write grad_v themselves (the last launch); D on the fixed 64-row grid as the
    // energy; the count on the device until the stream ends.
    Buffer<double> acc;
    Buffer<index_t> count;
    collective(comm, [&] {
      count = Buffer<index_t>(ctx, 1);
      detail::copy_bytes(ctx, count.data(), Device::cuda, &own_count, Device::cpu,
                         sizeof(index_t));
    });
    st = stream_rows_cuda(ctx, comm, detail::PairwisePass::directional, p, n, m, options, acc,
                          coincident ? count.data() : nullptr);
    if (out) *out = energy_on_grid(ctx, comm, n, x_own.cols, a_own, acc);
    if (coincident) {
      detail::copy_bytes(ctx, &own_count, Device::cpu, count.data(), Device::cuda,
                         sizeof(index_t));
      ctx.synchronize();
    }
  }
#endif
  if (!ctx.is_cuda()) {
    std::vector<double> acc_value, acc_g;
    st = stream_rows(ctx, comm, detail::PairwisePass::directional, p, n, m, options, acc_value,
                     acc_g, &own_count);
    if (grad_v_own.data) detail::cpu_write_rows(p, nullptr, acc_g.data(), ctx.threads());
    if (out) *out = rows_in_thread_order(ctx, comm, n, a_own, acc_value);
  }
  if (coincident) {
    // Every rank's count (integers: the order does not matter).
    std::vector<index_t> counts(static_cast<std::size_t>(comm.size()), 0);
    counts[std::size_t(comm.rank())] = own_count;
    std::vector<std::size_t> bytes(counts.size(), sizeof(index_t)), offsets(counts.size());
    for (std::size_t k = 0; k < offsets.size(); ++k) offsets[k] = k * sizeof(index_t);
    comm.allgather(counts.data(), bytes, offsets);
    *coincident = 0;
    for (index_t c : counts) *coincident += c;
  }
  return st;
}

template <class T>
ShardedStats riesz_directional_dw_sharded(const Context& ctx, const Comm& comm,
                                          ConstPointsView<T> x_own, ConstPointsView<T> v_own,
                                          const T* a_own, index_t n, ConstPointsView<T> y_own,
                                          ConstPointsView<T> w_own, const T* b_own, index_t m,
                                          double r, PointsView<T> grad_w_own, T scale,
                                          bool accumulate, const ShardedOptions& options) {
  // The rows of Y (with W, b) against X (with V, a) streaming past.
  detail::RowPassArgs<T> q;
  collective(comm, [&] {  // as in pair_gradient_sharded
    q = own_args(ctx, PairFamily::riesz, r, y_own, b_own, x_own, a_own);
    if (v_own.rows != x_own.rows || v_own.cols != x_own.cols || w_own.rows != y_own.rows ||
        w_own.cols != y_own.cols || (y_own.rows > 0 && !grad_w_own.data) ||
        grad_w_own.rows != y_own.rows || grad_w_own.cols != y_own.cols) {
      throw_runtime(
          "riesz_directional_dw_sharded: v, w and grad_w must have the shapes of x and y");
    }
    if (ctx.is_cuda() && (v_own.device != Device::cuda || w_own.device != Device::cuda ||
                          (grad_w_own.data && grad_w_own.device != Device::cuda))) {
      throw_runtime(
          "riesz_directional_dw_sharded: v, w and grad_w are not on the context's device");
    }
  });
  q.v = w_own;
  q.w = v_own;
  q.g = grad_w_own;
  q.scale = scale;
  q.accumulate = accumulate;
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    Buffer<double> acc;  // the rows write grad_w themselves (the last launch)
    return stream_rows_cuda(ctx, comm, detail::PairwisePass::directional, q, m, n, options, acc);
  }
#endif
  std::vector<double> acc_value, acc_g;
  const ShardedStats st = stream_rows(ctx, comm, detail::PairwisePass::directional, q, m, n,
                                      options, acc_value, acc_g);
  detail::cpu_write_rows(q, nullptr, acc_g.data(), ctx.threads());
  return st;
}

#define NWGF_SHARDED_INSTANTIATE(T)                                                               \
  template ShardedStats pair_gradient_sharded<T>(                                                 \
      const Context&, const Comm&, PairFamily, double, ConstPointsView<T>, const T*, index_t,     \
      ConstPointsView<T>, const T*, index_t, T, PointsView<T>, bool, const ShardedOptions&);      \
  template ShardedStats pair_row_sums_gradient_sharded<T>(                                        \
      const Context&, const Comm&, PairFamily, double, ConstPointsView<T>, const T*, index_t,      \
      ConstPointsView<T>, const T*, index_t, T, T*, PointsView<T>, bool, const ShardedOptions&);   \
  template ShardedStats pair_energy_sharded<T>(const Context&, const Comm&, PairFamily, double,   \
                                               ConstPointsView<T>, const T*, index_t,             \
                                               ConstPointsView<T>, const T*, index_t, double*, T, \
                                               T*, bool, const ShardedOptions&);                  \
  template ShardedStats riesz_directional_sharded<T>(                                             \
      const Context&, const Comm&, ConstPointsView<T>, ConstPointsView<T>, const T*, index_t,     \
      ConstPointsView<T>, ConstPointsView<T>, const T*, index_t, double, double*, PointsView<T>,  \
      T, bool, index_t*, const ShardedOptions&);                                                 \
  template ShardedStats riesz_directional_dw_sharded<T>(                                          \
      const Context&, const Comm&, ConstPointsView<T>, ConstPointsView<T>, const T*, index_t,     \
      ConstPointsView<T>, ConstPointsView<T>, const T*, index_t, double, PointsView<T>, T, bool,  \
      const ShardedOptions&);
NWGF_SHARDED_INSTANTIATE(float)
NWGF_SHARDED_INSTANTIATE(double)
#undef NWGF_SHARDED_INSTANTIATE

}  // namespace nwgf
