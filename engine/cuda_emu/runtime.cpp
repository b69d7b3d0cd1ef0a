// nwgf CUDA emulator: fibers, the block scheduler, kernel faults, device memory and the runtime
// API (test-only build, NWGF_CUDA_EMULATE).
//
// A launch runs its blocks one after the other on the calling OS thread. The threads of a block
// are fibers (own stacks, a hand-written x86-64 context switch) driven by a cooperative scheduler:
// a fiber runs until it reaches a switch point (__syncthreads, a warp collective, an atomic under a
// random schedule) and the scheduler then picks the next ready fiber by the current policy.
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cuda_runtime.h"

#if !defined(__x86_64__)
#error "the nwgf CUDA emulator's context switch is written for x86-64"
#endif

// void nwgf_emu_switch(void** save_sp, void* new_sp): saves the callee-saved registers, MXCSR
// and the x87 control word on the current stack, stores its pointer to *save_sp and resumes the
// context saved at new_sp. A fresh fiber's stack holds a frame that "returns" into
// nwgf_emu_trampoline, which calls r13(r12).
extern "C" void nwgf_emu_switch(void** save_sp, void* new_sp);
extern "C" void nwgf_emu_trampoline();
asm(R"(
  .text
  .globl nwgf_emu_switch
  .hidden nwgf_emu_switch
  .type nwgf_emu_switch, @function
nwgf_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size nwgf_emu_switch, .-nwgf_emu_switch

  .globl nwgf_emu_trampoline
  .hidden nwgf_emu_trampoline
  .type nwgf_emu_trampoline, @function
nwgf_emu_trampoline:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size nwgf_emu_trampoline, .-nwgf_emu_trampoline
)");

namespace nwgf::emu {
namespace {

constexpr std::size_t kStackBytes = 256 * 1024;
constexpr std::size_t kStaticSharedLimit = 48 * 1024;
constexpr std::size_t kDynamicSharedLimit = 48 * 1024;

// ---- the process-wide schedule and statistics ------------------------------------------------
std::mutex g_mutex;
Schedule g_schedule = [] {
  Schedule s;
  if (const char* e = std::getenv("NWGF_EMU_SCHEDULE")) {
    const std::string v = e;
    if (v == "forward") {
      s.policy = Policy::forward;
    } else if (v == "reverse") {
      s.policy = Policy::reverse;
    } else if (!v.empty()) {
      s.policy = Policy::random;
      s.seed = std::strtoull(v.c_str(), nullptr, 10);
    }
  }
  if (const char* e = std::getenv("NWGF_EMU_YIELD")) s.yield_percent = std::atoi(e);
  if (const char* e = std::getenv("NWGF_EMU_GRID_CAP")) s.grid_cap = unsigned(std::atoi(e));
  return s;
}();
Stats g_stats;
std::set<std::string> g_kernels;

// NWGF_EMU_LAUNCH_LOG=DIR: at exit, the kernels this process launched go to DIR/<pid>.txt
// (tools/emulate/kernel_coverage.py checks that the tests launch every kernel).
struct LaunchLog {
  ~LaunchLog() {
    const char* dir = std::getenv("NWGF_EMU_LAUNCH_LOG");
    if (!dir || g_kernels.empty()) return;
    mkdir(dir, 0755);
    const std::string path = std::string(dir) + "/" + std::to_string(getpid()) + ".txt";
    if (FILE* f = std::fopen(path.c_str(), "w")) {
      for (const std::string& k : g_kernels) std::fprintf(f, "%s\n", k.c_str());
      std::fclose(f);
    }
  }
} g_launch_log;

// ---- device memory: one mmap per allocation, a PROT_NONE page right after it ------------------
struct Allocation {
  char* map;
  std::size_t map_bytes;
  std::size_t bytes;
};
std::map<std::uintptr_t, Allocation> g_allocs;  // by user pointer
std::size_t g_bytes_in_use = 0;

std::size_t page_size() {
  static const std::size_t p = std::size_t(sysconf(_SC_PAGESIZE));
  return p;
}

// The live allocation holding [p, p + bytes] (one-past-the-end allowed), or nullptr.
const Allocation* find_allocation(const void* p, std::size_t bytes) {
  const auto a = std::uintptr_t(p);
  auto it = g_allocs.upper_bound(a);
  if (it == g_allocs.begin()) return nullptr;
  --it;
  if (a + bytes > it->first + it->second.bytes) return nullptr;
  return &it->second;
}

// ---- the sticky-until-read error of this process ----------------------------------------------
cudaError_t g_error = cudaSuccess;
std::string g_fault;

void set_error(cudaError_t err, const std::string& why) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_error == cudaSuccess) {
    g_error = err;
    g_fault = why;
  }
  std::fprintf(stderr, "nwgf CUDA emulator: %s\n", why.c_str());
}

cudaError_t pending_error() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_error;
}

// ---- fibers and the per-OS-thread block state ------------------------------------------------
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
thread_local Runtime rt;

std::uint64_t next_random() {  // splitmix64
  std::uint64_t z = (rt.rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string where_text(const std::source_location& w) {
  return std::string(w.file_name()) + ":" + std::to_string(w.line());
}

std::string thread_text(unsigned linear) {
  const unsigned bx = rt.block.x, by = rt.block.y;
  return "thread (" + std::to_string(linear % bx) + "," + std::to_string(linear / bx % by) + "," +
         std::to_string(linear / (bx * by)) + ")";
}

std::string block_text() {
  return "kernel " + std::string(rt.site.kernel) + " (launched at " + rt.site.file + ":" +
         std::to_string(rt.site.line) + "), block (" + std::to_string(blockIdx.x) + "," +
         std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) + ")";
}

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::shfl_idx:
      return "__shfl_sync";
    case WarpOp::shfl_up:
      return "__shfl_up_sync";
    case WarpOp::shfl_down:
      return "__shfl_down_sync";
    case WarpOp::shfl_xor:
      return "__shfl_xor_sync";
    case WarpOp::ballot:
      return "__ballot_sync";
    case WarpOp::any:
      return "__any_sync";
    case WarpOp::all:
      return "__all_sync";
    case WarpOp::syncwarp:
      return "__syncwarp";
  }
  return "?";
}

void to_scheduler() {
  Fiber* f = rt.current;
  nwgf_emu_switch(&f->sp, rt.scheduler_sp);
}

// Records a kernel fault and leaves the fiber for good: the block and the grid stop.
[[noreturn]] void fail(const std::string& why) {
  rt.failed = true;
  set_error(cudaErrorLaunchFailure, block_text() + ": " + why);
  to_scheduler();
  std::abort();  // never resumed
}

void make_ready(unsigned id) {
  rt.fibers[id].state = FiberState::ready;
  rt.ready.push_back(id);
}

// Makes threads first + l ready for the lanes l < count named in mask, in the policy's order.
void release(unsigned first, unsigned count, unsigned mask) {
  const bool reverse = rt.schedule.policy == Policy::reverse;
  for (unsigned k = 0; k < count; ++k) {
    const unsigned l = reverse ? count - 1 - k : k;
    if (count > 32 || (mask >> l & 1u)) make_ready(first + l);
  }
}

void fiber_main(void* arg) {
  Fiber* f = static_cast<Fiber*>(arg);
  std::string thrown;
  try {
    rt.body(rt.closure);
  } catch (const std::exception& e) {
    thrown = e.what();
  } catch (...) {
    thrown = "unknown exception";
  }
  if (!thrown.empty()) fail(thread_text(f->linear) + ": C++ exception in device code: " + thrown);
  f->state = FiberState::exited;
  ++rt.exited;
  if (rt.at_barrier > 0) {
    fail(thread_text(f->linear) + " exited while " + std::to_string(rt.at_barrier) +
         " threads wait at __syncthreads (barrier divergence)");
  }
  const unsigned lane = f->linear % 32, base = f->linear - lane;
  for (unsigned l = base; l < std::min(base + 32, rt.threads); ++l) {
    const Fiber& o = rt.fibers[l];
    if (o.state == FiberState::warp && (o.mask >> lane & 1u)) {
      fail(thread_text(f->linear) + " exited while " + thread_text(l) + " waits at " +
           op_name(o.op) + " (" + where_text(o.where) + ") with a mask naming it");
    }
  }
  to_scheduler();
  std::abort();
}

void prepare_fiber(Fiber& f) {
  if (!f.stack) {
    void* m = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      std::fprintf(stderr, "nwgf CUDA emulator: cannot map a fiber stack\n");
      std::abort();
    }
    mprotect(m, page_size(), PROT_NONE);  // overflow faults instead of corrupting
    f.stack = static_cast<char*>(m);
  }
  auto top = std::uintptr_t(f.stack + kStackBytes) & ~std::uintptr_t(15);
  top -= 16;
  auto* frame = reinterpret_cast<std::uint64_t*>(top - 64);
  std::uint32_t mxcsr = __builtin_ia32_stmxcsr();
  std::uint16_t fcw;
  asm volatile("fnstcw %0" : "=m"(fcw));
  frame[0] = std::uint64_t(mxcsr) | (std::uint64_t(fcw) << 32);
  frame[1] = 0;                                    // r15
  frame[2] = 0;                                    // r14
  frame[3] = std::uint64_t(&fiber_main);           // r13: the function
  frame[4] = std::uint64_t(&f);                    // r12: its argument
  frame[5] = 0;                                    // rbx
  frame[6] = 0;                                    // rbp
  frame[7] = std::uint64_t(&nwgf_emu_trampoline);  // return address
  f.sp = frame;
  f.state = FiberState::ready;
}

std::string deadlock_report() {
  std::string s = "deadlock: no thread can run;";
  int shown = 0;
  for (unsigned i = 0; i < rt.threads && shown < 6; ++i) {
    const Fiber& f = rt.fibers[i];
    if (f.state == FiberState::barrier) {
      s += " " + thread_text(i) + " waits at __syncthreads (" + where_text(f.where) + ");";
      ++shown;
    } else if (f.state == FiberState::warp) {
      char mask[16];
      std::snprintf(mask, sizeof mask, "0x%08x", f.mask);
      s += " " + thread_text(i) + " waits at " + op_name(f.op) + " (" + where_text(f.where) +
           ") mask " + mask + ";";
      ++shown;
    }
  }
  return s;
}

// Runs the current block to completion (or a fault).
void run_block() {
  const unsigned n = rt.threads;
  if (rt.fibers.size() < n) rt.fibers.resize(n);
  rt.at_barrier = rt.exited = 0;
  rt.static_shared = 0;
  rt.failed = false;
  ++rt.generation;
  std::memset(rt.dynamic_shared.data(), 0xFF, rt.dynamic_shared.size());
  rt.ready.clear();
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = rt.fibers[i];
    prepare_fiber(f);
    f.linear = i;
    f.tid = uint3{i % rt.block.x, i / rt.block.x % rt.block.y, i / (rt.block.x * rt.block.y)};
    rt.ready.push_back(i);
  }
  rt.ready_head = 0;
  if (rt.schedule.policy == Policy::reverse) std::reverse(rt.ready.begin(), rt.ready.end());
  while (!rt.failed && rt.ready.size() > rt.ready_head) {
    unsigned id;
    if (rt.schedule.policy == Policy::random) {
      const std::size_t k = rt.ready_head + next_random() % (rt.ready.size() - rt.ready_head);
      id = rt.ready[k];
      rt.ready[k] = rt.ready.back();
      rt.ready.pop_back();
    } else {  // first in, first out; releases queue in thread order (reverse: descending)
      id = rt.ready[rt.ready_head++];
      if (rt.ready_head == rt.ready.size()) {
        rt.ready.clear();
        rt.ready_head = 0;
      }
    }
    Fiber& f = rt.fibers[id];
    rt.current = &f;
    threadIdx = f.tid;
    ++rt.switches;
    nwgf_emu_switch(&rt.scheduler_sp, f.sp);
  }
  rt.current = nullptr;
  if (!rt.failed && rt.exited != n) {
    rt.failed = true;
    set_error(cudaErrorLaunchFailure, block_text() + ": " + deadlock_report());
  }
}

void segv_handler(int sig, siginfo_t* info, void*) {
  if (rt.in_kernel && rt.current) {
    char buf[512];
    const int len = std::snprintf(
        buf, sizeof buf,
        "nwgf CUDA emulator: invalid memory access at %p in kernel %s (launched at %s:%d), "
        "block (%u,%u,%u), thread (%u,%u,%u)\n",
        info->si_addr, rt.site.kernel, rt.site.file, rt.site.line, blockIdx.x, blockIdx.y,
        blockIdx.z, rt.current->tid.x, rt.current->tid.y, rt.current->tid.z);
    if (len > 0) {
      const ssize_t w = write(2, buf, std::size_t(len));
      (void)w;
    }
  }
  signal(sig, SIG_DFL);
}

void install_segv_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    static std::vector<char> alt(64 * 1024);
    stack_t ss{};
    ss.ss_sp = alt.data();
    ss.ss_size = alt.size();
    sigaltstack(&ss, nullptr);
    struct sigaction sa {};
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, nullptr);
    sigaction(SIGBUS, &sa, nullptr);
  });
}

std::string kernel_base_name(const char* kernel) {
  std::string s = kernel;
  const auto lt = s.find('<');
  if (lt != std::string::npos) s.resize(lt);
  const auto colon = s.rfind("::");
  if (colon != std::string::npos) s = s.substr(colon + 2);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

// ---- control API -----------------------------------------------------------------------------
void set_schedule(const Schedule& s) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_schedule = s;
}
Schedule schedule() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_schedule;
}
std::string to_string(const Schedule& s) {
  switch (s.policy) {
    case Policy::forward:
      return "forward";
    case Policy::reverse:
      return "reverse";
    default:
      return "random(seed " + std::to_string(s.seed) + ", yield " +
             std::to_string(s.yield_percent) + "%)";
  }
}
std::string last_fault() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_fault;
}
Stats stats() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_stats;
}
std::vector<std::string> launched_kernels() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return {g_kernels.begin(), g_kernels.end()};
}
std::size_t device_bytes_in_use() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_bytes_in_use;
}
bool is_device_range(const void* p, std::size_t bytes) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return find_allocation(p, bytes) != nullptr;
}

// ---- device-side entry points ----------------------------------------------------------------
namespace detail {

void syncthreads(const std::source_location& where) {
  Fiber* f = rt.current;
  if (!rt.in_kernel || !f) {
    std::fprintf(stderr, "nwgf CUDA emulator: __syncthreads outside a kernel (%s)\n",
                 where_text(where).c_str());
    std::abort();
  }
  if (rt.exited > 0) {
    fail(thread_text(f->linear) + " waits at __syncthreads (" + where_text(where) + ") after " +
         std::to_string(rt.exited) + " threads of the block exited (barrier divergence)");
  }
  f->state = FiberState::barrier;
  f->where = where;
  if (++rt.at_barrier == rt.threads) {
    for (unsigned i = 0; i < rt.threads; ++i) {
      const Fiber& o = rt.fibers[i];
      if (o.where.line() != where.line() ||
          std::strcmp(o.where.file_name(), where.file_name()) != 0) {
        fail("threads wait at different __syncthreads: " + thread_text(i) + " at " +
             where_text(o.where) + ", " + thread_text(f->linear) + " at " + where_text(where) +
             " (barrier divergence)");
      }
    }
    rt.at_barrier = 0;
    release(0, rt.threads, ~0u);
  }
  to_scheduler();
}

std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int param, int width,
                              const std::source_location& where) {
  Fiber* f = rt.current;
  if (!rt.in_kernel || !f) {
    std::fprintf(stderr, "nwgf CUDA emulator: %s outside a kernel (%s)\n", op_name(op),
                 where_text(where).c_str());
    std::abort();
  }
  const unsigned lane = f->linear % 32, base = f->linear - lane;
  const unsigned lanes = std::min(32u, rt.threads - base);
  auto what = [&] {
    return std::string(op_name(op)) + " (" + where_text(where) + ") by " + thread_text(f->linear);
  };
  if (!(mask >> lane & 1u)) fail(what() + ": the mask does not name the calling lane");
  if (lanes < 32 && (mask >> lanes) != 0) {
    fail(what() + ": the mask names lanes beyond the block's last warp (" + std::to_string(lanes) +
         " lanes)");
  }
  if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
    fail(what() + ": width " + std::to_string(width) + " is not a power of two in [1, 32]");
  }
  for (unsigned l = 0; l < lanes; ++l) {
    if ((mask >> l & 1u) && rt.fibers[base + l].state == FiberState::exited) {
      fail(what() + ": the mask names " + thread_text(base + l) + ", which has exited");
    }
  }
  f->state = FiberState::warp;
  f->op = op;
  f->mask = mask;
  f->width = width;
  f->param = param;
  f->value = value;
  f->where = where;
  bool complete = true;
  for (unsigned l = 0; l < lanes && complete; ++l) {
    if (!(mask >> l & 1u)) continue;
    const Fiber& o = rt.fibers[base + l];
    complete = o.state == FiberState::warp && o.mask == mask;
  }
  if (complete) {
    std::uint64_t ballot = 0;
    for (unsigned l = 0; l < lanes; ++l) {
      if (!(mask >> l & 1u)) continue;
      const Fiber& o = rt.fibers[base + l];
      if (o.op != op || o.width != width) {
        fail(what() + ": lanes of the mask disagree: " + thread_text(base + l) + " is at " +
             op_name(o.op) + " (" + where_text(o.where) + ")");
      }
      if (o.value != 0) ballot |= 1ull << l;
    }
    for (unsigned l = 0; l < lanes; ++l) {
      if (!(mask >> l & 1u)) continue;
      Fiber& o = rt.fibers[base + l];
      const unsigned w = unsigned(width), group = l & ~(w - 1), lw = l & (w - 1);
      unsigned src = l;
      switch (op) {
        case WarpOp::shfl_idx:
          src = group + (unsigned(o.param) & (w - 1));
          break;
        case WarpOp::shfl_up:
          src = lw >= unsigned(o.param) ? l - unsigned(o.param) : l;
          break;
        case WarpOp::shfl_down:
          src = lw + unsigned(o.param) < w ? l + unsigned(o.param) : l;
          break;
        case WarpOp::shfl_xor:
          src = l ^ (unsigned(o.param) & 31u);
          if (src >= group + w) src = l;
          break;
        default:
          break;
      }
      switch (op) {
        case WarpOp::ballot:
          o.result = ballot;
          break;
        case WarpOp::any:
          o.result = ballot != 0;
          break;
        case WarpOp::all:
          o.result = ballot == (std::uint64_t(mask) & ((1ull << lanes) - 1));
          break;
        case WarpOp::syncwarp:
          o.result = 0;
          break;
        default:
          // Reading a lane outside the mask is undefined in CUDA: poison.
          o.result =
              (src < lanes && (mask >> src & 1u)) ? rt.fibers[base + src].value : ~std::uint64_t(0);
      }
    }
    release(base, lanes, mask);
  }
  to_scheduler();
  return f->result;
}

void atomic_point() {
  if (!rt.in_kernel || !rt.current || rt.schedule.policy != Policy::random) return;
  if (int(next_random() % 100) >= rt.schedule.yield_percent) return;
  make_ready(rt.current->linear);
  to_scheduler();
}

void trap(const char* what, const std::source_location& where) {
  if (!rt.in_kernel || !rt.current) {
    std::fprintf(stderr, "nwgf CUDA emulator: %s outside a kernel (%s)\n", what,
                 where_text(where).c_str());
    std::abort();
  }
  fail(thread_text(rt.current->linear) + ": " + what + " at " + where_text(where));
}

bool shared_needs_poison(std::uint64_t& generation, std::size_t bytes) {
  if (generation == rt.generation) return false;
  generation = rt.generation;
  rt.static_shared += bytes;
  if (rt.in_kernel && rt.current && rt.static_shared > kStaticSharedLimit) {
    fail("static __shared__ memory exceeds " + std::to_string(kStaticSharedLimit) + " bytes (" +
         std::to_string(rt.static_shared) + ")");
  }
  return true;
}

void* dynamic_shared() { return rt.dynamic_shared.data(); }

unsigned grid_cap(unsigned blocks) {
  const unsigned cap = schedule().grid_cap;
  return cap > 0 && blocks > cap ? cap : blocks;
}

bool launch_begin(const LaunchSite& site, dim3 grid, dim3 block, std::size_t shmem,
                  CUstream_st* stream) {
  (void)stream;
  install_segv_handler();
  if (rt.in_kernel) {
    set_error(cudaErrorLaunchFailure,
              std::string("kernel ") + site.kernel + " launched from device code (" + site.file +
                  ":" + std::to_string(site.line) + "): dynamic parallelism is not emulated");
    return false;
  }
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  std::string bad;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0)
    bad = "an empty grid or block";
  else if (threads > 1024 || block.x > 1024 || block.y > 1024 || block.z > 64)
    bad = "more than 1024 threads per block (or block.z > 64)";
  else if (grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535)
    bad = "grid too large";
  else if (shmem > kDynamicSharedLimit)
    bad = "dynamic shared memory above 48 KiB";
  if (!bad.empty()) {
    set_error(cudaErrorInvalidConfiguration,
              std::string("kernel ") + site.kernel + " launched at " + site.file + ":" +
                  std::to_string(site.line) + " with an invalid configuration: " + bad + " (grid " +
                  std::to_string(grid.x) + "x" + std::to_string(grid.y) + "x" +
                  std::to_string(grid.z) + ", block " + std::to_string(block.x) + "x" +
                  std::to_string(block.y) + "x" + std::to_string(block.z) + ")");
    return false;
  }
  rt.site = site;
  rt.grid = grid;
  rt.block = block;
  rt.shmem = shmem;
  rt.failed = false;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    rt.schedule = g_schedule;
    g_kernels.insert(kernel_base_name(site.kernel));
    rt.rng = g_schedule.seed * 0x2545F4914F6CDD1Dull + g_stats.launches;
  }
  return true;
}

void check_kernel_pointer(const LaunchSite& site, int index, const void* p) {
  if (p == nullptr || rt.failed) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (find_allocation(p, 0)) return;
  rt.failed = true;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%p", p);
  const std::string why = std::string("kernel ") + site.kernel + " launched at " + site.file + ":" +
                          std::to_string(site.line) + ": argument " + std::to_string(index + 1) +
                          " = " + buf + " is not device memory (a host pointer, or freed)";
  if (g_error == cudaSuccess) {
    g_error = cudaErrorInvalidDevicePointer;
    g_fault = why;
  }
  std::fprintf(stderr, "nwgf CUDA emulator: %s\n", why.c_str());
}

void run_grid(void (*body)(void*), void* closure) {
  if (rt.failed) return;  // a pointer check failed
  rt.body = body;
  rt.closure = closure;
  rt.in_kernel = true;
  rt.switches = 0;
  rt.dynamic_shared.assign(rt.shmem, 0xFF);
  const dim3 grid = rt.grid;
  blockDim = rt.block;
  gridDim = grid;
  // Blocks run one at a time in the schedule's order: linear (x fastest), reversed, or a seeded
  // shuffle, since a GPU promises no order between blocks.
  const std::uint64_t total = std::uint64_t(grid.x) * grid.y * grid.z;
  std::vector<std::uint64_t> order;
  if (rt.schedule.policy == Policy::random && total <= (std::uint64_t(1) << 22)) {
    order.resize(total);
    for (std::uint64_t b = 0; b < total; ++b) order[b] = b;
    for (std::uint64_t b = total; b > 1; --b) std::swap(order[b - 1], order[next_random() % b]);
  }
  rt.threads = rt.block.x * rt.block.y * rt.block.z;
  std::uint64_t blocks = 0;
  for (std::uint64_t k = 0; k < total && !rt.failed; ++k) {
    const std::uint64_t b = !order.empty()                          ? order[k]
                            : rt.schedule.policy == Policy::reverse ? total - 1 - k
                                                                    : k;
    blockIdx = uint3{unsigned(b % grid.x), unsigned(b / grid.x % grid.y),
                     unsigned(b / (std::uint64_t(grid.x) * grid.y))};
    run_block();
    ++blocks;
  }
  rt.in_kernel = false;
  std::lock_guard<std::mutex> lock(g_mutex);
  ++g_stats.launches;
  g_stats.blocks += blocks;
  g_stats.threads += blocks * rt.block.x * rt.block.y * rt.block.z;
  g_stats.switches += rt.switches;
}

}  // namespace detail
}  // namespace nwgf::emu

// ---- the runtime API -------------------------------------------------------------------------
using nwgf::emu::g_allocs;
using nwgf::emu::g_mutex;

namespace {
cudaError_t invalid(const std::string& why, cudaError_t err = cudaErrorInvalidValue) {
  nwgf::emu::set_error(err, why);
  return err;
}
struct EmuStream {
  unsigned flags = 0;
};
struct EmuEvent {
  unsigned flags = 0;
  std::chrono::steady_clock::time_point when{};
  bool recorded = false;
};
std::set<void*> g_streams;
std::set<void*> g_events;
bool valid_stream(cudaStream_t s) {
  if (s == nullptr) return true;
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_streams.count(s) != 0;
}
}  // namespace

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer:
      return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection:
      return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t err) {
  // The emulator's own reason for the pending fault, else the code's name.
  thread_local std::string text;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (err != cudaSuccess && err == nwgf::emu::g_error && !nwgf::emu::g_fault.empty()) {
      text = nwgf::emu::g_fault;
      return text.c_str();
    }
  }
  switch (err) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer:
      return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection:
      return "invalid copy direction for memcpy";
    case cudaErrorNoDevice:
      return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
  }
  return "unknown error";
}

cudaError_t cudaGetLastError() {
  std::lock_guard<std::mutex> lock(g_mutex);
  const cudaError_t e = nwgf::emu::g_error;
  nwgf::emu::g_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return nwgf::emu::pending_error(); }

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return invalid("cudaGetDeviceCount: count is null");
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return invalid("cudaGetDeviceProperties: prop is null");
  if (device != 0)
    return invalid("cudaGetDeviceProperties: device " + std::to_string(device),
                   cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "nwgf CUDA emulator");
  prop->totalGlobalMem = std::size_t(16) << 30;
  prop->sharedMemPerBlock = nwgf::emu::kStaticSharedLimit;
  prop->sharedMemPerBlockOptin = nwgf::emu::kDynamicSharedLimit;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
  prop->major = 8;
  prop->minor = 0;
  prop->multiProcessorCount = 1;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->clockRate = 1000000;
  prop->l2CacheSize = 1 << 20;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return invalid("cudaDeviceGetAttribute: value is null");
  cudaDeviceProp p;
  if (const cudaError_t e = cudaGetDeviceProperties(&p, device); e != cudaSuccess) return e;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock:
      *value = p.maxThreadsPerBlock;
      break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = int(p.sharedMemPerBlock);
      break;
    case cudaDevAttrWarpSize:
      *value = 32;
      break;
    case cudaDevAttrMultiProcessorCount:
      *value = p.multiProcessorCount;
      break;
    case cudaDevAttrComputeCapabilityMajor:
      *value = p.major;
      break;
    case cudaDevAttrComputeCapabilityMinor:
      *value = p.minor;
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = int(p.sharedMemPerBlockOptin);
      break;
    default:
      return invalid("cudaDeviceGetAttribute: attribute not emulated");
  }
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (device != 0)
    return invalid("cudaSetDevice(" + std::to_string(device) + ")", cudaErrorInvalidDevice);
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  if (!device) return invalid("cudaGetDevice: device is null");
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return nwgf::emu::pending_error(); }
cudaError_t cudaMemGetInfo(std::size_t* free_bytes, std::size_t* total_bytes) {
  const std::size_t total = std::size_t(16) << 30, used = nwgf::emu::device_bytes_in_use();
  if (free_bytes) *free_bytes = used < total ? total - used : 0;
  if (total_bytes) *total_bytes = total;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, std::size_t bytes) {
  if (!ptr) return invalid("cudaMalloc: ptr is null");
  const std::size_t page = nwgf::emu::page_size();
  const std::size_t rounded = (bytes + 15) / 16 * 16;  // 16-byte aligned start (float4/double2)
  const std::size_t body = (rounded + page - 1) / page * page;
  void* m = mmap(nullptr, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return invalid("cudaMalloc: out of memory", cudaErrorMemoryAllocation);
  char* map = static_cast<char*>(m);
  mprotect(map + body, page, PROT_NONE);
  char* user = map + body - rounded;
  std::memset(user, 0xFF, rounded);  // uninitialised device memory reads as NaN / -1
  std::lock_guard<std::mutex> lock(g_mutex);
  g_allocs[std::uintptr_t(user)] = nwgf::emu::Allocation{map, body + page, bytes};
  nwgf::emu::g_bytes_in_use += bytes;
  *ptr = user;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  std::unique_lock<std::mutex> lock(g_mutex);
  auto it = g_allocs.find(std::uintptr_t(ptr));
  if (it == g_allocs.end()) {
    lock.unlock();
    return invalid("cudaFree: pointer was not returned by cudaMalloc (or freed twice)",
                   cudaErrorInvalidDevicePointer);
  }
  nwgf::emu::g_bytes_in_use -= it->second.bytes;
  munmap(it->second.map, it->second.map_bytes);
  g_allocs.erase(it);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  if (const cudaError_t e = nwgf::emu::pending_error(); e != cudaSuccess) return e;
  if (!valid_stream(stream))
    return invalid("cudaMemcpyAsync: unknown stream", cudaErrorInvalidResourceHandle);
  if (bytes == 0) return cudaSuccess;
  const bool dst_dev = nwgf::emu::is_device_range(dst, bytes);
  const bool src_dev = nwgf::emu::is_device_range(src, bytes);
  bool ok = true;
  switch (kind) {
    case cudaMemcpyHostToHost:
      ok = !dst_dev && !src_dev;
      break;
    case cudaMemcpyHostToDevice:
      ok = dst_dev && !src_dev;
      break;
    case cudaMemcpyDeviceToHost:
      ok = !dst_dev && src_dev;
      break;
    case cudaMemcpyDeviceToDevice:
      ok = dst_dev && src_dev;
      break;
    case cudaMemcpyDefault:
      break;
  }
  if (!ok) {
    return invalid(std::string("cudaMemcpy: kind ") + std::to_string(int(kind)) +
                   " does not match the pointers (dst " + (dst_dev ? "device" : "host") + ", src " +
                   (src_dev ? "device" : "host") + ", " + std::to_string(bytes) +
                   " bytes; a device range must lie inside one allocation)");
  }
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  return cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
}
cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t bytes, cudaStream_t stream) {
  if (const cudaError_t e = nwgf::emu::pending_error(); e != cudaSuccess) return e;
  if (!valid_stream(stream))
    return invalid("cudaMemsetAsync: unknown stream", cudaErrorInvalidResourceHandle);
  if (bytes == 0) return cudaSuccess;
  if (!nwgf::emu::is_device_range(ptr, bytes)) {
    return invalid("cudaMemset: " + std::to_string(bytes) +
                   " bytes are not inside one device allocation");
  }
  std::memset(ptr, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemset(void* ptr, int value, std::size_t bytes) {
  return cudaMemsetAsync(ptr, value, bytes, nullptr);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  if (!stream) return invalid("cudaStreamCreate: stream is null");
  auto* s = new EmuStream{flags};
  std::lock_guard<std::mutex> lock(g_mutex);
  g_streams.insert(s);
  *stream = reinterpret_cast<cudaStream_t>(s);
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  std::unique_lock<std::mutex> lock(g_mutex);
  if (!g_streams.erase(stream)) {
    lock.unlock();
    return invalid("cudaStreamDestroy: unknown stream", cudaErrorInvalidResourceHandle);
  }
  delete reinterpret_cast<EmuStream*>(stream);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (!valid_stream(stream))
    return invalid("cudaStreamSynchronize: unknown stream", cudaErrorInvalidResourceHandle);
  return nwgf::emu::pending_error();
}
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned) {
  if (!valid_stream(stream) || !event)
    return invalid("cudaStreamWaitEvent: bad handle", cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  if (!event) return invalid("cudaEventCreate: event is null");
  auto* e = new EmuEvent{flags, {}, false};
  std::lock_guard<std::mutex> lock(g_mutex);
  g_events.insert(e);
  *event = reinterpret_cast<cudaEvent_t>(e);
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, cudaEventDefault);
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  std::unique_lock<std::mutex> lock(g_mutex);
  if (!g_events.erase(event)) {
    lock.unlock();
    return invalid("cudaEventDestroy: unknown event", cudaErrorInvalidResourceHandle);
  }
  delete reinterpret_cast<EmuEvent*>(event);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!event || !valid_stream(stream))
    return invalid("cudaEventRecord: bad handle", cudaErrorInvalidResourceHandle);
  auto* e = reinterpret_cast<EmuEvent*>(event);
  e->when = std::chrono::steady_clock::now();
  e->recorded = true;
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event) return invalid("cudaEventSynchronize: null event", cudaErrorInvalidResourceHandle);
  return nwgf::emu::pending_error();
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  auto* a = reinterpret_cast<EmuEvent*>(start);
  auto* b = reinterpret_cast<EmuEvent*>(end);
  if (!ms || !a || !b || !a->recorded || !b->recorded) {
    return invalid("cudaEventElapsedTime: events not recorded", cudaErrorInvalidResourceHandle);
  }
  *ms = std::chrono::duration<float, std::milli>(b->when - a->when).count();
  return cudaSuccess;
}

namespace nwgf::emu {
void report_cub_error(const std::string& why) { set_error(cudaErrorInvalidValue, why); }
}  // namespace nwgf::emu
