// The CUDA emulator's own semantics: indexing, barriers, warp collectives, atomics, shared
// memory, and the faults it must catch (barrier divergence, deadlocks, host pointers, bad
// configurations, races and missing barriers exposed by schedules). Rewritten like our .cu files.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <cub/cub.cuh>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "nwgf_emu/control.hpp"

namespace {

using nwgf::emu::Policy;
using nwgf::emu::Schedule;

std::vector<Schedule> schedules() {
  std::vector<Schedule> s = {{Policy::forward, 0, 0}, {Policy::reverse, 0, 0}};
  for (std::uint64_t seed = 1; seed <= 4; ++seed) s.push_back({Policy::random, seed, 50});
  return s;
}

template <class T>
struct DeviceArray {
  T* p = nullptr;
  std::size_t n = 0;
  explicit DeviceArray(std::size_t count) : n(count) {
    REQUIRE(cudaMalloc(&p, sizeof(T) * (n ? n : 1)) == cudaSuccess);
  }
  explicit DeviceArray(const std::vector<T>& h) : DeviceArray(h.size()) {
    if (n) REQUIRE(cudaMemcpy(p, h.data(), sizeof(T) * n, cudaMemcpyHostToDevice) == cudaSuccess);
  }
  ~DeviceArray() { cudaFree(p); }
  std::vector<T> host() const {
    std::vector<T> h(n);
    if (n) REQUIRE(cudaMemcpy(h.data(), p, sizeof(T) * n, cudaMemcpyDeviceToHost) == cudaSuccess);
    return h;
  }
};

// The fault the last launches produced (cleared), "" when none.
std::string take_fault(cudaError_t want = cudaErrorLaunchFailure) {
  const std::string why = nwgf::emu::last_fault();
  const cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) return "";
  CHECK(err == want);
  return why.empty() ? "?" : why;
}

struct ScheduleGuard {
  Schedule saved = nwgf::emu::schedule();
  ~ScheduleGuard() { nwgf::emu::set_schedule(saved); }
};

// ---- kernels ---------------------------------------------------------------------------------

constexpr int kBlock = 128;

// Block sum: a shared tree, then warp shuffles; one partial per block. Ragged n: zero padding.
__global__ void block_sum(const float* x, int n, float* partial) {
  __shared__ float tile[kBlock];
  const int i = int(blockIdx.x) * kBlock + int(threadIdx.x);
  tile[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  for (int w = kBlock / 2; w >= 32; w >>= 1) {
    if (int(threadIdx.x) < w) tile[threadIdx.x] += tile[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x < 32) {
    float v = tile[threadIdx.x];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    if (threadIdx.x == 0) partial[blockIdx.x] = v;
  }
}

// Reverses each block's slice through shared memory; with Barrier = false the barrier between
// the write and the read is missing.
template <bool Barrier>
__global__ void reverse_tile(const int* in, int* out, int n) {
  __shared__ int tile[kBlock];
  const int i = int(blockIdx.x) * kBlock + int(threadIdx.x);
  tile[threadIdx.x] = i < n ? in[i] : -1;
  if (Barrier) __syncthreads();
  if (i < n) out[i] = tile[kBlock - 1 - int(threadIdx.x)];
}

// Write-write race: two threads store to the same element (bad index).
__global__ void racy_store(const int* in, int* out, int n) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i / 2] = in[i];
}

// Read-modify-write race across a switch point (a warp collective inside the window).
__global__ void racy_accumulate(int* acc) {
  const int v = *acc;
  const int lanes = __popc(__ballot_sync(0xffffffffu, 1));
  *acc = v + lanes / 32;
}

__global__ void atomic_count(int* counter, unsigned long long* big, float* fsum, int* maxv, int n) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= n) return;
  atomicAdd(counter, 1);
  atomicAdd(big, 1ull << 33);
  atomicAdd(fsum, 0.5f);
  atomicMax(maxv, i);
  int old = *counter, assumed;
  do {  // a CAS loop, as used for atomics CUDA lacks
    assumed = old;
    old = atomicCAS(counter, assumed, assumed);
  } while (old != assumed);
}

__global__ void shuffles(int* out, int width) {
  const int lane = int(threadIdx.x) & 31;
  const int v = 100 + int(threadIdx.x);
  int* o = out + threadIdx.x * 8;
  o[0] = __shfl_sync(0xffffffffu, v, 3, width);
  o[1] = __shfl_up_sync(0xffffffffu, v, 2, width);
  o[2] = __shfl_down_sync(0xffffffffu, v, 2, width);
  o[3] = __shfl_xor_sync(0xffffffffu, v, 1, width);
  o[4] = int(__ballot_sync(0xffffffffu, lane % 3 == 0));
  o[5] = __any_sync(0xffffffffu, lane == 7);
  o[6] = __all_sync(0xffffffffu, lane < 40);
  o[7] = lane < 16 ? __shfl_sync(0x0000ffffu, v, 15 - lane) : -7;
}

// x <- a x + b (one pass of a captured iteration).
__global__ void affine(float* x, int n, float a, float b) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) x[i] = a * x[i] + b;
}

__global__ void index_3d(int* out) {
  const int t = int(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
  const int b = int(blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z));
  const int nthreads = int(blockDim.x * blockDim.y * blockDim.z);
  out[b * nthreads + t] = 1000 * b + t;
}

__global__ void read_shared_unwritten(float* out) {
  __shared__ float tile[64];
  if (threadIdx.x == 0) tile[0] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x];
}

__global__ void dynamic_tile(const float* in, float* out, int n) {
  extern __shared__ float dyn[];
  const int i = int(threadIdx.x);
  dyn[i] = i < n ? in[i] : 0.0f;
  __syncthreads();
  if (i < n) out[i] = dyn[blockDim.x - 1 - i];
}

__global__ void diverge_partial_barrier() {
  if (threadIdx.x < 16) __syncthreads();
}
__global__ void diverge_exit_then_barrier(int n) {
  if (int(threadIdx.x) >= n) return;
  __syncthreads();
}
__global__ void diverge_two_sites() {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
}
__global__ void shfl_after_exit(float* out) {
  if (threadIdx.x == 5) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1.0f, 1);
}
__global__ void barrier_vs_shuffle(float* out) {
  float v = 1.0f;
  if (threadIdx.x == 0)
    __syncthreads();
  else
    v = __shfl_xor_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}
__global__ void partial_warp_full_mask(float* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
}
__global__ void block_order(int* counter, int* order) {
  if (threadIdx.x == 0) order[atomicAdd(counter, 1)] = int(blockIdx.x);
}
__global__ void write_one(float* out, int i) { out[i] = 1.0f; }
__global__ void noop() {}

// ---- tests -----------------------------------------------------------------------------------

TEST_CASE("block sums over ragged sizes match a serial sum under every schedule") {
  ScheduleGuard guard;
  for (const int n : {1, 5, 31, 32, 33, 127, 128, 129, 1000}) {
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = float((i * 37) % 11) - 5.0f;
    const double want = std::accumulate(x.begin(), x.end(), 0.0);
    const int blocks = (n + kBlock - 1) / kBlock;
    for (const Schedule& s : schedules()) {
      nwgf::emu::set_schedule(s);
      DeviceArray<float> dx(x), partial(blocks);
      block_sum<<<blocks, kBlock>>>(dx.p, n, partial.p);
      REQUIRE(take_fault() == "");
      const auto h = partial.host();
      CHECK(std::accumulate(h.begin(), h.end(), 0.0) == doctest::Approx(want));
    }
  }
}

TEST_CASE("a missing __syncthreads is caught by some schedule, the correct kernel by none") {
  ScheduleGuard guard;
  const int n = 300;
  std::vector<int> in(n);
  std::iota(in.begin(), in.end(), 0);
  const int blocks = (n + kBlock - 1) / kBlock;
  int wrong_with = 0, wrong_without = 0;
  for (const Schedule& s : schedules()) {
    nwgf::emu::set_schedule(s);
    DeviceArray<int> din(in), good(n), bad(n);
    reverse_tile<true><<<blocks, kBlock>>>(din.p, good.p, n);
    reverse_tile<false><<<blocks, kBlock>>>(din.p, bad.p, n);
    REQUIRE(take_fault() == "");
    const auto g = good.host(), b = bad.host();
    std::vector<int> want(n);
    for (int i = 0; i < n; ++i) {
      const int src = i / kBlock * kBlock + kBlock - 1 - i % kBlock;
      want[i] = src < n ? src : -1;
    }
    wrong_with += g != want;
    wrong_without += b != want;
  }
  CHECK(wrong_with == 0);
  CHECK(wrong_without > 0);
}

TEST_CASE("races are exposed by comparing schedules") {
  ScheduleGuard guard;
  const int n = 64;
  std::vector<int> in(n);
  std::iota(in.begin(), in.end(), 0);
  std::vector<std::vector<int>> store_results;
  std::vector<int> acc_results;
  for (const Schedule& s : schedules()) {
    nwgf::emu::set_schedule(s);
    DeviceArray<int> din(in), out(n / 2), acc(std::vector<int>{0});
    racy_store<<<1, n>>>(din.p, out.p, n);
    racy_accumulate<<<1, 64>>>(acc.p);
    REQUIRE(take_fault() == "");
    store_results.push_back(out.host());
    acc_results.push_back(acc.host()[0]);
  }
  // Forward: the later (odd) writer wins; reverse: the even one. 64 unprotected increments lose
  // updates whenever another thread runs between the read and the write.
  CHECK(store_results[0] != store_results[1]);
  CHECK(*std::min_element(acc_results.begin(), acc_results.end()) < 64);
}

TEST_CASE("atomics are atomic under every schedule") {
  ScheduleGuard guard;
  const int n = 1000;
  for (const Schedule& s : schedules()) {
    nwgf::emu::set_schedule(s);
    DeviceArray<int> counter(std::vector<int>{0}), maxv(std::vector<int>{-1});
    DeviceArray<unsigned long long> big(std::vector<unsigned long long>{0});
    DeviceArray<float> fsum(std::vector<float>{0});
    atomic_count<<<(n + 255) / 256, 256>>>(counter.p, big.p, fsum.p, maxv.p, n);
    REQUIRE(take_fault() == "");
    CHECK(counter.host()[0] == n);
    CHECK(big.host()[0] == (unsigned long long)n << 33);
    CHECK(fsum.host()[0] == 500.0f);
    CHECK(maxv.host()[0] == n - 1);
  }
}

TEST_CASE("warp shuffles, ballot, any, all follow CUDA's lane arithmetic") {
  for (const int width : {32, 8}) {
    DeviceArray<int> out(64 * 8);
    shuffles<<<1, 64>>>(out.p, width);
    REQUIRE(take_fault() == "");
    const auto h = out.host();
    for (int t = 0; t < 64; ++t) {
      const int lane = t % 32, warp0 = t - lane, group = lane / width * width, lw = lane % width;
      const int* o = h.data() + t * 8;
      CHECK(o[0] == 100 + warp0 + group + 3 % width);
      CHECK(o[1] == 100 + (lw >= 2 ? t - 2 : t));
      CHECK(o[2] == 100 + (lw + 2 < width ? t + 2 : t));
      CHECK(o[3] == 100 + (t ^ 1));
      CHECK(unsigned(o[4]) == 0x49249249u);
      CHECK(o[5] == 1);
      CHECK(o[6] == 1);
      CHECK(o[7] == (lane < 16 ? 100 + warp0 + 15 - lane : -7));
    }
  }
}

TEST_CASE("blocks run in the schedule's order: linear, reversed, shuffled") {
  ScheduleGuard guard;
  const int n = 16;
  std::vector<int> linear(n), reversed(n);
  std::iota(linear.begin(), linear.end(), 0);
  std::reverse_copy(linear.begin(), linear.end(), reversed.begin());
  for (const Schedule& s : schedules()) {
    nwgf::emu::set_schedule(s);
    DeviceArray<int> counter(std::vector<int>{0}), order(n);
    block_order<<<n, 64>>>(counter.p, order.p);
    REQUIRE(take_fault() == "");
    auto h = order.host();
    if (s.policy == Policy::forward) CHECK(h == linear);
    if (s.policy == Policy::reverse) CHECK(h == reversed);
    if (s.policy == Policy::random) CHECK((h != linear && h != reversed));
    std::sort(h.begin(), h.end());
    CHECK(h == linear);
  }
}

TEST_CASE("3-d blocks and grids: built-in variables and linear thread order") {
  const dim3 grid(3, 2, 2), block(4, 3, 2);
  const int total = 3 * 2 * 2 * 4 * 3 * 2;
  DeviceArray<int> out(total);
  index_3d<<<grid, block>>>(out.p);
  REQUIRE(take_fault() == "");
  const auto h = out.host();
  for (int k = 0; k < total; ++k) CHECK(h[k] == 1000 * (k / 24) + k % 24);
}

TEST_CASE("shared memory is poisoned per block; dynamic shared memory works") {
  DeviceArray<float> out(64);
  read_shared_unwritten<<<2, 64>>>(out.p);
  REQUIRE(take_fault() == "");
  const auto h = out.host();
  CHECK(h[0] == 1.0f);
  for (int i = 1; i < 64; ++i) CHECK(std::isnan(h[i]));

  std::vector<float> in(50);
  std::iota(in.begin(), in.end(), 1.0f);
  DeviceArray<float> din(in), dout(50);
  dynamic_tile<<<1, 64, 64 * sizeof(float)>>>(din.p, dout.p, 50);
  REQUIRE(take_fault() == "");
  const auto d = dout.host();
  for (int i = 0; i < 50; ++i) CHECK(d[i] == (63 - i < 50 ? in[63 - i] : 0.0f));
}

TEST_CASE("barrier divergence, collective misuse and deadlocks are kernel faults") {
  ScheduleGuard guard;
  DeviceArray<float> out(64);
  for (const Schedule& s : schedules()) {
    nwgf::emu::set_schedule(s);
    diverge_partial_barrier<<<2, 64>>>();
    CHECK(take_fault().find("barrier divergence") != std::string::npos);
    diverge_exit_then_barrier<<<1, 64>>>(40);
    CHECK(take_fault().find("barrier divergence") != std::string::npos);
    diverge_exit_then_barrier<<<1, 64>>>(64);  // nobody exits early: fine
    CHECK(take_fault() == "");
    diverge_two_sites<<<1, 64>>>();
    CHECK(take_fault().find("different __syncthreads") != std::string::npos);
    shfl_after_exit<<<1, 32>>>(out.p);
    CHECK(take_fault().find("exited") != std::string::npos);
    barrier_vs_shuffle<<<1, 32>>>(out.p);
    CHECK(take_fault().find("deadlock") != std::string::npos);
    partial_warp_full_mask<<<1, 48>>>(out.p);
    CHECK(take_fault().find("beyond the block") != std::string::npos);
  }
  // The next launch runs normally.
  noop<<<1, 1>>>();
  CHECK(take_fault() == "");
}

TEST_CASE("launch errors: configuration, host pointers, freed memory") {
  noop<<<1, 2048>>>();
  CHECK(take_fault(cudaErrorInvalidConfiguration).find("1024") != std::string::npos);
  noop<<<0, 32>>>();
  CHECK(take_fault(cudaErrorInvalidConfiguration) != "");
  std::vector<float> host(4);
  write_one<<<1, 1>>>(host.data(), 0);
  CHECK(take_fault(cudaErrorInvalidDevicePointer).find("not device memory") != std::string::npos);
  CHECK(host[0] == 0.0f);
  float* p = nullptr;
  REQUIRE(cudaMalloc(&p, 16) == cudaSuccess);
  REQUIRE(cudaFree(p) == cudaSuccess);
  write_one<<<1, 1>>>(p, 0);
  CHECK(take_fault(cudaErrorInvalidDevicePointer) != "");
  CHECK(cudaFree(p) == cudaErrorInvalidDevicePointer);
  cudaGetLastError();
}

TEST_CASE("out-of-bounds stores fault at the guard page after an allocation") {
  // In a child process: the store one element past a 10-float allocation must kill it.
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);  // die of the fault, not of the test framework's handler
    float* p = nullptr;
    if (cudaMalloc(&p, 10 * sizeof(float)) != cudaSuccess) _exit(3);
    write_one<<<1, 1>>>(p, 9);  // in bounds
    if (cudaGetLastError() != cudaSuccess) _exit(4);
    write_one<<<1, 1>>>(p, 12);  // past the 16-byte-rounded end
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGSEGV);
}

TEST_CASE("runtime API: memory kinds, memset, device properties") {
  int count = 0;
  CHECK(cudaGetDeviceCount(&count) == cudaSuccess);
  CHECK(count == 1);
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0) == cudaSuccess);
  CHECK(std::string(prop.name) == "nwgf CUDA emulator");
  DeviceArray<int> a(8);
  CHECK(std::isnan(DeviceArray<float>(3).host()[1]));  // fresh memory is poisoned
  CHECK(cudaMemset(a.p, 0, 8 * sizeof(int)) == cudaSuccess);
  CHECK(a.host() == std::vector<int>(8, 0));
  std::vector<int> h(8, 5);
  CHECK(cudaMemcpy(a.p, h.data(), 8 * sizeof(int), cudaMemcpyDeviceToHost) ==
        cudaErrorInvalidValue);  // wrong direction
  cudaGetLastError();
  CHECK(cudaMemcpy(a.p, h.data(), 9 * sizeof(int), cudaMemcpyHostToDevice) ==
        cudaErrorInvalidValue);  // past the allocation
  cudaGetLastError();
}

TEST_CASE("runtime API: events are stamped when recorded, timed unless made without timing") {
  cudaStream_t s = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
  cudaEvent_t a = nullptr, b = nullptr, untimed = nullptr;
  REQUIRE(cudaEventCreateWithFlags(&a, cudaEventDefault) == cudaSuccess);
  REQUIRE(cudaEventCreate(&b) == cudaSuccess);
  REQUIRE(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming) == cudaSuccess);
  float ms = -1;
  CHECK(cudaEventElapsedTime(&ms, a, b) == cudaErrorInvalidResourceHandle);  // not recorded
  cudaGetLastError();
  CHECK(cudaEventRecord(a, s) == cudaSuccess);
  usleep(2000);
  CHECK(cudaEventRecord(b, s) == cudaSuccess);
  CHECK(cudaEventRecord(untimed, s) == cudaSuccess);
  CHECK(cudaEventQuery(b) == cudaSuccess);  // the work before it has run
  CHECK(cudaEventElapsedTime(&ms, a, b) == cudaSuccess);
  CHECK(ms >= 2.0f);
  CHECK(ms < 1000.0f);
  CHECK(cudaEventElapsedTime(&ms, a, untimed) == cudaErrorInvalidResourceHandle);
  cudaGetLastError();
  CHECK(cudaEventElapsedTime(nullptr, a, b) == cudaErrorInvalidValue);
  cudaGetLastError();
  CHECK(std::string(cudaGetErrorName(cudaErrorNotReady)) == "cudaErrorNotReady");
  for (cudaEvent_t e : {a, b, untimed}) CHECK(cudaEventDestroy(e) == cudaSuccess);
  CHECK(cudaStreamDestroy(s) == cudaSuccess);
}

TEST_CASE("cub::DeviceRadixSort: query protocol, stable order, -0.0 equals +0.0") {
  std::vector<float> keys = {3.0f, -1.0f, 0.0f, -0.0f, 2.5f, -1.0f, 1e-30f, -7.0f, 0.0f};
  const int n = int(keys.size());
  std::vector<int> vals(n);
  std::iota(vals.begin(), vals.end(), 0);
  DeviceArray<float> kin(keys), kout(n);
  DeviceArray<int> vin(vals), vout(n);
  std::size_t bytes = 0;
  CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, kin.p, kout.p, vin.p, vout.p, n) ==
        cudaSuccess);
  CHECK(bytes > 0);
  DeviceArray<unsigned char> temp(bytes);
  CHECK(cub::DeviceRadixSort::SortPairs(temp.p, bytes, kin.p, kout.p, vin.p, vout.p, n) ==
        cudaSuccess);
  std::vector<int> want(n);
  std::iota(want.begin(), want.end(), 0);
  std::stable_sort(want.begin(), want.end(), [&](int a, int b) { return keys[a] < keys[b]; });
  CHECK(vout.host() == want);
  std::size_t small = bytes / 2;
  CHECK(cub::DeviceRadixSort::SortKeys(temp.p, small, kin.p, kout.p, n) == cudaErrorInvalidValue);
  cudaGetLastError();
  CHECK(cub::DeviceRadixSort::SortKeys(temp.p, bytes, keys.data(), kout.p, n) ==
        cudaErrorInvalidValue);  // host input
  cudaGetLastError();
}

TEST_CASE("cublasSgemm is column-major and rejects host matrices") {
  const int m = 3, n = 2, k = 4;
  std::vector<float> a(m * k), b(k * n), c(m * n, 1.0f);
  for (int i = 0; i < m * k; ++i) a[i] = float(i + 1);
  for (int i = 0; i < k * n; ++i) b[i] = float(2 * i - 3);
  DeviceArray<float> da(a), db(b), dc(c);
  cublasHandle_t h;
  REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
  const float alpha = 2.0f, beta = 0.5f;
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, da.p, m, db.p, k, &beta, dc.p,
                    m) == CUBLAS_STATUS_SUCCESS);
  const auto got = dc.host();
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      float s = 0;
      for (int l = 0; l < k; ++l) s += a[i + l * m] * b[l + j * k];
      CHECK(got[i + j * m] == doctest::Approx(2.0f * s + 0.5f));
    }
  }
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, a.data(), m, db.p, k, &beta, dc.p,
                    m) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, da.p, m - 1, db.p, k, &beta, dc.p,
                    m) == CUBLAS_STATUS_INVALID_VALUE);
  cublasDestroy(h);
}

// One iteration: y <- 2 y + 1 (kernel), c <- A y (cuBLAS, y as a 4 x 2 matrix), keys <- c sorted
// (CUB, with y's index as payload), then a fill of the last element of y (memset).
struct Iteration {
  static constexpr int n = 8;
  DeviceArray<float> y{std::vector<float>{3, -1, 4, 1, -5, 9, 2, 6}};
  DeviceArray<float> a{std::vector<float>{1, 2, 0, -1, 0.5f, 3, 1, 1, -2, 0, 1, 2, 0, 1, 0, 1}};
  DeviceArray<float> c{std::vector<float>(n, 0.0f)};
  DeviceArray<float> keys{std::vector<float>(n, 0.0f)};
  DeviceArray<int> iota{std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}};
  DeviceArray<int> order{std::vector<int>(n, 0)};
  DeviceArray<unsigned char> temp{4096};
  void run(cudaStream_t s, cublasHandle_t h) {
    affine<<<2, 4, 0, s>>>(y.p, n, 2.0f, 1.0f);
    const float one = 1.0f, zero = 0.0f;
    REQUIRE(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 4, 2, 4, &one, a.p, 4, y.p, 4, &zero, c.p,
                        4) == CUBLAS_STATUS_SUCCESS);
    std::size_t bytes = temp.n;
    REQUIRE(cub::DeviceRadixSort::SortPairs(temp.p, bytes, c.p, keys.p, iota.p, order.p, n, 0, 32,
                                            s) == cudaSuccess);
    REQUIRE(cudaMemsetAsync(y.p + n - 1, 0, sizeof(float), s) == cudaSuccess);
  }
};

TEST_CASE("stream capture: recorded work does not run; a graph replays it like eager runs") {
  cudaStream_t s;
  REQUIRE(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
  cublasHandle_t h;
  REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(cublasSetStream(h, s) == CUBLAS_STATUS_SUCCESS);
  Iteration eager, graph;
  eager.run(s, h);
  eager.run(s, h);

  cudaStreamCaptureStatus st = cudaStreamCaptureStatusActive;
  CHECK(cudaStreamIsCapturing(s, &st) == cudaSuccess);
  CHECK(st == cudaStreamCaptureStatusNone);
  const auto before = graph.y.host();
  REQUIRE(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal) == cudaSuccess);
  CHECK(cudaStreamIsCapturing(s, &st) == cudaSuccess);
  CHECK(st == cudaStreamCaptureStatusActive);
  CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal) == cudaErrorIllegalState);
  CHECK(take_fault(cudaErrorIllegalState) != "");
  graph.run(s, h);
  cudaGraph_t g = nullptr;
  REQUIRE(cudaStreamEndCapture(s, &g) == cudaSuccess);
  REQUIRE(g != nullptr);
  CHECK(graph.y.host() == before);  // captured, not run
  cudaGraphExec_t exec = nullptr;
  REQUIRE(cudaGraphInstantiate(&exec, g, 0) == cudaSuccess);
  REQUIRE(cudaGraphLaunch(exec, s) == cudaSuccess);
  REQUIRE(cudaGraphLaunch(exec, s) == cudaSuccess);
  REQUIRE(cudaStreamSynchronize(s) == cudaSuccess);
  CHECK(graph.y.host() == eager.y.host());
  CHECK(graph.c.host() == eager.c.host());
  CHECK(graph.keys.host() == eager.keys.host());
  CHECK(graph.order.host() == eager.order.host());
  CHECK(cudaGraphExecDestroy(exec) == cudaSuccess);
  CHECK(cudaGraphDestroy(g) == cudaSuccess);
  CHECK(take_fault() == "");
  cublasDestroy(h);
  CHECK(cudaStreamDestroy(s) == cudaSuccess);
}

TEST_CASE("stream capture: allocation, synchronous copies and synchronisation invalidate it") {
  cudaStream_t s;
  REQUIRE(cudaStreamCreate(&s) == cudaSuccess);
  DeviceArray<float> d(4);
  float host[4] = {};
  // Each call is refused during a global capture, which then ends invalidated (no graph).
  const std::vector<std::pair<const char*, std::function<cudaError_t()>>> calls = {
      {"cudaMalloc", [] { void* p = nullptr; return cudaMalloc(&p, 16); }},
      {"cudaFree", [&] { return cudaFree(d.p); }},
      {"cudaMemcpy", [&] { return cudaMemcpy(host, d.p, sizeof host, cudaMemcpyDeviceToHost); }},
      {"cudaStreamSynchronize", [&] { return cudaStreamSynchronize(s); }},
      {"cudaDeviceSynchronize", [] { return cudaDeviceSynchronize(); }},
  };
  for (const auto& [name, call] : calls) {
    CAPTURE(name);
    REQUIRE(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal) == cudaSuccess);
    CHECK(call() == cudaErrorStreamCaptureUnsupported);
    CHECK(take_fault(cudaErrorStreamCaptureUnsupported).find(name) != std::string::npos);
    cudaStreamCaptureStatus st = cudaStreamCaptureStatusNone;
    CHECK(cudaStreamIsCapturing(s, &st) == cudaSuccess);
    CHECK(st == cudaStreamCaptureStatusInvalidated);
    cudaGraph_t g = reinterpret_cast<cudaGraph_t>(&st);
    CHECK(cudaStreamEndCapture(s, &g) == cudaErrorStreamCaptureInvalidated);
    CHECK(g == nullptr);
  }
  // A relaxed capture tolerates allocation, and the legacy stream cannot capture.
  REQUIRE(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed) == cudaSuccess);
  void* p = nullptr;
  CHECK(cudaMalloc(&p, 16) == cudaSuccess);
  CHECK(cudaFree(p) == cudaSuccess);
  cudaGraph_t g = nullptr;
  CHECK(cudaStreamEndCapture(s, &g) == cudaSuccess);
  CHECK(cudaGraphDestroy(g) == cudaSuccess);
  CHECK(cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeGlobal) ==
        cudaErrorStreamCaptureUnsupported);
  CHECK(take_fault(cudaErrorStreamCaptureUnsupported) != "");
  CHECK(cudaStreamDestroy(s) == cudaSuccess);
}

}  // namespace

TEST_CASE("lazy streams: work waits in its stream; a reader that waits for no event reads old bytes") {
  struct LazyGuard {
    bool saved = nwgf::emu::lazy_streams();
    ~LazyGuard() { nwgf::emu::set_lazy_streams(saved); }
  } guard;
  nwgf::emu::set_lazy_streams(true);
  cudaStream_t a = nullptr, b = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&a, cudaStreamNonBlocking) == cudaSuccess);
  REQUIRE(cudaStreamCreateWithFlags(&b, cudaStreamNonBlocking) == cudaSuccess);
  cudaEvent_t written = nullptr;
  REQUIRE(cudaEventCreateWithFlags(&written, cudaEventDisableTiming) == cudaSuccess);
  const std::vector<float> one = {1, 1, 1, 1};
  DeviceArray<float> x(one), y(4), z(4);
  const std::size_t bytes = 4 * sizeof(float);

  // Stream a writes x (x = 2x + 1 = 3), stream b copies x to y without waiting: b's copy runs
  // when b is synchronised, before a's kernel, which waits in a.
  affine<<<1, 4, 0, a>>>(x.p, 4, 2.0f, 1.0f);
  REQUIRE(cudaMemcpyAsync(y.p, x.p, bytes, cudaMemcpyDeviceToDevice, b) == cudaSuccess);
  REQUIRE(cudaStreamSynchronize(b) == cudaSuccess);
  CHECK(y.host() == one);  // the old bytes (y.host() then runs every stream: x is 3)
  CHECK(x.host() == std::vector<float>{3, 3, 3, 3});

  // With the event: b's copy runs after a's kernel however late b runs.
  affine<<<1, 4, 0, a>>>(x.p, 4, 2.0f, 1.0f);
  REQUIRE(cudaEventRecord(written, a) == cudaSuccess);
  REQUIRE(cudaStreamWaitEvent(b, written, 0) == cudaSuccess);
  REQUIRE(cudaMemcpyAsync(z.p, x.p, bytes, cudaMemcpyDeviceToDevice, b) == cudaSuccess);
  affine<<<1, 4, 0, a>>>(x.p, 4, 2.0f, 1.0f);  // after the record: not waited for
  REQUIRE(cudaStreamSynchronize(b) == cudaSuccess);
  CHECK(z.host() == std::vector<float>{7, 7, 7, 7});
  CHECK(x.host() == std::vector<float>{15, 15, 15, 15});

  // A copy to host memory returns with the bytes (pageable memory: the stream runs up to it).
  affine<<<1, 4, 0, a>>>(x.p, 4, 1.0f, 1.0f);
  std::vector<float> h(4, 0.0f);
  REQUIRE(cudaMemcpyAsync(h.data(), x.p, bytes, cudaMemcpyDeviceToHost, a) == cudaSuccess);
  CHECK(h == std::vector<float>{16, 16, 16, 16});
  CHECK(take_fault() == "");
  CHECK(cudaEventDestroy(written) == cudaSuccess);
  CHECK(cudaStreamDestroy(a) == cudaSuccess);
  CHECK(cudaStreamDestroy(b) == cudaSuccess);
}
