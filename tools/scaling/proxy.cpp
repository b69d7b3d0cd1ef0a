// The scaling proxy (README, "Simulated scaling study (SimGrid SMPI)"): one step of
// the particle gradient across P ranks under SimGrid SMPI, built with smpicxx. The MPI traffic
// is the engine's own: engine/comm/comm.cpp and engine/comm/mpi_comm.cpp are compiled in
// unchanged, the communicator comes from CommSession, and the exact schedules below repeat
// kernels/pairwise_ranks.cpp line for line (row blocks on the fixed 64-row grid, errors agreed
// by collective() before the exchange, the allgather of the rows; the d <= 3 self pass with its
// running sum rank 0 -> P-1 and the last rank's broadcast). Every compute phase is replaced by
// simulated time (smpi_execute_flops on hosts of 1 Gflop/s, so flops = 1e9 x seconds), given
// per pair / per point by the calibration (tools/scaling/run_study.py). No point is computed and
// no N-sized buffer exists: the buffers are SMPI_SHARED_MALLOC (one shared page set, never
// copied) and every message is `--byte-scale K` times smaller than the real one on a platform
// whose links are K times slower, so bytes / bandwidth, and hence the time, is the real one
// (latencies and compute are not scaled).
//
// Two schedules are models, not engine code (labelled "model" in the study):
//   ring    the exact path: rows stay owned, column blocks pass around a ring,
//           double-buffered (Isend/Irecv of the next block while the current one is computed),
//           no allgather (O(N/P) memory per rank).
//   sliced  the sliced r = 1 path (being written on branch mpisliced): projections of
//           the own rows, an alltoallv transpose so each rank sorts all 2N projections of its
//           S/P directions, a transpose of the gradient coefficients back, the back-projection
//           of the own rows and the allgather of the rows (through Comm::allgather).
//
// Output (rank 0): one CSV line: schedule,n,d,bytes_per_value,ranks,step_s,compute_s,comm_s
// (step_s: the slowest rank's simulated time for one step, barrier to barrier; compute_s: the
// slowest rank's simulated compute).
#include <mpi.h>
#include <smpi/smpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"

namespace {

struct Options {
  std::string schedule = "rows";              // rows | self | ring | sliced
  std::int64_t n = 100000, d = 2, bytes = 4;  // bytes per value (f32 4, f64 8)
  double pair_s = 1e-9;                       // seconds per pair on one compute unit (core or GPU)
  int units = 1;                              // compute units per rank (cores; 1 for a GPU)
  int threads = 1;                            // --threads of the self pass (every rank the same)
  double mem_bps = 2e11;                      // node memory bandwidth (the self pass's buffer sums)
  int directions = 256;                       // sliced: S
  double sort_s = 1e-8;   // sliced: seconds per point and direction (sort + ranks), one unit
  double gemm_s = 1e-12;  // sliced: seconds per point, direction and coordinate, one unit
  double byte_scale = 1;  // K
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--schedule")
      o.schedule = v;
    else if (k == "--n")
      o.n = std::int64_t(std::stod(v));
    else if (k == "--d")
      o.d = std::stoll(v);
    else if (k == "--bytes")
      o.bytes = std::stoll(v);
    else if (k == "--pair-s")
      o.pair_s = std::stod(v);
    else if (k == "--units")
      o.units = std::stoi(v);
    else if (k == "--threads")
      o.threads = std::stoi(v);
    else if (k == "--mem-bps")
      o.mem_bps = std::stod(v);
    else if (k == "--directions")
      o.directions = std::stoi(v);
    else if (k == "--sort-s")
      o.sort_s = std::stod(v);
    else if (k == "--gemm-s")
      o.gemm_s = std::stod(v);
    else if (k == "--byte-scale")
      o.byte_scale = std::stod(v);
    else
      throw std::invalid_argument("proxy: unknown option " + k);
  }
  return o;
}

double g_compute = 0;  // this rank's simulated compute, seconds

// Simulated compute (hosts run 1 Gflop/s in the platform files).
void compute(double seconds) {
  if (seconds <= 0) return;
  g_compute += seconds;
  smpi_execute_flops(seconds * 1e9);
}

// A message's simulated size: K times smaller than the real one (at least one byte).
std::size_t scaled(double bytes, double k) {
  if (bytes <= 0) return 0;
  return std::size_t(std::max(1.0, bytes / k));
}

// Rank r's rows [r0, r1) on the fixed grid of 64-row blocks (kernels/pairwise_ranks.cpp).
std::pair<std::int64_t, std::int64_t> rows_of(std::int64_t n, int r, int ranks) {
  const std::int64_t grid = 64, blocks = (n + grid - 1) / grid;
  return {std::min(n, blocks * r / ranks * grid), std::min(n, blocks * (r + 1) / ranks * grid)};
}

// One shared buffer of at least `bytes` (SMPI_SHARED_MALLOC: contents meaningless, not copied).
struct Shared {
  void* p = nullptr;
  explicit Shared(std::size_t bytes) { p = SMPI_SHARED_MALLOC(std::max<std::size_t>(bytes, 64)); }
  ~Shared() { SMPI_SHARED_FREE(p); }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
};

// The row pass of pair_gradient_ranks: own rows x all N columns, then the rows' allgather.
void step_rows(const nwgf::Comm& comm, const Options& o) {
  const int ranks = comm.size(), q = comm.rank();
  std::vector<std::size_t> counts(static_cast<std::size_t>(ranks)), offsets(counts.size());
  std::size_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    const auto [r0, r1] = rows_of(o.n, r, ranks);
    counts[std::size_t(r)] = scaled(double((r1 - r0) * o.d * o.bytes), o.byte_scale);
    offsets[std::size_t(r)] = total;
    total += counts[std::size_t(r)];
  }
  const auto [r0, r1] = rows_of(o.n, q, ranks);
  Shared grad(total);
  nwgf::collective(comm, [&] {
    if (r1 == r0) return;
    compute(double(r1 - r0) * double(o.n) * o.pair_s / o.units);
  });
  if (ranks > 1) comm.allgather(grad.p, counts, offsets);
}

// The d <= 3 self pass of pair_gradient_ranks: rank q computes the per-thread buffers of threads
// [nt q / P, nt (q + 1) / P) (each 1/nt of the N^2 pairs, counted as bench pairwise counts them),
// with min(threads, its buffers) threads on its `units` cores; the running sum passes 0 -> P-1
// (each rank adds its buffers: memory-bound) and the last rank broadcasts it.
void step_self(const nwgf::Comm& comm, const Options& o) {
  const int ranks = comm.size(), q = comm.rank();
  const std::int64_t blocks = (o.n + 255) / 256;
  const int nt = int(std::clamp<std::int64_t>(o.threads, 1, std::min<std::int64_t>(1024, blocks)));
  const int t0 = int(std::int64_t(nt) * q / ranks), t1 = int(std::int64_t(nt) * (q + 1) / ranks);
  const int mine = t1 - t0;
  const double nd = double(o.n) * double(o.d);
  Shared acc(scaled(nd * 8, o.byte_scale));
  const std::size_t bytes = scaled(nd * 8, o.byte_scale);
  nwgf::collective(comm, [&] {
    if (mine == 0) return;
    const int used = std::max(1, std::min({mine, o.threads, o.units}));
    compute(double(mine) * double(o.n) * double(o.n) / nt * o.pair_s / used);
  });
  if (ranks == 1) {
    compute(nd * 8 * (mine + 1) / o.mem_bps);  // the buffers' sum in thread order
    return;
  }
  if (q > 0) comm.recv(acc.p, bytes, q - 1);
  if (mine > 0) compute(nd * 8 * (mine + 2) / o.mem_bps);
  if (q + 1 < ranks) comm.send(acc.p, bytes, q + 1);
  comm.broadcast(acc.p, bytes, ranks - 1);
}

// Model: the ring of column blocks, double-buffered, rows kept (no allgather).
void step_ring(const nwgf::Comm& comm, const Options& o) {
  const int ranks = comm.size(), q = comm.rank();
  const auto [r0, r1] = rows_of(o.n, q, ranks);
  std::int64_t most = 0;
  for (int r = 0; r < ranks; ++r) {
    const auto [a, b] = rows_of(o.n, r, ranks);
    most = std::max(most, b - a);
  }
  Shared cur(scaled(double(most * o.d * o.bytes), o.byte_scale));
  Shared next(scaled(double(most * o.d * o.bytes), o.byte_scale));
  void* c = cur.p;
  void* nx = next.p;
  const int left = (q + ranks - 1) % ranks, right = (q + 1) % ranks;
  for (int s = 0; s < ranks; ++s) {
    const auto [c0, c1] = rows_of(o.n, (q + s) % ranks, ranks);
    MPI_Request req[2];
    int nreq = 0;
    if (s + 1 < ranks) {
      const auto [n0, n1] = rows_of(o.n, (q + s + 1) % ranks, ranks);
      MPI_Irecv(nx, int(scaled(double((n1 - n0) * o.d * o.bytes), o.byte_scale)), MPI_BYTE, right,
                7, MPI_COMM_WORLD, &req[nreq++]);
      MPI_Isend(c, int(scaled(double((c1 - c0) * o.d * o.bytes), o.byte_scale)), MPI_BYTE, left, 7,
                MPI_COMM_WORLD, &req[nreq++]);
    }
    compute(double(r1 - r0) * double(c1 - c0) * o.pair_s / o.units);
    MPI_Waitall(nreq, req, MPI_STATUSES_IGNORE);
    std::swap(c, nx);
  }
}

// Model: the sliced r = 1 gradient with S directions (X and Y of N points each, as bench sliced).
void step_sliced(const nwgf::Comm& comm, const Options& o) {
  const int ranks = comm.size(), q = comm.rank();
  const auto dirs = [&](int r) {
    return std::int64_t(o.directions) * (r + 1) / ranks - std::int64_t(o.directions) * r / ranks;
  };
  const auto [r0, r1] = rows_of(o.n, q, ranks);
  const double rows = double(r1 - r0), s = o.directions;
  // Projections of the own rows of X and Y onto all S directions: (2 rows, d) x (d, S).
  compute(2 * rows * s * double(o.d) * o.gemm_s / o.units);
  std::vector<int> sc(static_cast<std::size_t>(ranks)), sd(sc.size()), rc(sc.size()), rd(sc.size());
  std::int64_t stot = 0, rtot = 0;
  const auto fill = [&](bool back) {
    stot = rtot = 0;
    for (int r = 0; r < ranks; ++r) {
      const auto [a0, a1] = rows_of(o.n, r, ranks);
      // forward: own rows (X and Y) x r's directions out; r's rows x own directions in.
      // back: the coefficients of X only, the other way round.
      const double out = back ? double(a1 - a0) * double(dirs(q)) : 2 * rows * double(dirs(r));
      const double in = back ? rows * double(dirs(r)) : 2 * double(a1 - a0) * double(dirs(q));
      sc[std::size_t(r)] = int(scaled(out * double(o.bytes), o.byte_scale));
      rc[std::size_t(r)] = int(scaled(in * double(o.bytes), o.byte_scale));
      sd[std::size_t(r)] = int(stot);
      rd[std::size_t(r)] = int(rtot);
      stot += sc[std::size_t(r)];
      rtot += rc[std::size_t(r)];
    }
  };
  std::size_t most = 0;
  for (bool back : {false, true}) {
    fill(back);
    most = std::max({most, std::size_t(stot), std::size_t(rtot)});
  }
  Shared sbuf(most), rbuf(most);
  fill(false);
  if (ranks > 1) {
    MPI_Alltoallv(sbuf.p, sc.data(), sd.data(), MPI_BYTE, rbuf.p, rc.data(), rd.data(), MPI_BYTE,
                  MPI_COMM_WORLD);
  }
  // Sorts and rank passes of the own directions, one direction per unit at a time.
  const double mine = double(dirs(q));
  if (mine > 0) compute(mine * 2 * double(o.n) * o.sort_s / std::min(double(o.units), mine));
  fill(true);
  if (ranks > 1) {
    MPI_Alltoallv(sbuf.p, sc.data(), sd.data(), MPI_BYTE, rbuf.p, rc.data(), rd.data(), MPI_BYTE,
                  MPI_COMM_WORLD);
  }
  // Back-projection of the own rows: (rows, S) x (S, d).
  compute(rows * s * double(o.d) * o.gemm_s / o.units);
  std::vector<std::size_t> counts(static_cast<std::size_t>(ranks)), offsets(counts.size());
  std::size_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    const auto [a0, a1] = rows_of(o.n, r, ranks);
    counts[std::size_t(r)] = scaled(double((a1 - a0) * o.d * o.bytes), o.byte_scale);
    offsets[std::size_t(r)] = total;
    total += counts[std::size_t(r)];
  }
  Shared grad(total);
  if (ranks > 1) comm.allgather(grad.p, counts, offsets);
}

}  // namespace

int main(int argc, char** argv) {
  // CommSession takes MPI only under a launcher; smpirun sets none of the variables it reads.
  setenv("PMI_SIZE", "0", 0);
  int status = 0;
  {
    nwgf::CommSession session;
    const nwgf::Comm& comm = session.comm();
    try {
      const Options o = parse(argc, argv);
      MPI_Barrier(MPI_COMM_WORLD);
      const double t0 = MPI_Wtime();
      if (o.schedule == "rows")
        step_rows(comm, o);
      else if (o.schedule == "self")
        step_self(comm, o);
      else if (o.schedule == "ring")
        step_ring(comm, o);
      else if (o.schedule == "sliced")
        step_sliced(comm, o);
      else
        throw std::invalid_argument("proxy: unknown schedule " + o.schedule);
      MPI_Barrier(MPI_COMM_WORLD);
      const double mine[2] = {MPI_Wtime() - t0, g_compute};
      double most[2] = {mine[0], mine[1]};
      // (SimGrid 3.32's ompi reduce aborts on one rank.)
      if (comm.size() > 1) MPI_Reduce(mine, most, 2, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
      if (comm.root()) {
        std::printf("%s,%lld,%lld,%lld,%d,%.9g,%.9g,%.9g\n", o.schedule.c_str(),
                    static_cast<long long>(o.n), static_cast<long long>(o.d),
                    static_cast<long long>(o.bytes), comm.size(), most[0], most[1],
                    most[0] - most[1]);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      status = 2;
    }
  }
  return status;
}
