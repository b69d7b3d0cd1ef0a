// The FMA loop is compiled for every SIMD target (Google Highway, as kernels/pairwise_rows-inl.h)
// and dispatched to the one in use (engine/simd.hpp).
#include "nwgf/engine/peak.hpp"

#include <omp.h>

#include "nwgf/engine/backend.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128)
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/peak.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
// foreach_target.h must come first.
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace nwgf {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// `iterations` rounds of 10 independent FMA chains (enough to cover the FMA latency times the
// number of FMA pipes); returns the flops done and a value that depends on every chain.
template <class T>
HWY_NOINLINE double FmaChains(std::int64_t iterations, T seed, double* flops) {
  const hn::ScalableTag<T> d;
  const auto a = hn::Set(d, T(0.999999)), b = hn::Set(d, T(1e-7));
  auto v0 = hn::Set(d, seed), v1 = hn::Add(v0, b), v2 = hn::Add(v1, b), v3 = hn::Add(v2, b),
       v4 = hn::Add(v3, b), v5 = hn::Add(v4, b), v6 = hn::Add(v5, b), v7 = hn::Add(v6, b),
       v8 = hn::Add(v7, b), v9 = hn::Add(v8, b);
  for (std::int64_t i = 0; i < iterations; ++i) {
    v0 = hn::MulAdd(v0, a, b);
    v1 = hn::MulAdd(v1, a, b);
    v2 = hn::MulAdd(v2, a, b);
    v3 = hn::MulAdd(v3, a, b);
    v4 = hn::MulAdd(v4, a, b);
    v5 = hn::MulAdd(v5, a, b);
    v6 = hn::MulAdd(v6, a, b);
    v7 = hn::MulAdd(v7, a, b);
    v8 = hn::MulAdd(v8, a, b);
    v9 = hn::MulAdd(v9, a, b);
  }
  *flops = 2.0 * 10.0 * double(hn::Lanes(d)) * double(iterations);
  const auto s = hn::Add(hn::Add(hn::Add(v0, v1), hn::Add(v2, v3)),
                         hn::Add(hn::Add(hn::Add(v4, v5), hn::Add(v6, v7)), hn::Add(v8, v9)));
  return double(hn::GetLane(s));
}

HWY_NOINLINE double FmaF32(std::int64_t iterations, double* flops) {
  return FmaChains<float>(iterations, 1.0f, flops);
}
HWY_NOINLINE double FmaF64(std::int64_t iterations, double* flops) {
  return FmaChains<double>(iterations, 1.0, flops);
}

}  // namespace HWY_NAMESPACE
}  // namespace nwgf
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace nwgf {

HWY_EXPORT(FmaF32);
HWY_EXPORT(FmaF64);

namespace {

using clock_type = std::chrono::steady_clock;

double since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// The best rate (units per second) of `fn(work)` on `threads` threads at once, with `work` grown
// until one call takes `seconds`; fn returns the units done by the calling thread.
template <class Fn>
double best_rate(int threads, double seconds, std::int64_t work, Fn fn) {
  // Calibrate on one thread.
  while (true) {
    const auto t0 = clock_type::now();
    fn(work);
    if (since(t0) >= seconds / 4 || work > (std::int64_t(1) << 40)) break;
    work *= 2;
  }
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double units = 0;
    const auto t0 = clock_type::now();
#pragma omp parallel num_threads(threads) reduction(+ : units)
    units += fn(work);
    best = std::max(best, units / since(t0));
  }
  return best;
}

}  // namespace

CpuPeaks measure_cpu_peaks(int threads, double seconds) {
  CpuPeaks p;
  p.threads = threads > 0 ? threads : omp_get_max_threads();
  p.fma_gflops_f32 = 1e-9 * best_rate(p.threads, seconds, 1 << 16, [](std::int64_t it) {
    double flops = 0;
    const double v = HWY_DYNAMIC_DISPATCH(FmaF32)(it, &flops);
    return v == 12345.678 ? flops + 1 : flops;  // uses the chains' value: they stay
  });
  p.fma_gflops_f64 = 1e-9 * best_rate(p.threads, seconds, 1 << 16, [](std::int64_t it) {
    double flops = 0;
    const double v = HWY_DYNAMIC_DISPATCH(FmaF64)(it, &flops);
    return v == 12345.678 ? flops + 1 : flops;
  });
  // The triad on arrays well beyond the last-level caches (3 x 64 MiB), first touched by the
  // threads that use them.
  const std::int64_t n = std::int64_t(8) << 20;
  const std::size_t m = std::size_t(n);
  std::vector<double> a(m), b(m), c(m);
#pragma omp parallel for num_threads(p.threads) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    a[std::size_t(i)] = 0;
    b[std::size_t(i)] = 1;
    c[std::size_t(i)] = 2;
  }
  p.triad_bytes = 3.0 * 8.0 * double(n);
  double best = 0;
  const auto one = clock_type::now();
  int reps = 0;
  do {
    const auto t0 = clock_type::now();
    const double s = 0.5 + 1e-9 * reps;
    double* pa = a.data();
    const double* pb = b.data();
    const double* pc = c.data();
#pragma omp parallel for num_threads(p.threads) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
    best = std::max(best, p.triad_bytes / since(t0));
    ++reps;
  } while (reps < 5 || (since(one) < seconds && reps < 200));
  p.triad_gbytes_per_s = 1e-9 * best;
  return p;
}

FmaLanes cuda_fma_lanes_per_sm(int major, int minor) {
  const int cc = major * 10 + minor;
  switch (cc) {
    case 60: return {64, 32};
    case 61: case 62: return {128, 4};
    case 70: return {64, 32};
    case 72: case 75: return {64, 2};
    case 80: return {64, 32};
    case 86: case 87: case 89: return {128, 2};
    case 90: return {128, 64};
    case 100: case 103: return {128, 64};
    case 120: case 121: return {128, 2};
    default: return {};
  }
}

#ifndef NWGF_HAVE_CUDA
CudaPeaks measure_cuda_peaks(int device, double seconds, std::size_t bytes) {
  (void)seconds;
  (void)bytes;
  Context ctx(Device::cuda, 0, device);  // throws the bad-input error naming the reason
  return {};
}
#endif

}  // namespace nwgf
#endif  // HWY_ONCE
