#pragma once
// This machine's roofline peaks (`nwgf devices --peak`): the FMA throughput of the CPU's SIMD
// target (engine/simd.hpp, run-time dispatched) on every thread, and the memory bandwidth of a
// STREAM-like triad. Small calibrated loops: each is repeated until it runs `seconds` and the best
// of a few repeats is kept (the machine's other work only ever makes a loop slower).
namespace nwgf {

struct CpuPeaks {
  int threads = 0;
  double fma_gflops_f32 = 0;   // 2 flops per FMA lane
  double fma_gflops_f64 = 0;
  double triad_gbytes_per_s = 0;  // a[i] = b[i] + s c[i], 24 bytes per element (no write-allocate)
  double triad_bytes = 0;         // the three arrays' size
};

// threads <= 0: all (default_threads()).
CpuPeaks measure_cpu_peaks(int threads, double seconds = 0.2);

}  // namespace nwgf
