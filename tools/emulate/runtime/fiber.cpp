// nwgf CUDA emulator: fibers. The threads of a block are fibers (own stacks, a hand-written
// x86-64 context switch); a fiber runs the kernel body until it reaches a switch point and then
// returns to the scheduler (scheduler.cpp).
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "internal.hpp"

// void nwgf_emu_switch(void** save_sp, void* new_sp): saves the callee-saved registers, MXCSR
// and the x87 control word on the current stack, stores its pointer to *save_sp and resumes the
// context saved at new_sp. A fresh fiber's stack holds a frame that "returns" into
// nwgf_emu_trampoline, which calls r13(r12).
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

namespace nwgf::emu::impl {

void to_scheduler() {
  Fiber* f = rt.current;
  nwgf_emu_switch(&f->sp, rt.scheduler_sp);
}

namespace {

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

}  // namespace

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

}  // namespace nwgf::emu::impl
