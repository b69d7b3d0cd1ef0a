#pragma once
// This machine's roofline peaks (`nwgf devices --peak`): the FMA throughput of the CPU's SIMD
// target (engine/simd.hpp, run-time dispatched) on every thread, and the memory bandwidth of a
// STREAM-like triad. Small calibrated loops: each is repeated until it runs `seconds` and the best
// of a few repeats is kept (the machine's other work only ever makes a loop slower).
// On CUDA (`measure_cuda_peaks`): the compute roofs from the device's properties and the memory
// roof measured by a copy kernel (engine/peak.cu).
#include <cstddef>
#include <string>

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

struct CudaPeaks {
  int device = 0;
  std::string name;
  int sm = 0;  // compute capability, major * 10 + minor
  int multiprocessors = 0;
  double clock_ghz = 0;  // the SMs' peak clock (driver attribute)
  // FMA lanes per SM by compute capability (the CUDA programming guide's arithmetic-throughput
  // table); 0 where this build does not know the architecture (then the roofs below are 0).
  int fp32_lanes_per_sm = 0, fp64_lanes_per_sm = 0;
  // From the properties: 2 flops x lanes x SMs x peak clock.
  double fma_gflops_f32 = 0, fma_gflops_f64 = 0;
  // From the properties: 2 (double data rate) x memory clock x bus width / 8.
  double dram_gbytes_per_s = 0;
  // Measured: a grid-stride float4 copy kernel between two device buffers of `copy_bytes` each,
  // read + write bytes per second (best of the repeats; the copy is verified).
  double copy_gbytes_per_s = 0;
  double copy_bytes = 0;
};

// FMA lanes per SM of compute capability major.minor, {f32, f64}; {0, 0} if unknown.
struct FmaLanes {
  int f32 = 0, f64 = 0;
};
FmaLanes cuda_fma_lanes_per_sm(int major, int minor);

// The peaks of CUDA device `device`: the copy runs for about `seconds` on two buffers of `bytes`
// (0: max(256 MiB, 8 x L2), at most a quarter of the free memory). A build or machine without a
// usable CUDA device: a bad-input error with the driver's reason (as `--backend cuda`).
CudaPeaks measure_cuda_peaks(int device, double seconds = 0.2, std::size_t bytes = 0);

}  // namespace nwgf
