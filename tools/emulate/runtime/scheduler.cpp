// nwgf CUDA emulator: the block scheduler. A launch runs its blocks one after the other on the
// calling OS thread; a cooperative scheduler switches between the block's fibers at switch
// points (__syncthreads, a warp collective, an atomic under a random schedule) and picks the next
// ready fiber by the current policy (forward, reverse, or seeded random).
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "internal.hpp"

namespace nwgf::emu::impl {

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

namespace {

std::string deadlock_report() {
  std::string s = "deadlock: no thread can run;";
  int shown = 0;
  for (unsigned i = 0; i < rt.threads && shown < 6; ++i) {
    const Fiber& f = rt.fibers[i];
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict overlap in
    // `" " + std::string` temporaries inlined here.
    if (f.state == FiberState::barrier) {
      s.append(" ").append(thread_text(i)).append(" waits at __syncthreads (");
      s.append(where_text(f.where)).append(");");
      ++shown;
    } else if (f.state == FiberState::warp) {
      char mask[16];
      std::snprintf(mask, sizeof mask, "0x%08x", f.mask);
      s.append(" ").append(thread_text(i)).append(" waits at ").append(op_name(f.op));
      s.append(" (").append(where_text(f.where)).append(") mask ").append(mask).append(";");
      ++shown;
    }
  }
  return s;
}

}  // namespace

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

}  // namespace nwgf::emu::impl
