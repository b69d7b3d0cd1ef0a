// nwgf CUDA emulator: the device-side entry points of nwgf_emu/device.hpp: __syncthreads and the
// warp collectives (with the checks for barrier divergence and bad masks), atomics' switch
// points, traps, __shared__ storage, and the launch itself (configuration checks, kernel
// pointer arguments, the blocks of a grid in the schedule's order).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "internal.hpp"

namespace nwgf::emu {
using namespace impl;
namespace {

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
