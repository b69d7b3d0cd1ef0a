#pragma once
// nwgf CUDA emulator, device side: the CUDA execution model on the CPU (test-only build,
// NWGF_CUDA_EMULATE). Our .cu files are compiled by the host compiler with this header forced in
// (-include) after tools/emulate/rewrite_cu.py turned `k<<<g, b, s, st>>>(args)` into
// `::nwgf::emu::launch(...)` and `__shared__` declarations into per-block storage.
//
// Every CUDA thread of the running block is a fiber on the launching OS thread; a cooperative
// scheduler switches at __syncthreads, warp collectives and (random schedules only) atomics, in
// an order chosen by nwgf::emu::set_schedule (forward, reverse, or seeded random). Blocks run one
// after the other. Barrier divergence, warp-collective misuse, deadlocks, host pointers passed to
// kernels and bad launch configurations are kernel faults: the launch stops and the next
// cudaGetLastError / synchronising call returns cudaErrorLaunchFailure with the reason.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <utility>

#include "nwgf_emu/control.hpp"

// ---- qualifiers ------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline __attribute__((always_inline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __grid_constant__
// Declarations the rewriter did not turn into per-block storage still get one object per OS
// thread, shared by the block's fibers (no poisoning between blocks).
#define __shared__ static thread_local

// ---- vector types and built-in variables ----------------------------------------------------
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};
struct alignas(8) float2 {
  float x, y;
};
struct float3 {
  float x, y, z;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(16) double2 {
  double x, y;
};
struct alignas(8) int2 {
  int x, y;
};
struct alignas(16) int4 {
  int x, y, z, w;
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float3 make_float3(float x, float y, float z) { return {x, y, z}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline double2 make_double2(double x, double y) { return {x, y}; }
inline int2 make_int2(int x, int y) { return {x, y}; }

// Set by the scheduler before it resumes a fiber; one set per OS thread.
inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim{1, 1, 1};
inline thread_local dim3 gridDim{1, 1, 1};
inline constexpr int warpSize = 32;

// ---- the runtime entry points (tools/emulate/runtime/device.cpp) ------------------------------
struct CUstream_st;
namespace nwgf::emu {

enum class WarpOp : int { shfl_idx, shfl_up, shfl_down, shfl_xor, ballot, any, all, syncwarp };

struct LaunchSite {
  const char* kernel;  // the name as written at the launch, template arguments included
  const char* file;
  int line;
};

namespace detail {
void syncthreads(const std::source_location& where);
std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int param, int width,
                              const std::source_location& where);
// A schedule point at atomics: random schedules may switch to another thread here.
void atomic_point();
// Fails the running kernel (device-side trap / assert) with `what`.
[[noreturn]] void trap(const char* what, const std::source_location& where);
// Per-block storage of `__shared__` declarations: poisoned (all bytes 0xFF: NaN, -1) when the
// first thread of a block reaches the declaration, counted against the 48 KiB limit.
bool shared_needs_poison(std::uint64_t& generation, std::size_t bytes);
void* dynamic_shared();
// The rewriter wraps every detail::grid_for(...) grid in this (Schedule::grid_cap).
unsigned grid_cap(unsigned blocks);
// Launch: validates, then runs every block; `body(closure)` is one CUDA thread.
bool launch_begin(const LaunchSite& site, dim3 grid, dim3 block, std::size_t shmem,
                  CUstream_st* stream);
void check_kernel_pointer(const LaunchSite& site, int index, const void* p);
void run_grid(void (*body)(void*), void* closure);
}  // namespace detail

inline unsigned grid_cap(unsigned blocks) { return detail::grid_cap(blocks); }

template <class A, class Tag>
A& shared_var(Tag) {
  alignas(64) static thread_local A storage;
  static thread_local std::uint64_t generation = 0;
  if (detail::shared_needs_poison(generation, sizeof(A))) std::memset(&storage, 0xFF, sizeof(A));
  return storage;
}
template <class T>
T* dynamic_shared() {
  return static_cast<T*>(detail::dynamic_shared());
}

// Enqueues `work` on `stream`: runs it now, or records it into the graph the stream captures
// (runtime/graph.cpp). Kernel launches, async copies and fills, cuBLAS and CUB all go through it.
void submit(CUstream_st* stream, std::function<void()> work);

struct LaunchConfig {
  LaunchSite site;
  dim3 grid, block;
  std::size_t shmem;
  CUstream_st* stream;
};

template <class Body>
struct BoundLaunch {
  LaunchConfig cfg;
  Body body;
  bool ok;
  template <class... A>
  void operator()(A&&... a) const {
    if (!ok) return;
    // Arguments are evaluated once on the host (at capture time in a captured launch); every
    // thread gets its own copy, as in CUDA.
    std::tuple<std::decay_t<A>...> params(std::forward<A>(a)...);
    submit(cfg.stream, [cfg = cfg, body = body, params = std::move(params)] {
      // Validated again where it runs (a replay has the captured configuration); counts it.
      if (!detail::launch_begin(cfg.site, cfg.grid, cfg.block, cfg.shmem, cfg.stream)) return;
      int index = 0;
      std::apply([&](const auto&... p) { ((check_param(cfg.site, index++, p)), ...); }, params);
      auto thread = [&] { std::apply([&](const auto&... p) { body(p...); }, params); };
      detail::run_grid([](void* c) { (*static_cast<decltype(thread)*>(c))(); }, &thread);
    });
  }
  template <class P>
  static void check_param(const LaunchSite& site, int index, const P& p) {
    if constexpr (std::is_pointer_v<P>) detail::check_kernel_pointer(site, index, p);
  }
};

struct LaunchStart {
  LaunchConfig cfg;
  bool ok;
  template <class Body>
  BoundLaunch<Body> operator()(Body body) const {
    return BoundLaunch<Body>{cfg, body, ok};
  }
};

inline LaunchStart launch(const char* kernel, const char* file, int line, dim3 grid, dim3 block,
                          std::size_t shmem = 0, CUstream_st* stream = nullptr) {
  const LaunchConfig cfg{LaunchSite{kernel, file, line}, grid, block, shmem, stream};
  return LaunchStart{cfg, detail::launch_begin(cfg.site, grid, block, shmem, stream)};
}

template <class T>
std::uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffle of a type > 8 bytes");
  std::uint64_t u = 0;
  std::memcpy(&u, &v, sizeof(T));
  return u;
}
template <class T>
T from_bits(std::uint64_t u) {
  T v;
  std::memcpy(&v, &u, sizeof(T));
  return v;
}

}  // namespace nwgf::emu

// ---- synchronisation and warp collectives ----------------------------------------------------
inline void __syncthreads(std::source_location where = std::source_location::current()) {
  nwgf::emu::detail::syncthreads(where);
}
inline void __syncwarp(unsigned mask = 0xffffffffu,
                       std::source_location where = std::source_location::current()) {
  nwgf::emu::detail::warp_collective(nwgf::emu::WarpOp::syncwarp, mask, 0, 0, 32, where);
}
inline void __threadfence() { nwgf::emu::detail::atomic_point(); }
inline void __threadfence_block() { nwgf::emu::detail::atomic_point(); }
[[noreturn]] inline void __trap(std::source_location where = std::source_location::current()) {
  nwgf::emu::detail::trap("__trap()", where);
}

#define NWGF_EMU_SHFL(NAME, OP)                                                      \
  template <class T>                                                                 \
  T NAME(unsigned mask, T var, int param, int width = 32,                            \
         std::source_location where = std::source_location::current()) {             \
    return nwgf::emu::from_bits<T>(nwgf::emu::detail::warp_collective(               \
        nwgf::emu::WarpOp::OP, mask, nwgf::emu::to_bits(var), param, width, where)); \
  }
NWGF_EMU_SHFL(__shfl_sync, shfl_idx)
NWGF_EMU_SHFL(__shfl_up_sync, shfl_up)
NWGF_EMU_SHFL(__shfl_down_sync, shfl_down)
NWGF_EMU_SHFL(__shfl_xor_sync, shfl_xor)
#undef NWGF_EMU_SHFL

inline unsigned __ballot_sync(unsigned mask, int pred,
                              std::source_location where = std::source_location::current()) {
  return unsigned(
      nwgf::emu::detail::warp_collective(nwgf::emu::WarpOp::ballot, mask, pred != 0, 0, 32, where));
}
inline int __any_sync(unsigned mask, int pred,
                      std::source_location where = std::source_location::current()) {
  return int(
      nwgf::emu::detail::warp_collective(nwgf::emu::WarpOp::any, mask, pred != 0, 0, 32, where));
}
inline int __all_sync(unsigned mask, int pred,
                      std::source_location where = std::source_location::current()) {
  return int(
      nwgf::emu::detail::warp_collective(nwgf::emu::WarpOp::all, mask, pred != 0, 0, 32, where));
}

// ---- atomics: CUDA's overload set; one block runs at a time, so plain read-modify-write ---------
#define NWGF_EMU_ATOMIC(NAME, T, EXPR) \
  inline T NAME(T* address, T val) {   \
    nwgf::emu::detail::atomic_point(); \
    const T old = *address;            \
    *address = (EXPR);                 \
    return old;                        \
  }
NWGF_EMU_ATOMIC(atomicAdd, int, old + val)
NWGF_EMU_ATOMIC(atomicAdd, unsigned int, old + val)
NWGF_EMU_ATOMIC(atomicAdd, unsigned long long int, old + val)
NWGF_EMU_ATOMIC(atomicAdd, float, old + val)
NWGF_EMU_ATOMIC(atomicAdd, double, old + val)
NWGF_EMU_ATOMIC(atomicSub, int, old - val)
NWGF_EMU_ATOMIC(atomicSub, unsigned int, old - val)
NWGF_EMU_ATOMIC(atomicExch, int, val)
NWGF_EMU_ATOMIC(atomicExch, unsigned int, val)
NWGF_EMU_ATOMIC(atomicExch, unsigned long long int, val)
NWGF_EMU_ATOMIC(atomicExch, float, val)
NWGF_EMU_ATOMIC(atomicMin, int, val < old ? val : old)
NWGF_EMU_ATOMIC(atomicMin, unsigned int, val < old ? val : old)
NWGF_EMU_ATOMIC(atomicMin, long long int, val < old ? val : old)
NWGF_EMU_ATOMIC(atomicMin, unsigned long long int, val < old ? val : old)
NWGF_EMU_ATOMIC(atomicMax, int, val > old ? val : old)
NWGF_EMU_ATOMIC(atomicMax, unsigned int, val > old ? val : old)
NWGF_EMU_ATOMIC(atomicMax, long long int, val > old ? val : old)
NWGF_EMU_ATOMIC(atomicMax, unsigned long long int, val > old ? val : old)
NWGF_EMU_ATOMIC(atomicAnd, int, old& val)
NWGF_EMU_ATOMIC(atomicAnd, unsigned int, old& val)
NWGF_EMU_ATOMIC(atomicAnd, unsigned long long int, old& val)
NWGF_EMU_ATOMIC(atomicOr, int, old | val)
NWGF_EMU_ATOMIC(atomicOr, unsigned int, old | val)
NWGF_EMU_ATOMIC(atomicOr, unsigned long long int, old | val)
NWGF_EMU_ATOMIC(atomicXor, int, old ^ val)
NWGF_EMU_ATOMIC(atomicXor, unsigned int, old ^ val)
NWGF_EMU_ATOMIC(atomicXor, unsigned long long int, old ^ val)
NWGF_EMU_ATOMIC(atomicInc, unsigned int, old >= val ? 0u : old + 1u)
NWGF_EMU_ATOMIC(atomicDec, unsigned int, (old == 0u || old > val) ? val : old - 1u)
#undef NWGF_EMU_ATOMIC
#define NWGF_EMU_CAS(T)                              \
  inline T atomicCAS(T* address, T compare, T val) { \
    nwgf::emu::detail::atomic_point();               \
    const T old = *address;                          \
    if (old == compare) *address = val;              \
    return old;                                      \
  }
NWGF_EMU_CAS(int)
NWGF_EMU_CAS(unsigned int)
NWGF_EMU_CAS(unsigned long long int)
NWGF_EMU_CAS(unsigned short int)
#undef NWGF_EMU_CAS

// ---- loads and intrinsic math (IEEE host versions; fast-math intrinsics are exact here) --------
template <class T>
inline T __ldg(const T* p) {
  return *p;
}
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline double __drcp_rn(double x) { return 1.0 / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline double __dsqrt_rn(double x) { return std::sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __powf(float a, float b) { return std::pow(a, b); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline int __float_as_int(float x) { return nwgf::emu::from_bits<int>(nwgf::emu::to_bits(x)); }
inline float __int_as_float(int x) { return nwgf::emu::from_bits<float>(nwgf::emu::to_bits(x)); }
inline unsigned __float_as_uint(float x) {
  return nwgf::emu::from_bits<unsigned>(nwgf::emu::to_bits(x));
}
inline float __uint_as_float(unsigned x) {
  return nwgf::emu::from_bits<float>(nwgf::emu::to_bits(x));
}
inline long long __double_as_longlong(double x) {
  return nwgf::emu::from_bits<long long>(nwgf::emu::to_bits(x));
}
inline double __longlong_as_double(long long x) {
  return nwgf::emu::from_bits<double>(nwgf::emu::to_bits(x));
}
inline unsigned __umulhi(unsigned a, unsigned b) {
  return unsigned((std::uint64_t(a) * std::uint64_t(b)) >> 32);
}
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)((unsigned __int128)a * b >> 64);
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(unsigned x) { return x == 0 ? 32 : __builtin_clz(x); }
inline int __clzll(unsigned long long x) { return x == 0 ? 64 : __builtin_clzll(x); }
inline int __ffs(unsigned x) { return __builtin_ffs(int(x)); }
inline int __ffsll(unsigned long long x) { return __builtin_ffsll((long long)x); }
inline unsigned __brev(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
  return (x >> 16) | (x << 16);
}
// CUDA's global min/max overloads for device code.
inline int min(int a, int b) { return a < b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline long min(long a, long b) { return a < b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
