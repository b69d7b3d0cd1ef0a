// `nwgf bench sliced`: the sliced Riesz sums (r = 1) on X and Y, N standard normal points each
// in R^d, S directions drawn once before timing. `seconds` is the median time of one
// SlicedRiesz::evaluate computing both values S_xx = sum_ij |x_i - x_j| and S_xy = sum_ij
// |x_i - y_j| and the gradient -1/(2N^2) dS_xx/dx + 1/N^2 dS_xy/dx (N x d): projections, the
// sorts of all S (N + N) projections, ranks and back-projection (tools/bench/peers/
// sliced_torch.py times the same work in PyTorch). `cpu_seconds` is the median process CPU time
// of the same calls, `cpu_ns_per_point_direction` that over 2 N S (points times directions).
// NWGF_SLICED_CPU=auto|pairs|packed|vqsort picks the CPU sort (kernels/sliced.cpp); `cpu_sort`
// names the one that ran.
//
// --sharded (any rank count, `mpirun -np P nwgf bench sliced --sharded`): the same call by the
// sharded pass (kernels/sliced_sharded.hpp: each rank draws and holds only its own rows of X and
// Y, the projections transposed). Every rank makes the same `repeats` calls (each is
// collective); `seconds` is rank 0's median; per rank: its rows, the bytes of its workspace and
// transpose buffers, and the process's peak resident memory (getrusage), gathered on rank 0.
// --one-gemm: one GEMM over a rank's rows instead of one per 64-row block (timing only: the
// bits may then depend on P; CPU only). --backend cuda: each rank's rows on its GPU (the GPU
// picked by rank_cuda_device), the transposes over NCCL (kernels/sliced_sharded.hpp's CUDA path);
// the buffer bytes then count the device workspace and transposes.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "nwgf/kernels/sliced_sharded.hpp"
#include "tools/nwgf/bench.hpp"

namespace nwgf::cli {
namespace {

struct SlicedBenchOptions {
  index_t n = 100000, d = 2;
  int directions = 128;
  std::string dtype = "f32", backend = "cpu";
  int repeats = 5;
  bool sharded = false, one_gemm = false;
};

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

template <class T>
int run_sliced_bench(const SlicedBenchOptions& o, const GlobalOptions& g) {
  Context ctx(resolve_backend(parse_backend(o.backend)), g.threads);
  const index_t n = o.n, d = o.d;
  Points<T> x(ctx, n, d), y(ctx, n, d), grad(ctx, n, d);
  rng_normal<T>(ctx, 1, 0, 0, x.data(), n * d);
  rng_normal<T>(ctx, 1, 1, 0, y.data(), n * d);
  SlicedRiesz<T> sliced(ctx, n, n, d, o.directions);
  sliced.draw_directions(ctx, 1, 2, 0);
  Buffer<double> out(ctx, 2);
  const double nn = double(n) * double(n);
  const auto step = [&] {
    sliced.evaluate(ctx, std::as_const(x).view(), std::as_const(y).view(), out.data(),
                    out.data() + 1, T(-0.5 / nn), T(1 / nn), grad.view(), false);
    ctx.synchronize();
  };
  // Process CPU seconds per call beside the wall time: on a loaded machine the wall time of a
  // long call includes the time other processes held the cores.
  std::vector<double> cpu;
  double cpu0 = 0;
  const auto around = [&](bool before) {
    if (before) {
      cpu0 = process_cpu_seconds();
    } else {
      cpu.push_back(process_cpu_seconds() - cpu0);
    }
  };
  const Timing t = time_repeats(step, o.repeats, 0.3, around);
  const Timing tc = summarise_times(cpu);
  // CPU time per projected point and direction: (N + M) S points are projected, sorted and ranked.
  const double point_directions = 2.0 * double(n) * double(o.directions);
  const std::vector<double> sums = download(ctx, out);
  JsonObject j;
  j.add("bench", "sliced").add("device", to_string(ctx.device())).add("threads", ctx.threads());
  j.add("simd", simd_target());
  if (!ctx.is_cuda()) j.add("cpu_sort", detail::to_string(sliced.workspace().cpu_sort));
  j.add("dtype", to_string(dtype_of<T>())).add("n", (long long)n).add("m", (long long)n);
  j.add("d", (long long)d).add("directions", o.directions);
  j.add("seconds", t.median).add("seconds_min", t.min).add("seconds_max", t.max);
  j.add("repeats", t.repeats);
  j.add("cpu_seconds", tc.median).add("cpu_seconds_min", tc.min);
  j.add("cpu_ns_per_point_direction", tc.median / point_directions * 1e9);
  j.add("s_xx", sums[0]).add("s_xy", sums[1]);
  j.add("timed", "evaluate: S_xx, S_xy and their gradient wrt x (directions fixed)");
  std::printf("%s\n", j.str().c_str());
  return 0;
}

template <class T>
int run_sliced_sharded_bench(const SlicedBenchOptions& o, const GlobalOptions& g) {
  const Comm& comm = g.comm ? *g.comm : single_process_comm();
  const int ranks = comm.size(), q = comm.rank();
  const auto [r0, r1] = sharded_bench_rows(comm, o.backend, o.n, true);
  const bool cuda = parse_backend(o.backend) == BackendChoice::cuda;
  if (cuda && o.one_gemm) throw_bad_input("--one-gemm: the CPU backend only (no GEMM on CUDA)");
  const Context host(Device::cpu, g.threads);
  const index_t n = o.n, d = o.d;
  const index_t rows = r1 - r0;
  // This rank's rows of the points one process draws (Philox addressed by global index).
  Points<T> hx(host, rows, d), hy(host, rows, d);
  if (rows > 0) {
    rng_normal<T>(host, 1, 0, std::uint64_t(r0 * d), hx.data(), rows * d);
    rng_normal<T>(host, 1, 1, std::uint64_t(r0 * d), hy.data(), rows * d);
  }
  // --backend cuda: the rows on this rank's GPU, the transposes over NCCL.
  const int device = cuda ? rank_cuda_device(comm) : 0;
  const Context ctx(cuda ? BackendChoice::cuda : BackendChoice::cpu, g.threads, device);
  std::unique_ptr<DeviceComm> dcomm;
  if (cuda && ranks > 1) dcomm = make_nccl_comm(ctx, comm);
  const Comm& pc = dcomm ? *dcomm : comm;
  Points<T> x(ctx, rows, d), y(ctx, rows, d), grad(ctx, rows, d);
  if (rows > 0) {
    copy(ctx, x.buffer(), hx.buffer());
    copy(ctx, y.buffer(), hy.buffer());
  }
  SlicedRiesz<T> sliced(ctx, n, n, d, o.directions, ranks);
  sliced.draw_directions(ctx, 1, 2, 0);
  SlicedShardedBuffers<T> buffers;
  SlicedShardedOptions so;
  so.one_gemm = o.one_gemm;
  double sums[2] = {0, 0};
  const double nn = double(n) * double(n);
  const auto call = [&] {
    sliced_gradient_sharded<T>(ctx, pc, sliced, std::as_const(x).view(), n, std::as_const(y).view(),
                               n, &sums[0], &sums[1], T(-0.5 / nn), T(1 / nn), grad.view(), false,
                               buffers, so);
    ctx.synchronize();
  };
  call();  // warm-up
  std::vector<double> times;
  for (int k = 0; k < o.repeats; ++k) {
    comm.agree({});  // start together
    const auto t0 = std::chrono::steady_clock::now();
    call();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const detail::SlicedWorkspace<T>& ws = sliced.workspace();
  const double buffer_bytes =
      double(ws.proj_x.bytes() + ws.proj_y.bytes() + ws.packed.bytes() + ws.sorted.bytes() +
             ws.order.bytes() + ws.sort_temp.bytes()) +
      double((buffers.send.capacity() + buffers.recv.capacity() + buffers.g.capacity()) *
             sizeof(T)) +
      double(buffers.device_send.bytes() + buffers.device_recv.bytes() + buffers.device_g.bytes() +
             buffers.device_sums.bytes() + buffers.device_acc.bytes());
  // Per rank: rows, workspace and transpose bytes, peak RSS bytes.
  constexpr std::size_t kFields = 3;
  std::vector<double> all(std::size_t(ranks) * kFields);
  double* mine = all.data() + std::size_t(q) * kFields;
  mine[0] = double(rows);
  mine[1] = buffer_bytes;
  mine[2] = double(ru.ru_maxrss) * 1024.0;
  std::vector<std::size_t> counts(std::size_t(ranks), kFields * sizeof(double)), offsets(counts);
  for (std::size_t r = 0; r < offsets.size(); ++r) offsets[r] = r * kFields * sizeof(double);
  comm.allgather(all.data(), counts, offsets);
  if (!comm.root()) return 0;
  const Timing t = summarise_times(times);
  std::vector<double> owned, bytes, rss;
  for (int r = 0; r < ranks; ++r) {
    const double* f = all.data() + std::size_t(r) * kFields;
    owned.push_back(f[0]);
    bytes.push_back(f[1]);
    rss.push_back(f[2]);
  }
  JsonObject j;
  j.add("bench", "sliced").add("sharded", true).add("ranks", ranks);
  j.add("one_gemm", o.one_gemm).add("device", to_string(ctx.device()));
  j.add("threads", ctx.threads()).add("simd", simd_target());
  j.add("cpu_sort", detail::to_string(ws.cpu_sort)).add("chunk", ws.chunk);
  j.add("dtype", to_string(dtype_of<T>())).add("n", (long long)n).add("m", (long long)n);
  j.add("d", (long long)d).add("directions", o.directions);
  j.add("seconds", t.median).add("seconds_min", t.min).add("seconds_max", t.max);
  j.add("repeats", t.repeats);
  j.add("s_xx", sums[0]).add("s_xy", sums[1]);
  j.add("rows_per_rank", owned).add("buffer_bytes_per_rank", bytes);
  j.add("peak_rss_bytes_per_rank", rss);
  j.add("timed", "sliced_gradient_sharded: S_xx, S_xy and their gradient wrt x (own rows)");
  std::printf("%s\n", j.str().c_str());
  return 0;
}

BenchRegistrar reg_bench_sliced(
    "sliced", "Sliced Riesz sums r = 1: values and gradient (O(S N log N))",
    [](CLI::App& sub, const GlobalOptions& g) {
      auto o = std::make_shared<SlicedBenchOptions>();
      sub.add_option("--n", o->n, "Number of points N (both X and Y)");
      sub.add_option("--d", o->d, "Dimension d");
      sub.add_option("--directions", o->directions, "Number of directions S");
      sub.add_option("--dtype", o->dtype, "f32 | f64");
      sub.add_option("--backend", o->backend, "auto | cpu | cuda");
      sub.add_option("--repeats", o->repeats, "Timed repeats (median)");
      sub.add_flag("--sharded", o->sharded,
                   "The sharded pass (own rows per rank, projections "
                   "transposed; runs under mpirun)");
      sub.add_flag("--one-gemm", o->one_gemm,
                   "--sharded: one GEMM over a rank's rows, not one per 64-row "
                   "block (timing only)");
      return [o, &g]() -> int {
        if (o->n < 1) throw_bad_input("--n: must be positive");
        if (o->d < 1) throw_bad_input("--d: must be positive");
        if (o->directions < 1) throw_bad_input("--directions: must be positive");
        if (o->repeats < 1) throw_bad_input("--repeats: must be positive");
        if (o->one_gemm && !o->sharded) {
          throw_bad_input("--one-gemm: only with --sharded");
        }
        if (o->sharded) {
          return parse_dtype(o->dtype) == DType::f32 ? run_sliced_sharded_bench<float>(*o, g)
                                                     : run_sliced_sharded_bench<double>(*o, g);
        }
        if (g.comm && g.comm->size() > 1) {
          throw_bad_input(
              "nwgf bench sliced runs as one process; across MPI "
              "ranks add --sharded");
        }
        return parse_dtype(o->dtype) == DType::f32 ? run_sliced_bench<float>(*o, g)
                                                   : run_sliced_bench<double>(*o, g);
      };
    });

}  // namespace
}  // namespace nwgf::cli
