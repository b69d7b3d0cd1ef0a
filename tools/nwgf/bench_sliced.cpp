// `nwgf bench sliced`: the sliced Riesz sums (r = 1) on X and Y, N standard normal points each
// in R^d, S directions drawn once before timing. `seconds` is the median time of one
// SlicedRiesz::evaluate computing both values S_xx = sum_ij |x_i - x_j| and S_xy = sum_ij
// |x_i - y_j| and the gradient -1/(2N^2) dS_xx/dx + 1/N^2 dS_xy/dx (N x d): projections, the
// sorts of all S (N + N) projections, ranks and back-projection (tools/bench/peers/
// sliced_torch.py times the same work in PyTorch). `cpu_seconds` is the median process CPU time
// of the same calls, `cpu_ns_per_point_direction` that over 2 N S (points times directions).
// NWGF_SLICED_CPU=auto|pairs|packed|vqsort picks the CPU sort (kernels/sliced.cpp); `cpu_sort`
// names the one that ran.
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "tools/nwgf/bench.hpp"

namespace nwgf::cli {
namespace {

struct SlicedBenchOptions {
  index_t n = 100000, d = 2;
  int directions = 128;
  std::string dtype = "f32", backend = "cpu";
  int repeats = 5;
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

BenchRegistrar reg_bench_sliced("sliced", "Sliced Riesz sums r = 1: values and gradient (O(S N log N))",
                   [](CLI::App& sub, const GlobalOptions& g) {
                     auto o = std::make_shared<SlicedBenchOptions>();
                     sub.add_option("--n", o->n, "Number of points N (both X and Y)");
                     sub.add_option("--d", o->d, "Dimension d");
                     sub.add_option("--directions", o->directions, "Number of directions S");
                     sub.add_option("--dtype", o->dtype, "f32 | f64");
                     sub.add_option("--backend", o->backend, "auto | cpu | cuda");
                     sub.add_option("--repeats", o->repeats, "Timed repeats (median)");
                     return [o, &g]() -> int {
                       if (o->n < 1) throw_bad_input("--n: must be positive");
                       if (o->d < 1) throw_bad_input("--d: must be positive");
                       if (o->directions < 1) throw_bad_input("--directions: must be positive");
                       if (o->repeats < 1) throw_bad_input("--repeats: must be positive");
                       return parse_dtype(o->dtype) == DType::f32 ? run_sliced_bench<float>(*o, g)
                                                                  : run_sliced_bench<double>(*o, g);
                     };
                   });

}  // namespace
}  // namespace nwgf::cli
