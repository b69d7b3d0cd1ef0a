// nwgf CUDA emulator: stream capture and graphs. A capturing stream records the work submitted
// to it (nwgf::emu::submit: kernels, async copies and fills, cuBLAS, CUB) instead of running it;
// cudaGraphLaunch replays the recorded work in order. As on a GPU, calls that cannot be captured
// (allocation, synchronous copies, synchronisation) fail during a capture and invalidate it, so
// cudaStreamEndCapture then returns cudaErrorStreamCaptureInvalidated. Relaxed captures tolerate
// cudaMalloc and cudaFree, nothing else.
#include <utility>

#include "internal.hpp"

struct CUgraph_st {
  std::vector<std::function<void()>> work;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> work;
};

using nwgf::emu::impl::g_mutex;
using nwgf::emu::impl::invalid;

namespace {

struct Capture {
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  bool invalidated = false;
  std::vector<std::function<void()>> work;
};
std::map<void*, Capture> g_captures;  // by stream
std::set<void*> g_graphs, g_execs;

}  // namespace

namespace nwgf::emu {

void submit(cudaStream_t stream, std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_captures.find(stream);
    if (it != g_captures.end()) {
      if (!it->second.invalidated) it->second.work.push_back(std::move(work));
      return;
    }
  }
  if (impl::lazy_streams()) {  // lazy.cpp: a created stream's work waits; the legacy one's first
    if (stream != nullptr) {   // forces every stream
      impl::defer(stream, std::move(work));
      return;
    }
    impl::flush_all();
  }
  work();
}

namespace impl {

bool is_capturing(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return stream != nullptr && g_captures.count(stream) != 0;
}

cudaError_t refuse_during_capture(const char* call, bool allocation) {
  bool refused = false;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    for (auto& [stream, c] : g_captures) {
      if (allocation && c.mode == cudaStreamCaptureModeRelaxed) continue;
      c.invalidated = true;
      refused = true;
    }
  }
  if (!refused) return cudaSuccess;
  return invalid(std::string(call) +
                     " during stream capture: not capturable (the capture is "
                     "invalidated)",
                 cudaErrorStreamCaptureUnsupported);
}

}  // namespace impl
}  // namespace nwgf::emu

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  if (stream == nullptr)
    return invalid("cudaStreamBeginCapture: the legacy stream cannot capture",
                   cudaErrorStreamCaptureUnsupported);
  if (!nwgf::emu::impl::valid_stream(stream))
    return invalid("cudaStreamBeginCapture: unknown stream", cudaErrorInvalidResourceHandle);
  if (mode != cudaStreamCaptureModeGlobal && mode != cudaStreamCaptureModeThreadLocal &&
      mode != cudaStreamCaptureModeRelaxed)
    return invalid("cudaStreamBeginCapture: unknown mode");
  std::unique_lock<std::mutex> lock(g_mutex);
  if (g_captures.count(stream)) {
    lock.unlock();
    return invalid("cudaStreamBeginCapture: the stream is already capturing",
                   cudaErrorIllegalState);
  }
  g_captures[stream].mode = mode;
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (!graph) return invalid("cudaStreamEndCapture: graph is null");
  *graph = nullptr;
  std::unique_lock<std::mutex> lock(g_mutex);
  auto it = stream ? g_captures.find(stream) : g_captures.end();
  if (it == g_captures.end()) {
    lock.unlock();
    return invalid("cudaStreamEndCapture: the stream is not capturing", cudaErrorIllegalState);
  }
  Capture c = std::move(it->second);
  g_captures.erase(it);
  if (c.invalidated) return cudaErrorStreamCaptureInvalidated;
  auto* g = new CUgraph_st{std::move(c.work)};
  g_graphs.insert(g);
  *graph = g;
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  if (!status) return invalid("cudaStreamIsCapturing: status is null");
  if (!nwgf::emu::impl::valid_stream(stream))
    return invalid("cudaStreamIsCapturing: unknown stream", cudaErrorInvalidResourceHandle);
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = stream ? g_captures.find(stream) : g_captures.end();
  *status = it == g_captures.end()   ? cudaStreamCaptureStatusNone
            : it->second.invalidated ? cudaStreamCaptureStatusInvalidated
                                     : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (!exec) return invalid("cudaGraphInstantiate: exec is null");
  std::unique_lock<std::mutex> lock(g_mutex);
  if (!g_graphs.count(graph)) {
    lock.unlock();
    return invalid("cudaGraphInstantiate: unknown graph", cudaErrorInvalidResourceHandle);
  }
  auto* e = new CUgraphExec_st{graph->work};
  g_execs.insert(e);
  *exec = e;
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  {
    std::unique_lock<std::mutex> lock(g_mutex);
    if (!g_execs.count(exec)) {
      lock.unlock();
      return invalid("cudaGraphLaunch: unknown graph exec", cudaErrorInvalidResourceHandle);
    }
  }
  if (!nwgf::emu::impl::valid_stream(stream))
    return invalid("cudaGraphLaunch: unknown stream", cudaErrorInvalidResourceHandle);
  if (const cudaError_t e = nwgf::emu::impl::pending_error(); e != cudaSuccess) return e;
  // Replayed as one piece of work: captured into an enclosing capture as a child graph.
  nwgf::emu::submit(stream, [work = exec->work] {
    for (const auto& w : work) w();
  });
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  std::unique_lock<std::mutex> lock(g_mutex);
  if (!g_execs.erase(exec)) {
    lock.unlock();
    return invalid("cudaGraphExecDestroy: unknown graph exec", cudaErrorInvalidResourceHandle);
  }
  delete exec;
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  std::unique_lock<std::mutex> lock(g_mutex);
  if (!g_graphs.erase(graph)) {
    lock.unlock();
    return invalid("cudaGraphDestroy: unknown graph", cudaErrorInvalidResourceHandle);
  }
  delete graph;
  return cudaSuccess;
}
