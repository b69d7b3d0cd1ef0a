// `nwgf devices`: the backends this build has, CPU threads and SIMD width, and the CUDA devices
// or the driver's reason why none is usable. Always exit 0. `--peak`: also this machine's
// roofline peaks (engine/peak.hpp), a second or two: the CPU's measured FMA and triad peaks and,
// per usable CUDA device, the FMA roofs from its properties and a measured copy bandwidth.
#include <cstdio>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/peak.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/engine/threads.hpp"
#include "nwgf/engine/version.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {
namespace {

int run_devices(const GlobalOptions& g, bool json, bool peak) {
  const int threads = g.threads > 0 ? g.threads : default_threads();
  const CudaStatus cuda = cuda_status();
  CpuPeaks peaks;
  std::vector<CudaPeaks> cuda_peaks;
  if (peak) {
    set_threads(threads);
    peaks = measure_cpu_peaks(threads);
    if (cuda.usable) {
      for (const auto& d : cuda.devices) cuda_peaks.push_back(measure_cuda_peaks(d.index));
    }
  }
  if (json) {
    JsonObject o;
    o.add("version", NWGF_VERSION_STRING);
    o.add("cpu_threads", threads).add("simd", simd_target()).add("simd_width_bytes", simd_width_bytes());
    o.add("cuda_built", cuda.built).add("cuda_usable", cuda.usable).add("cuda_reason", cuda.reason);
    std::string devs = "[";
    for (std::size_t i = 0; i < cuda.devices.size(); ++i) {
      const auto& d = cuda.devices[i];
      JsonObject dj;
      dj.add("index", d.index).add("name", d.name).add("sm", d.major * 10 + d.minor);
      dj.add("memory_bytes", (long long)d.memory_bytes).add("multiprocessors", d.multiprocessors);
      devs += (i ? ", " : "") + dj.str();
    }
    o.raw("cuda_devices", devs + "]");
    if (peak) {
      JsonObject pj;
      pj.add("threads", peaks.threads).add("fma_gflops_f32", peaks.fma_gflops_f32);
      pj.add("fma_gflops_f64", peaks.fma_gflops_f64);
      pj.add("triad_gbytes_per_s", peaks.triad_gbytes_per_s).add("triad_bytes", peaks.triad_bytes);
      o.add("cpu_peak", pj);
      std::string cps = "[";
      for (std::size_t i = 0; i < cuda_peaks.size(); ++i) {
        const CudaPeaks& c = cuda_peaks[i];
        JsonObject cj;
        cj.add("index", c.device).add("name", c.name).add("sm", c.sm);
        cj.add("multiprocessors", c.multiprocessors).add("clock_ghz", c.clock_ghz);
        cj.add("fp32_lanes_per_sm", c.fp32_lanes_per_sm).add("fp64_lanes_per_sm", c.fp64_lanes_per_sm);
        cj.add("fma_gflops_f32", c.fma_gflops_f32).add("fma_gflops_f64", c.fma_gflops_f64);
        cj.add("dram_gbytes_per_s", c.dram_gbytes_per_s);
        cj.add("copy_gbytes_per_s", c.copy_gbytes_per_s).add("copy_bytes", c.copy_bytes);
        cps += (i ? ", " : "") + cj.str();
      }
      o.raw("cuda_peak", cps + "]");
    }
    std::printf("%s\n", o.str().c_str());
    return 0;
  }
  std::printf("nwgf %s\n", NWGF_VERSION_STRING);
  std::printf("cpu: usable, %d threads, SIMD %s (%d-byte vectors)\n", threads,
              simd_target().c_str(), simd_width_bytes());
  if (peak) {
    std::printf("cpu peak (%d threads, measured): FMA %.1f GFLOP/s f32, %.1f GFLOP/s f64; "
                "triad %.1f GB/s\n",
                peaks.threads, peaks.fma_gflops_f32, peaks.fma_gflops_f64,
                peaks.triad_gbytes_per_s);
    for (const CudaPeaks& c : cuda_peaks) {
      std::printf("cuda peak [%d] %s: FMA %.0f GFLOP/s f32, %.0f GFLOP/s f64, DRAM %.0f GB/s "
                  "(properties: %d SMs at %.2f GHz); copy kernel %.0f GB/s (measured)\n",
                  c.device, c.name.c_str(), c.fma_gflops_f32, c.fma_gflops_f64,
                  c.dram_gbytes_per_s, c.multiprocessors, c.clock_ghz, c.copy_gbytes_per_s);
    }
  }
  if (!cuda.built) {
    std::printf("cuda: not built (%s)\n", cuda.reason.c_str());
  } else if (!cuda.usable) {
    std::printf("cuda: built, unusable: %s\n", cuda.reason.c_str());
  } else {
    std::printf("cuda: built, %zu device(s)\n", cuda.devices.size());
    for (const auto& d : cuda.devices) {
      std::printf("  [%d] %s, sm_%d%d, %.1f GiB, %d SMs\n", d.index, d.name.c_str(), d.major,
                  d.minor, double(d.memory_bytes) / (1024.0 * 1024.0 * 1024.0), d.multiprocessors);
    }
  }
  return 0;
}

CommandRegistrar reg_cmd_devices("devices", "List backends, CPU threads and SIMD width, and CUDA devices",
                     [](CLI::App& sub, const GlobalOptions& g) {
                       auto json = std::make_shared<bool>(false);
                       auto peak = std::make_shared<bool>(false);
                       sub.add_flag("--json", *json, "One JSON object instead of text");
                       sub.add_flag("--peak", *peak,
                                    "Also measure the CPU's FMA and memory-bandwidth peaks");
                       return [&g, json, peak] { return run_devices(g, *json, *peak); };
                     });

}  // namespace
}  // namespace nwgf::cli
