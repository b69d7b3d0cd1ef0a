// CUDA roofline peaks (`nwgf devices --peak`, `nwgf bench sweep --peak --backend cuda`): the
// compute roofs from the device's attributes (SMs x FMA lanes per SM x peak clock) and the memory
// roof measured by a grid-stride copy kernel, verified after the timed runs.
#include <algorithm>
#include <cstring>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/engine/peak.hpp"

namespace nwgf {
namespace {

// dst[i] = src[i] for i < n, 16 bytes per thread and round.
__global__ void peak_copy_kernel(const float4* __restrict__ src, float4* __restrict__ dst,
                                 long long n) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    dst[i] = src[i];
  }
}

int attribute(cudaDeviceAttr a, int device) {
  int v = 0;
  NWGF_CUDA_CHECK(cudaDeviceGetAttribute(&v, a, device));
  return v;
}

// Events for one timed launch, destroyed on every path.
struct EventPair {
  cudaEvent_t start = nullptr, stop = nullptr;
  EventPair() {
    NWGF_CUDA_CHECK(cudaEventCreate(&start));
    NWGF_CUDA_CHECK(cudaEventCreate(&stop));
  }
  ~EventPair() {
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
  }
  EventPair(const EventPair&) = delete;
  EventPair& operator=(const EventPair&) = delete;
};

}  // namespace

CudaPeaks measure_cuda_peaks(int device, double seconds, std::size_t bytes) {
  Context ctx(Device::cuda, 0, device);  // a bad-input error when there is no such device
  CudaPeaks p;
  p.device = device;
  cudaDeviceProp prop{};
  NWGF_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  p.name = prop.name;
  p.sm = prop.major * 10 + prop.minor;
  p.multiprocessors = prop.multiProcessorCount;
  p.clock_ghz = 1e-6 * double(attribute(cudaDevAttrClockRate, device));  // kHz
  const FmaLanes lanes = cuda_fma_lanes_per_sm(prop.major, prop.minor);
  p.fp32_lanes_per_sm = lanes.f32;
  p.fp64_lanes_per_sm = lanes.f64;
  p.fma_gflops_f32 = 2.0 * lanes.f32 * p.multiprocessors * p.clock_ghz;
  p.fma_gflops_f64 = 2.0 * lanes.f64 * p.multiprocessors * p.clock_ghz;
  const double mem_khz = attribute(cudaDevAttrMemoryClockRate, device);
  const double bus_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, device);
  p.dram_gbytes_per_s = 2.0 * mem_khz * 1e3 * bus_bits / 8.0 * 1e-9;

  if (bytes == 0) {
    const std::size_t l2 = std::size_t(std::max(0, attribute(cudaDevAttrL2CacheSize, device)));
    bytes = std::max<std::size_t>(std::size_t(256) << 20, 8 * l2);
    std::size_t free_bytes = 0, total_bytes = 0;
    NWGF_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    bytes = std::min(bytes, free_bytes / 4);
#ifdef NWGF_CUDA_EMULATE
    bytes = std::size_t(1) << 20;  // the emulator runs one fiber per thread: a small copy
#endif
  }
  const long long n4 = (long long)(bytes / sizeof(float4));
  if (n4 < 1) throw_runtime("measure_cuda_peaks: too little device memory for the copy kernel");
  bytes = std::size_t(n4) * sizeof(float4);
  p.copy_bytes = double(bytes);

  // A pattern that differs in every float, so a partial or misplaced copy is seen.
  std::vector<float> host(std::size_t(4 * n4));
  for (std::size_t i = 0; i < host.size(); ++i) host[i] = float(i % 16777213u) + 0.5f;
  Buffer<float> src = upload(ctx, host), dst(ctx, index_t(4 * n4));
  const auto* s4 = reinterpret_cast<const float4*>(src.data());
  auto* d4 = reinterpret_cast<float4*>(dst.data());
  const int threads = 256;
  const unsigned grid = detail::grid_for(n4, threads, 32LL * std::max(1, p.multiprocessors));
  const cudaStream_t stream = stream_of(ctx);

  EventPair ev;
  double best = 0, spent = 0;
  for (int rep = 0; rep < 200 && (rep < 4 || spent < seconds); ++rep) {
    NWGF_CUDA_CHECK(cudaEventRecord(ev.start, stream));
    peak_copy_kernel<<<grid, threads, 0, stream>>>(s4, d4, n4);
    NWGF_CUDA_LAUNCH_CHECK();
    NWGF_CUDA_CHECK(cudaEventRecord(ev.stop, stream));
    NWGF_CUDA_CHECK(cudaEventSynchronize(ev.stop));
    float ms = 0;
    NWGF_CUDA_CHECK(cudaEventElapsedTime(&ms, ev.start, ev.stop));
    const double sec = std::max(1e-9, 1e-3 * double(ms));
    spent += sec;
    if (rep > 0) best = std::max(best, 2.0 * double(bytes) / sec);  // the first run warms up
  }
  p.copy_gbytes_per_s = 1e-9 * best;

  const std::vector<float> back = download(ctx, dst);
  if (std::memcmp(back.data(), host.data(), bytes) != 0) {
    throw_runtime("measure_cuda_peaks: the copy kernel's output differs from its input");
  }
  return p;
}

}  // namespace nwgf
