#pragma once
// `nwgf bench sweep`: the kernels it times (tools/nwgf/bench_sweep_kernels.cpp), the memory
// high-water mark of one point, and the pictures (tools/nwgf/bench_sweep_plot.cpp).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/types.hpp"
#include "tools/nwgf/bench.hpp"

namespace nwgf::cli {

struct SweepKernelOptions {
  double r = 1.0;
  int directions = 128;
  std::vector<index_t> hidden = {128, 128, 128};
};

// One point of a sweep: its buffers (allocated by make_sweep_kernel) and the call to time.
struct SweepKernel {
  std::function<void()> call;
  double flops = 0;  // floating-point operations of one call (0: not counted)
  double pairs = 0;  // pair evaluations of one call (pair kernels)
  // The call's compulsory memory traffic (0: not counted): its inputs read and its outputs
  // written once, plus what the kernel stores by design between its passes (the network's
  // activations, kept from forward to backward). A lower bound on the real traffic, so the
  // bandwidth roof drawn from it is an upper bound on the attainable rate.
  double bytes = 0;
  std::shared_ptr<void> state;
};

// The kernels: pairwise (the Riesz self gradient, N^2 pairs), sliced (S_xx, S_xy and the
// gradient, P directions: N log N), mlp (forward, backward and Adam on a batch of N: N), step
// (one training iteration of the neural forward scheme on the interaction energy, batch N: the
// network on 2N rows and the exact pair terms, N^2), synthetic-n2 (a single-threaded scalar loop over all N^2 pairs: the calibration workload whose
// fitted slope must be 2). Bad input naming --kernel for another name.
const std::vector<std::string>& sweep_kernel_names();
template <class T>
SweepKernel make_sweep_kernel(const Context& ctx, const std::string& kernel, index_t n, index_t d,
                              const SweepKernelOptions& o);

// The process's peak resident set since the last reset_peak_rss(), in bytes (VmHWM of
// /proc/self/status); reset_peak_rss() writes "5" to /proc/self/clear_refs, which sets the
// high-water mark to the current RSS, and returns false where that is not possible (then the
// peak is the process's since it started). current_rss(): VmRSS. -1 where unreadable.
bool reset_peak_rss();
long long peak_rss();
long long current_rss();

// One measured point of a sweep.
struct SweepPoint {
  long long n = 0, d = 0;
  Timing t, cpu;  // wall and process CPU seconds per call
  double seconds = 0;  // the fitted statistic
  long long rss_before = -1, rss_peak = -1;
  bool peak_reset = false;
  double flops = 0, pairs = 0, bytes = 0;
};

// The roofs of one dtype on the sweep's device: the FMA rate and the memory bandwidth (CPU: the
// STREAM triad; CUDA: the copy kernel), both measured by engine/peak.hpp. 0: not measured.
struct SweepRoofs {
  double gflops = 0, gbytes_per_s = 0;
  // The roofline's bound for a kernel of arithmetic intensity `intensity` (FLOPs per byte):
  // min(FMA roof, intensity x bandwidth); the FMA roof where the bandwidth is unknown.
  double attainable(double intensity) const {
    if (!(gbytes_per_s > 0) || !(intensity > 0)) return gflops;
    const double bw = intensity * gbytes_per_s;
    return bw < gflops ? bw : gflops;
  }
};

// "d=D": the name of the series of dimension d.
std::string series_name(long long d);

// sweep.png: seconds against log10 N per series (log scale), with reference slopes N, N log N
// and N^2 through the first series' first point.
void write_sweep_plot(const std::string& path, const std::string& kernel,
                      const std::vector<SweepPoint>& points, const std::vector<long long>& ds);
// sweep_roofline.png: the classic roofline where the kernel's bytes are counted and the
// bandwidth measured, achieved GFLOP/s of each series (its points whose FLOPs are counted)
// against log10 arithmetic intensity under min(FMA roof, intensity x bandwidth); otherwise
// achieved GFLOP/s against log10 N under the FMA roof drawn as a horizontal line.
void write_roofline_plot(const std::string& path, const std::string& kernel,
                         const std::vector<SweepPoint>& points, const std::vector<long long>& ds,
                         const SweepRoofs& roofs);

}  // namespace nwgf::cli
