// `nwgf bench sweep --kernel pairwise|sliced|mlp|step|synthetic-n2 --n A:B:xF --d 2,10,784
// [--out DIR]`: times the kernel on the grid of sizes N for each dimension d (one series per d),
// prints one JSON line per point (median and min of the repeats, peak resident memory) and,
// per series, a line with the least-squares log-log slope of time against N and its 95%
// confidence interval. DIR gets sweep.csv, sweep.json and sweep.png (time against N on log-log
// axes, with reference slopes N, N log N and N^2; tools/nwgf/bench_sweep_plot.cpp), with --peak
// also sweep_roofline.png.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/peak.hpp"
#include "nwgf/engine/scaling.hpp"
#include "nwgf/engine/simd.hpp"
#include "tools/nwgf/bench.hpp"
#include "tools/nwgf/bench_sweep.hpp"

namespace nwgf::cli {
namespace {

struct SweepOptions {
  std::string kernel = "pairwise";
  std::string n = "1e3:1e4:x2";
  std::string d = "2";
  std::string out;
  std::string dtype = "f32", backend = "cpu", stat = "median";
  int repeats = 3;
  bool peak = false;
  double min_seconds = 0.2;
  double max_seconds = 0;
  SweepKernelOptions kernel_options;
};

double cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// One warm-up call, then `repeats` calls (more while they total under min_total seconds, up to
// 10 x repeats): wall and process CPU time of each.
void time_point(const std::function<void()>& fn, int repeats, double min_total, SweepPoint& p) {
  std::vector<double> cpu;
  double c0 = 0;
  p.t = time_repeats(fn, repeats, min_total, [&](bool before) {
    if (before) {
      c0 = cpu_now();
    } else {
      cpu.push_back(cpu_now() - c0);
    }
  });
  p.cpu = summarise_times(std::move(cpu));
}

template <class T>
int run_sweep(const SweepOptions& o, const GlobalOptions& g) {
  const std::vector<long long> ns = parse_size_grid(o.n, "--n");
  const std::vector<long long> ds = parse_int_list(o.d, "--d");
  if (o.repeats < 1) throw_bad_input("--repeats: must be positive");
  if (o.stat != "median" && o.stat != "min" && o.stat != "cpu" && o.stat != "cpu-min") {
    throw_bad_input("--stat: '" + o.stat + "' is not one of median, min, cpu, cpu-min");
  }
  if (!(o.min_seconds >= 0)) throw_bad_input("--min-seconds: must be >= 0");
  if (!(o.max_seconds >= 0)) throw_bad_input("--max-seconds: must be >= 0");
  if (o.kernel_options.directions < 1) throw_bad_input("--directions: must be positive");
  if (!(o.kernel_options.r > 0 && o.kernel_options.r < 2)) throw_bad_input("--r: must lie in (0, 2)");
  bool known = false;
  std::string list;
  for (const std::string& k : sweep_kernel_names()) {
    known = known || k == o.kernel;
    list += (list.empty() ? "" : ", ") + k;
  }
  if (!known) throw_bad_input("--kernel: '" + o.kernel + "' is not one of " + list);
  if (!o.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.out, ec);
    if (ec || !std::filesystem::is_directory(o.out, ec)) {
      throw_bad_input("--out " + o.out + ": " + (ec ? ec.message() : "not a directory"));
    }
  }
  Context ctx(resolve_backend(parse_backend(o.backend)), g.threads);
  // The roofline's compute roof for this dtype: measured on the threads the kernels use (CPU),
  // from the device's properties (CUDA device 0, which the kernels run on).
  SweepRoofs roofs;
  if (o.peak && ctx.device() == Device::cpu) {
    const CpuPeaks pk = measure_cpu_peaks(ctx.threads());
    roofs.gflops = sizeof(T) == 4 ? pk.fma_gflops_f32 : pk.fma_gflops_f64;
    roofs.gbytes_per_s = pk.triad_gbytes_per_s;
  } else if (o.peak) {
    const CudaPeaks pk = measure_cuda_peaks(0);
    roofs.gflops = sizeof(T) == 4 ? pk.fma_gflops_f32 : pk.fma_gflops_f64;
    roofs.gbytes_per_s = pk.copy_gbytes_per_s;
  }
  std::vector<SweepPoint> points;
  std::string csv = "kernel,series,n,d,seconds,seconds_median,seconds_min,seconds_max,repeats,"
                    "cpu_seconds_median,rss_before_bytes,peak_rss_bytes,gflops_per_s\n";
  std::string json_points, json_fits;
  for (long long d : ds) {
    bool stop = false;
    for (long long n : ns) {
      if (stop) break;
      SweepPoint p;
      p.n = n;
      p.d = d;
      p.peak_reset = reset_peak_rss();
      p.rss_before = current_rss();
      {
        SweepKernel k = make_sweep_kernel<T>(ctx, o.kernel, index_t(n), index_t(d), o.kernel_options);
        time_point(k.call, o.repeats, o.min_seconds, p);
        p.flops = k.flops;
        p.pairs = k.pairs;
        p.bytes = k.bytes;
      }
      p.rss_peak = peak_rss();
      p.seconds = o.stat == "min"       ? p.t.min
                  : o.stat == "cpu"     ? p.cpu.median
                  : o.stat == "cpu-min" ? p.cpu.min
                                        : p.t.median;
      stop = o.max_seconds > 0 && p.seconds > o.max_seconds;
      JsonObject j;
      j.add("bench", "sweep").add("kernel", o.kernel).add("series", series_name(d));
      j.add("n", n).add("d", d).add("device", to_string(ctx.device()));
      j.add("threads", ctx.threads()).add("simd", simd_target());
      j.add("dtype", to_string(dtype_of<T>()));
      j.add("seconds", p.seconds).add("stat", o.stat).add("seconds_median", p.t.median);
      j.add("seconds_min", p.t.min).add("seconds_max", p.t.max).add("repeats", p.t.repeats);
      j.add("cpu_seconds_median", p.cpu.median).add("cpu_seconds_min", p.cpu.min);
      j.add("rss_before_bytes", p.rss_before).add("peak_rss_bytes", p.rss_peak);
      j.add("peak_rss_since", p.peak_reset ? "point" : "process");
      if (p.pairs > 0) j.add("gpairs_per_s", p.pairs / p.seconds * 1e-9);
      if (p.flops > 0) j.add("gflops_per_s", p.flops / p.seconds * 1e-9);
      if (p.bytes > 0) {
        j.add("bytes", p.bytes).add("gbytes_per_s", p.bytes / p.seconds * 1e-9);
        if (p.flops > 0) j.add("intensity", p.flops / p.bytes);
      }
      if (p.flops > 0 && roofs.gflops > 0) {
        j.add("peak_gflops", roofs.gflops);
        j.add("fraction_of_peak", p.flops / p.seconds * 1e-9 / roofs.gflops);
        if (p.bytes > 0 && roofs.gbytes_per_s > 0) {
          const double bound = roofs.attainable(p.flops / p.bytes);
          j.add("peak_gbytes_per_s", roofs.gbytes_per_s).add("attainable_gflops", bound);
          j.add("fraction_of_attainable", p.flops / p.seconds * 1e-9 / bound);
        }
      }
      std::printf("%s\n", j.str().c_str());
      std::fflush(stdout);
      json_points += (json_points.empty() ? "" : ",\n  ") + j.str();
      csv += o.kernel + "," + series_name(d) + "," + std::to_string(n) + "," + std::to_string(d) +
             "," + JsonObject::number(p.seconds) + "," + JsonObject::number(p.t.median) + "," +
             JsonObject::number(p.t.min) + "," + JsonObject::number(p.t.max) + "," +
             std::to_string(p.t.repeats) + "," + JsonObject::number(p.cpu.median) + "," +
             std::to_string(p.rss_before) + "," +
             std::to_string(p.rss_peak) + "," +
             (p.flops > 0 ? JsonObject::number(p.flops / p.seconds * 1e-9) : "") + "\n";
      points.push_back(p);
    }
    std::vector<double> x, y;
    for (const SweepPoint& p : points) {
      if (p.d == d) x.push_back(double(p.n)), y.push_back(p.seconds);
    }
    const LogLogFit f = fit_loglog(x, y, 0.95);
    JsonObject j;
    j.add("bench", "sweep").add("kernel", o.kernel).add("series", series_name(d)).add("d", d);
    j.add("slope", f.slope).add("slope_low", f.slope_low).add("slope_high", f.slope_high);
    j.add("level", 0.95).add("r2", f.r2).add("points", f.points);
    std::printf("%s\n", j.str().c_str());
    std::fflush(stdout);
    json_fits += (json_fits.empty() ? "" : ",\n  ") + j.str();
  }
  if (!o.out.empty()) {
    const std::string dir = o.out + "/";
    write_file_atomic(dir + "sweep.csv", csv);
    write_file_atomic(dir + "sweep.json",
                      "{\"points\": [\n  " + json_points + "\n],\n\"fits\": [\n  " + json_fits +
                          "\n]}\n");
    write_sweep_plot(dir + "sweep.png", o.kernel, points, ds);
    if (roofs.gflops > 0) {
      write_roofline_plot(dir + "sweep_roofline.png", o.kernel, points, ds, roofs);
    }
  }
  return 0;
}

BenchRegistrar reg_bench_sweep(
    "sweep", "Time a kernel over a grid of N (and d); fit the log-log slope per series",
    [](CLI::App& sub, const GlobalOptions& g) {
      auto o = std::make_shared<SweepOptions>();
      sub.add_option("--kernel", o->kernel, "pairwise | sliced | mlp | step | synthetic-n2");
      sub.add_option("--n", o->n, "Sizes: A:B:xF (geometric, e.g. 1e3:1e6:x10) or A,B,C");
      sub.add_option("--d", o->d, "Dimensions, comma separated (one series each)");
      sub.add_option("--out", o->out, "Directory for sweep.csv, sweep.json and sweep.png");
      sub.add_option("--repeats", o->repeats, "Timed repeats per point (at least)");
      sub.add_flag("--peak", o->peak,
                   "Measure the CPU's FMA peak first (nwgf devices --peak) and report each "
                   "point's achieved fraction of it");
      sub.add_option("--min-seconds", o->min_seconds,
                     "Repeat a point until its calls total this long (up to 10 x --repeats)");
      sub.add_option("--max-seconds", o->max_seconds,
                     "End a series after a point slower than this (0: never)");
      sub.add_option("--stat", o->stat,
                     "The time fitted and plotted: median | min (wall) | cpu (the median process "
                     "CPU time, immune to time slicing on a loaded machine) | cpu-min (the "
                     "fastest repeat's CPU time, also past a busy sibling core)");
      sub.add_option("--dtype", o->dtype, "f32 | f64");
      sub.add_option("--backend", o->backend, "auto | cpu | cuda");
      sub.add_option("--r", o->kernel_options.r, "pairwise: Riesz exponent, 0 < r < 2");
      sub.add_option("--directions", o->kernel_options.directions, "sliced: directions P");
      sub.add_option("--hidden", o->kernel_options.hidden, "mlp: hidden widths, comma separated")
          ->delimiter(',');
      return [o, &g]() -> int {
        for (index_t h : o->kernel_options.hidden) {
          if (h < 1) throw_bad_input("--hidden: widths must be positive, got " + std::to_string(h));
        }
        return parse_dtype(o->dtype) == DType::f32 ? run_sweep<float>(*o, g)
                                                   : run_sweep<double>(*o, g);
      };
    });

}  // namespace
}  // namespace nwgf::cli
