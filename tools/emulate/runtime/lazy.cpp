// nwgf CUDA emulator: deferred streams (NWGF_EMU_LAZY_STREAMS=1). By default the emulator runs
// stream work at the call, so streams and events only order in name and a missing
// cudaStreamWaitEvent cannot change a result. In the lazy mode the work submitted to a created
// stream (kernels, async copies and fills, cuBLAS, CUB, graph replays, the NCCL stand-in's
// deliveries) waits in that stream's queue until something forces it: a synchronisation of the
// stream, its event or the device, a copy to or from host memory on it, cudaFree,
// cudaStreamDestroy, or another stream's work that waits for one of its events (cudaStreamWaitEvent
// queues a marker that forces the event's stream up to the record when it runs). Streams forced
// together run one after the other, so work ordered by no event runs in an order the code did not
// ask for, and reading a buffer before the stream that writes it was waited for reads the old
// bytes.
#include <atomic>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "internal.hpp"

namespace nwgf::emu::impl {
namespace {

struct Queue {
  std::deque<std::function<void()>> work;
  std::uint64_t queued = 0;   // items submitted since the stream's first
  std::uint64_t started = 0;  // items taken off the queue to run
};
std::mutex g_lazy_mutex;  // guards g_queues; never held while work runs
std::map<void*, Queue> g_queues;

}  // namespace

std::atomic<bool> g_lazy = [] {
  const char* e = std::getenv("NWGF_EMU_LAZY_STREAMS");
  return e && *e && std::string(e) != "0";
}();

bool lazy_streams() { return g_lazy.load(std::memory_order_relaxed); }

std::uint64_t defer(cudaStream_t stream, std::function<void()> work) {
  std::lock_guard<std::mutex> lock(g_lazy_mutex);
  Queue& q = g_queues[stream];
  q.work.push_back(std::move(work));
  return ++q.queued;
}

std::uint64_t queued(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(g_lazy_mutex);
  auto it = g_queues.find(stream);
  return it == g_queues.end() ? 0 : it->second.queued;
}

void flush(cudaStream_t stream, std::uint64_t upto) {
  // One item at a time, the lock released while it runs: a marker item forces another stream
  // (never this one past the marker: an event records a position already queued).
  for (;;) {
    std::function<void()> w;
    {
      std::lock_guard<std::mutex> lock(g_lazy_mutex);
      auto it = g_queues.find(stream);
      if (it == g_queues.end() || it->second.work.empty() || it->second.started >= upto) return;
      w = std::move(it->second.work.front());
      it->second.work.pop_front();
      ++it->second.started;
    }
    w();
  }
}

void flush_all() {
  for (;;) {
    std::vector<void*> pending;
    {
      std::lock_guard<std::mutex> lock(g_lazy_mutex);
      for (const auto& [s, q] : g_queues) {
        if (!q.work.empty()) pending.push_back(s);
      }
    }
    if (pending.empty()) return;
    for (void* s : pending) flush(static_cast<cudaStream_t>(s));
  }
}

void forget_stream(cudaStream_t stream) {
  flush(stream);
  std::lock_guard<std::mutex> lock(g_lazy_mutex);
  g_queues.erase(stream);
}

}  // namespace nwgf::emu::impl

namespace nwgf::emu {
void set_lazy_streams(bool on) {
  if (!on) impl::flush_all();
  impl::g_lazy = on;
}
bool lazy_streams() { return impl::lazy_streams(); }
}  // namespace nwgf::emu
