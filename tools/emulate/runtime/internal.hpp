#pragma once
// The emulator's shared state, between its parts: the process-wide schedule, statistics and
// sticky error (control.cpp), device memory (memory.cpp), fibers (fiber.cpp), the block
// scheduler (scheduler.cpp), the device-side entry points (device.cpp) and the runtime API
// (runtime_api.cpp). Not a public header: the emulated code sees include/ only.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <source_location>
#include <string>
#include <vector>

#include "cuda_runtime.h"

#if !defined(__x86_64__)
#error "the nwgf CUDA emulator's context switch is written for x86-64"
#endif

// Context switch and fiber entry (fiber.cpp).
extern "C" void nwgf_emu_switch(void** save_sp, void* new_sp);
extern "C" void nwgf_emu_trampoline();

namespace nwgf::emu::impl {

constexpr std::size_t kStackBytes = 256 * 1024;
constexpr std::size_t kStaticSharedLimit = 48 * 1024;
constexpr std::size_t kDynamicSharedLimit = 48 * 1024;

// ---- control.cpp: the process-wide schedule, statistics and sticky-until-read error ----------
extern std::mutex g_mutex;  // guards every g_* below
extern Schedule g_schedule;
extern Stats g_stats;
extern std::set<std::string> g_kernels;  // base names of the kernels launched
extern cudaError_t g_error;
extern std::string g_fault;
// Records `err` (the first one sticks until cudaGetLastError) and prints `why`.
void set_error(cudaError_t err, const std::string& why);
cudaError_t pending_error();
// set_error(err, why), returning err: the runtime API's failure path.
cudaError_t invalid(const std::string& why, cudaError_t err = cudaErrorInvalidValue);

// ---- runtime_api.cpp / graph.cpp: streams and stream capture --------------------------------
bool valid_stream(cudaStream_t s);  // null (the legacy stream) or a live cudaStreamCreate one
bool is_capturing(cudaStream_t stream);
// `call` cannot be captured: while a capture forbids it (every capture; relaxed ones allow
// `allocation` calls), invalidates the captures and fails with cudaErrorStreamCaptureUnsupported;
// cudaSuccess when no capture is in progress.
cudaError_t refuse_during_capture(const char* call, bool allocation = false);

// ---- lazy.cpp: deferred streams (NWGF_EMU_LAZY_STREAMS=1) -----------------------------------
bool lazy_streams();
// Queues work on a created stream; returns the stream's position after it (items since its first).
std::uint64_t defer(cudaStream_t stream, std::function<void()> work);
std::uint64_t queued(cudaStream_t stream);
// Runs the stream's deferred work, all of it or up to position upto.
void flush(cudaStream_t stream, std::uint64_t upto = UINT64_MAX);
void flush_all();
// Runs the stream's work and drops its queue (cudaStreamDestroy).
void forget_stream(cudaStream_t stream);

// ---- memory.cpp: one mmap per allocation, a PROT_NONE page right after it ---------------------
struct Allocation {
  char* map;
  std::size_t map_bytes;
  std::size_t bytes;
};
extern std::map<std::uintptr_t, Allocation> g_allocs;  // by user pointer
extern std::size_t g_bytes_in_use;
std::size_t page_size();
// The live allocation holding [p, p + bytes] (one-past-the-end allowed), or nullptr. Needs g_mutex.
const Allocation* find_allocation(const void* p, std::size_t bytes);
// Names the kernel, block and thread of an invalid access before the process dies (once).
void install_segv_handler();

// ---- fibers and the per-OS-thread block state (scheduler.cpp) ---------------------------------
enum class FiberState { ready, barrier, warp, exited };

struct Fiber {
  void* sp = nullptr;
  char* stack = nullptr;  // mmap'd, lowest page PROT_NONE
  FiberState state = FiberState::ready;
  unsigned linear = 0;
  uint3 tid{0, 0, 0};
  std::source_location where;  // of the barrier / collective it waits at
  WarpOp op = WarpOp::syncwarp;
  unsigned mask = 0;
  int width = 32;
  int param = 0;
  std::uint64_t value = 0;
  std::uint64_t result = 0;
};

struct Runtime {
  std::vector<Fiber> fibers;  // stacks reused across launches
  void* scheduler_sp = nullptr;
  Fiber* current = nullptr;
  bool in_kernel = false;
  // current launch
  LaunchSite site{};
  dim3 grid, block;
  std::size_t shmem = 0;
  Schedule schedule;
  std::uint64_t rng = 0;
  std::uint64_t generation = 0;  // of the running block: __shared__ storage poisoned per block
  std::vector<unsigned char> dynamic_shared;
  // current block
  unsigned threads = 0;
  unsigned at_barrier = 0;
  unsigned exited = 0;
  std::size_t static_shared = 0;
  std::vector<unsigned> ready;  // ready fibers: [ready_head, size) (a queue unless random)
  std::size_t ready_head = 0;
  bool failed = false;
  std::uint64_t switches = 0;
  void (*body)(void*) = nullptr;
  void* closure = nullptr;
};
extern thread_local Runtime rt;

// fiber.cpp: a fiber's stack and first frame; back to the scheduler.
void prepare_fiber(Fiber& f);
void to_scheduler();

// scheduler.cpp: the block scheduler and its diagnostics.
std::uint64_t next_random();
std::string where_text(const std::source_location& w);
std::string thread_text(unsigned linear);
std::string block_text();
const char* op_name(WarpOp op);
// Records a kernel fault and leaves the fiber for good: the block and the grid stop.
[[noreturn]] void fail(const std::string& why);
void make_ready(unsigned id);
// Makes threads first + l ready for the lanes l < count named in mask, in the policy's order.
void release(unsigned first, unsigned count, unsigned mask);
// Runs the current block to completion (or a fault).
void run_block();

}  // namespace nwgf::emu::impl
