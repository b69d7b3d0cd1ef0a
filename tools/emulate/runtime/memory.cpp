// nwgf CUDA emulator: device memory. Each cudaMalloc is its own mapping with a PROT_NONE page
// right after the allocation's end (which is placed flush against it), so an access past the end
// faults; the SEGV handler names the kernel, block and thread that made it. Fresh allocations
// read as 0xFF bytes (NaN, -1), like uninitialised device memory should be treated.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "internal.hpp"

namespace nwgf::emu::impl {

std::map<std::uintptr_t, Allocation> g_allocs;
std::size_t g_bytes_in_use = 0;

std::size_t page_size() {
  static const std::size_t p = std::size_t(sysconf(_SC_PAGESIZE));
  return p;
}

const Allocation* find_allocation(const void* p, std::size_t bytes) {
  const auto a = std::uintptr_t(p);
  auto it = g_allocs.upper_bound(a);
  if (it == g_allocs.begin()) return nullptr;
  --it;
  if (a + bytes > it->first + it->second.bytes) return nullptr;
  return &it->second;
}

namespace {

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

}  // namespace

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

}  // namespace nwgf::emu::impl

using nwgf::emu::impl::Allocation;
using nwgf::emu::impl::g_allocs;
using nwgf::emu::impl::g_bytes_in_use;
using nwgf::emu::impl::g_mutex;
using nwgf::emu::impl::invalid;
using nwgf::emu::impl::page_size;

namespace {

// NWGF_EMU_MALLOC_FAIL=R:K: the K-th cudaMalloc (1-based, counted per process) of the process
// whose MPI rank (OMPI_COMM_WORLD_RANK, PMIX_RANK; 0 without a launcher) is R fails with
// cudaErrorMemoryAllocation, as a GPU out of memory on one rank does; R = -1: every process.
// For the tests that every allocation site fails cleanly on every rank (no hang).
bool injected_malloc_failure() {
  static const auto plan = [] {
    std::pair<long, long> p{-2, 0};
    const char* e = std::getenv("NWGF_EMU_MALLOC_FAIL");
    if (!e) return p;
    long r = 0, k = 0;
    if (std::sscanf(e, "%ld:%ld", &r, &k) != 2 || k < 1) return p;
    const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
    if (!rank) rank = std::getenv("PMIX_RANK");
    const long me = rank ? std::atol(rank) : 0;
    if (r == -1 || r == me) p = {r, k};
    return p;
  }();
  static std::atomic<long> calls{0};
  if (plan.second == 0) return false;
  return calls.fetch_add(1) + 1 == plan.second;
}

}  // namespace

cudaError_t cudaMalloc(void** ptr, std::size_t bytes) {
  if (!ptr) return invalid("cudaMalloc: ptr is null");
  if (const cudaError_t e = nwgf::emu::impl::refuse_during_capture("cudaMalloc", true);
      e != cudaSuccess)
    return e;
  if (injected_malloc_failure()) {
    return invalid("cudaMalloc: out of memory (NWGF_EMU_MALLOC_FAIL)", cudaErrorMemoryAllocation);
  }
  const std::size_t page = page_size();
  const std::size_t rounded = (bytes + 15) / 16 * 16;  // 16-byte aligned start (float4/double2)
  const std::size_t body = (rounded + page - 1) / page * page;
  void* m = mmap(nullptr, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return invalid("cudaMalloc: out of memory", cudaErrorMemoryAllocation);
  char* map = static_cast<char*>(m);
  mprotect(map + body, page, PROT_NONE);
  char* user = map + body - rounded;
  std::memset(user, 0xFF, rounded);  // uninitialised device memory reads as NaN / -1
  std::lock_guard<std::mutex> lock(g_mutex);
  g_allocs[std::uintptr_t(user)] = Allocation{map, body + page, bytes};
  g_bytes_in_use += bytes;
  *ptr = user;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  if (const cudaError_t e = nwgf::emu::impl::refuse_during_capture("cudaFree", true);
      e != cudaSuccess)
    return e;
  // As on a GPU, cudaFree waits for the device (lazy streams: their work may use the memory).
  if (nwgf::emu::impl::lazy_streams()) nwgf::emu::impl::flush_all();
  std::unique_lock<std::mutex> lock(g_mutex);
  auto it = g_allocs.find(std::uintptr_t(ptr));
  if (it == g_allocs.end()) {
    lock.unlock();
    return invalid("cudaFree: pointer was not returned by cudaMalloc (or freed twice)",
                   cudaErrorInvalidDevicePointer);
  }
  g_bytes_in_use -= it->second.bytes;
  munmap(it->second.map, it->second.map_bytes);
  g_allocs.erase(it);
  return cudaSuccess;
}
