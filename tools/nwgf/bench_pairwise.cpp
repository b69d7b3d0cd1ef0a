// `nwgf bench pairwise`: the fused Riesz sums on N uniform points in [0,1]^d, self interaction
// (X = Y). `seconds` is the median time of the self gradient (the particle flow's hot loop),
// `gpairs_per_s` = N^2 / seconds; the energy and the directional derivative (with both velocity
// gradients, the forward scheme's loss) are timed in the same run. On a shared machine the wall
// time is noisy; `cpu_gpairs_per_s` (N^2 * threads / process CPU seconds per call) shows what
// the threads achieve while they actually run (`directional_cpu_gpairs_per_s` alike for the
// directional derivative, 2 N^2 pairs a call; `energy_cpu_gpairs_per_s` for the energy).
// --value-gradient: also the value and gradient pass (pair_row_sums_gradient: the row sums and
// the gradient together, N^2 pairs a call). --one-pair-rows (measurement only): the row-major CPU
// rows (from d = 16, 24 or 32 by SIMD target and dtype, kernels/pairwise.cpp's row_major_from)
// take one pair at a time instead of the register-blocked micro-tiles (the same bits), so one
// binary measures both.
//
// --sharded (any rank count, `mpirun -np P nwgf bench pairwise --sharded`): the gradient of the
// particle flow's self interaction by the sharded pass (kernels/pairwise_sharded.hpp: each rank
// draws and holds only its own rows, Y = X streams past in chunks). Every rank makes the same
// `repeats` calls (no time-based extra repeats: each call is collective); `seconds` is rank 0's
// median; per rank: the time spent computing and waiting for chunks in the timed calls, the
// pass's buffers and the process's peak resident memory (getrusage), gathered on rank 0.
// With --backend cuda the rows live on each rank's GPU and the chunks are broadcast over NCCL
// (the pass's CUDA path); compute_seconds is then the whole stream's time and wait_seconds 0
// (broadcasts and kernels share the stream).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <utility>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/kernels/pairwise_sharded.hpp"
#include "tools/nwgf/bench.hpp"

namespace nwgf::cli {
namespace {

struct PairwiseBenchOptions {
  index_t n = 20000, d = 2;
  double r = 1.0;
  std::string dtype = "f32", backend = "cpu";
  int repeats = 5;
  bool directional = false;
  bool value_gradient = false;
  bool one_pair_rows = false;
  bool sharded = false;
  index_t chunk = 0;
};

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

template <class T>
int run_pairwise_bench(const PairwiseBenchOptions& o, const GlobalOptions& g) {
  Context ctx(resolve_backend(parse_backend(o.backend)), g.threads);
  const index_t n = o.n, d = o.d;
  Points<T> x(ctx, n, d), v(ctx, n, d), grad(ctx, n, d), grad_v(ctx, n, d);
  rng_uniform<T>(ctx, 1, 0, 0, x.data(), n * d);
  rng_normal<T>(ctx, 1, 1, 0, v.data(), n * d);
  Buffer<double> out(ctx, 1);
  PairwiseWorkspace ws;
  const ConstPointsView<T> xv = std::as_const(x).view(), vv = std::as_const(v).view();
  double cpu_total = 0;
  int calls = 0;
  const auto gradient = [&] {
    const double c0 = cpu_seconds();
    riesz_gradient<T>(ctx, xv, nullptr, xv, nullptr, o.r, T(1), grad.view(), false, &ws);
    ctx.synchronize();
    cpu_total += cpu_seconds() - c0;
    ++calls;
  };
  double energy_cpu_total = 0;
  int energy_calls = 0;
  const auto energy = [&] {
    const double c0 = cpu_seconds();
    riesz_energy<T>(ctx, xv, nullptr, xv, nullptr, o.r, out.data(), &ws);
    ctx.synchronize();
    energy_cpu_total += cpu_seconds() - c0;
    ++energy_calls;
  };
  Buffer<T> row_values(ctx, n);
  double vg_cpu_total = 0;
  int vg_calls = 0;
  const auto value_gradient = [&] {
    const double c0 = cpu_seconds();
    pair_row_sums_gradient<T>(ctx, PairFamily::riesz, o.r, xv, nullptr, xv, nullptr, T(1),
                              row_values.data(), grad.view(), false, &ws);
    ctx.synchronize();
    vg_cpu_total += cpu_seconds() - c0;
    ++vg_calls;
  };
  double dir_cpu_total = 0;
  int dir_calls = 0;
  const auto directional = [&] {
    const double c0 = cpu_seconds();
    riesz_directional<T>(ctx, xv, vv, nullptr, xv, vv, nullptr, o.r, out.data(), grad_v.view(),
                         grad_v.view(), T(1), true, nullptr, &ws);
    ctx.synchronize();
    dir_cpu_total += cpu_seconds() - c0;
    ++dir_calls;
  };
  const Timing tg = time_repeats(gradient, o.repeats, 0.3);
  const Timing te = time_repeats(energy, o.repeats, 0.3);
  const double pairs = double(n) * double(n);
  JsonObject j;
  j.add("bench", "pairwise").add("device", to_string(ctx.device())).add("threads", ctx.threads());
  j.add("simd", simd_target());
  j.add("dtype", to_string(dtype_of<T>())).add("n", (long long)n).add("d", (long long)d);
  if (o.one_pair_rows) j.add("one_pair_rows", true);
  j.add("r", o.r).add("seconds", tg.median).add("gpairs_per_s", pairs / tg.median * 1e-9);
  j.add("cpu_gpairs_per_s", pairs * ctx.threads() / (cpu_total / calls) * 1e-9);
  j.add("seconds_min", tg.min).add("seconds_max", tg.max).add("repeats", tg.repeats);
  j.add("energy_seconds", te.median).add("energy_gpairs_per_s", pairs / te.median * 1e-9);
  j.add("energy_cpu_gpairs_per_s", pairs * ctx.threads() / (energy_cpu_total / energy_calls) * 1e-9);
  if (o.value_gradient) {
    const Timing tv = time_repeats(value_gradient, o.repeats, 0.3);
    j.add("value_gradient_seconds", tv.median);
    j.add("value_gradient_gpairs_per_s", pairs / tv.median * 1e-9);
    j.add("value_gradient_cpu_gpairs_per_s", pairs * ctx.threads() / (vg_cpu_total / vg_calls) * 1e-9);
  }
  if (o.directional) {
    const Timing td = time_repeats(directional, o.repeats, 0.3);
    j.add("directional_seconds", td.median);
    j.add("directional_gpairs_per_s", 2 * pairs / td.median * 1e-9);
    j.add("directional_cpu_gpairs_per_s",
          2 * pairs * ctx.threads() / (dir_cpu_total / dir_calls) * 1e-9);
  }
  std::printf("%s\n", j.str().c_str());
  return 0;
}

template <class T>
int run_sharded_bench(const PairwiseBenchOptions& o, const GlobalOptions& g) {
  const Comm& comm = *g.comm;
  const int ranks = comm.size(), q = comm.rank();
  const auto [r0, r1] = sharded_bench_rows(comm, o.backend, o.n, true);
  const Context host(Device::cpu, g.threads);
  const index_t n = o.n, d = o.d;
  const index_t rows = r1 - r0;
  // This rank's rows of the points one process draws (Philox addressed by global index).
  Points<T> hx(host, rows, d);
  if (rows > 0) rng_uniform<T>(host, 1, 0, std::uint64_t(r0 * d), hx.data(), rows * d);
  // --backend cuda: the rows on this rank's GPU, the chunks broadcast over NCCL.
  const bool cuda = parse_backend(o.backend) == BackendChoice::cuda;
  const int device = cuda ? rank_cuda_device(comm) : 0;
  const Context ctx(cuda ? BackendChoice::cuda : BackendChoice::cpu, g.threads, device);
  std::unique_ptr<DeviceComm> dcomm;
  if (cuda && ranks > 1) dcomm = make_nccl_comm(ctx, comm);
  const Comm& pc = dcomm ? *dcomm : comm;
  Points<T> x(ctx, rows, d), grad(ctx, rows, d);
  if (rows > 0) copy(ctx, x.buffer(), hx.buffer());
  const ConstPointsView<T> xv = std::as_const(x).view();
  ShardedOptions so;
  so.chunk_columns = o.chunk;
  ShardedStats last;
  double compute_total = 0, wait_total = 0;
  const auto call = [&] {
    return pair_gradient_sharded<T>(ctx, pc, PairFamily::riesz, o.r, xv, nullptr, n, xv, nullptr,
                                    n, T(1), grad.view(), false, so);
  };
  call();  // warm-up
  std::vector<double> times;
  for (int k = 0; k < o.repeats; ++k) {
    comm.agree({});  // start together
    const auto t0 = std::chrono::steady_clock::now();
    last = call();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    compute_total += last.compute_seconds;
    wait_total += last.wait_seconds;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  // Per rank: compute and wait seconds per call, buffer bytes, peak RSS bytes, rows.
  constexpr std::size_t kFields = 5;
  std::vector<double> all(std::size_t(ranks) * kFields);
  double* mine = all.data() + std::size_t(q) * kFields;
  mine[0] = compute_total / o.repeats;
  mine[1] = wait_total / o.repeats;
  mine[2] = double(last.buffer_bytes);
  mine[3] = double(ru.ru_maxrss) * 1024.0;
  mine[4] = double(rows);
  std::vector<std::size_t> counts(std::size_t(ranks), kFields * sizeof(double)), offsets(counts);
  for (std::size_t r = 0; r < offsets.size(); ++r) offsets[r] = r * kFields * sizeof(double);
  comm.allgather(all.data(), counts, offsets);
  if (!comm.root()) return 0;
  const Timing tg = summarise_times(times);
  const double pairs = double(n) * double(n);
  std::vector<double> compute, wait, buffers, rss, owned;
  for (int r = 0; r < ranks; ++r) {
    const double* f = all.data() + std::size_t(r) * kFields;
    compute.push_back(f[0]);
    wait.push_back(f[1]);
    buffers.push_back(f[2]);
    rss.push_back(f[3]);
    owned.push_back(f[4]);
  }
  JsonObject j;
  j.add("bench", "pairwise").add("sharded", true).add("ranks", ranks);
  j.add("device", to_string(ctx.device())).add("threads", ctx.threads());
  j.add("simd", simd_target());
  j.add("dtype", to_string(dtype_of<T>())).add("n", (long long)n).add("d", (long long)d);
  if (o.one_pair_rows) j.add("one_pair_rows", true);
  j.add("r", o.r).add("seconds", tg.median).add("gpairs_per_s", pairs / tg.median * 1e-9);
  j.add("seconds_min", tg.min).add("seconds_max", tg.max).add("repeats", tg.repeats);
  j.add("chunks", (long long)last.chunks).add("chunk_columns", (long long)last.chunk_columns);
  j.add("rows_per_rank", owned).add("compute_seconds_per_rank", compute);
  j.add("wait_seconds_per_rank", wait).add("buffer_bytes_per_rank", buffers);
  j.add("peak_rss_bytes_per_rank", rss);
  std::printf("%s\n", j.str().c_str());
  return 0;
}

BenchRegistrar reg_bench_pairwise("pairwise", "Fused Riesz self gradient / energy sums (N x N pairs)",
                   [](CLI::App& sub, const GlobalOptions& g) {
                     auto o = std::make_shared<PairwiseBenchOptions>();
                     sub.add_option("--n", o->n, "Number of points N");
                     sub.add_option("--d", o->d, "Dimension d");
                     sub.add_option("--r", o->r, "Riesz exponent, 0 < r < 2");
                     sub.add_option("--dtype", o->dtype, "f32 | f64");
                     sub.add_option("--backend", o->backend, "auto | cpu | cuda");
                     sub.add_option("--repeats", o->repeats, "Timed repeats (median)");
                     sub.add_flag("--directional", o->directional,
                                  "Also time the directional derivative with velocity gradients");
                     sub.add_flag("--value-gradient", o->value_gradient,
                                  "Also time the value and gradient pass (row sums and "
                                  "gradient together)");
                     sub.add_flag("--one-pair-rows", o->one_pair_rows,
                                  "Measurement: the row-major CPU rows (from d = 16, 24 or "
                                  "32 by SIMD target and dtype) one pair at a time instead of "
                                  "in micro-tiles (same bits)");
                     sub.add_flag("--sharded", o->sharded,
                                  "The gradient by the sharded pass (own rows per rank, Y "
                                  "streamed in chunks; runs under mpirun)");
                     sub.add_option("--chunk", o->chunk,
                                    "--sharded: columns per broadcast chunk (0: about 4 MiB)");
                     return [o, &g]() -> int {
                       if (o->n < 1) throw_bad_input("--n: must be positive");
                       if (o->d < 1) throw_bad_input("--d: must be positive");
                       if (!(o->r > 0 && o->r < 2)) throw_bad_input("--r: must lie in (0, 2)");
                       if (o->repeats < 1) throw_bad_input("--repeats: must be positive");
                       if (o->chunk < 0) throw_bad_input("--chunk: must not be negative");
                       detail::set_cpu_one_pair_rows(o->one_pair_rows);
                       if (o->sharded) {
                         return parse_dtype(o->dtype) == DType::f32
                                    ? run_sharded_bench<float>(*o, g)
                                    : run_sharded_bench<double>(*o, g);
                       }
                       if (g.comm && g.comm->size() > 1) {
                         throw_bad_input("nwgf bench pairwise runs across MPI ranks only with "
                                         "--sharded");
                       }
                       return parse_dtype(o->dtype) == DType::f32
                                  ? run_pairwise_bench<float>(*o, g)
                                  : run_pairwise_bench<double>(*o, g);
                     };
                   });

}  // namespace
}  // namespace nwgf::cli
