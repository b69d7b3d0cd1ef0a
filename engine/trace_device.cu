// The CUDA device timeline of a trace session (engine/trace_device.hpp): each span of the thread
// that made the Context records a pooled CUDA event on the context's stream at its begin and its
// end. The stream reaches the events in record order, so the marks nest as the host's spans do.
// Each mark is read back as cudaEventElapsedTime from a reference event recorded when the
// session started (resolution about 0.5 us; the float milliseconds of the API keep about 1 us up
// to 16 s and grow coarser after), aligned to the host clock taken just before that record on an
// idle stream. Reading back never waits inside a run: the pool (made at the first traced
// session's start, kept for the next) is refilled from the marks the stream has passed
// (cudaEventQuery), and grows only when it has passed none; the session's end waits for the
// stream once and reads the rest.
#include <cuda_runtime.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/engine/trace_device.hpp"

namespace nwgf {
namespace {

using trace_detail::DeviceSpan;

class CudaTimeline final : public trace_detail::DeviceTimeline {
 public:
  CudaTimeline(int device, cudaStream_t stream)
      : device_(device), stream_(stream), owner_(std::this_thread::get_id()) {}

  ~CudaTimeline() override {
    if (reference_) cudaEventDestroy(reference_);
    for (cudaEvent_t e : free_) cudaEventDestroy(e);
    for (const Mark& m : pending_) cudaEventDestroy(m.event);
  }

  void start(int stream) override {
    number_ = stream;
    recording_ = false;
    marked_.clear();
    open_.clear();
    spans_.clear();
    if (!reference_ && !ok(cudaEventCreate(&reference_))) return;
    if (free_.size() < std::size_t(pool_chunk) && !grow(pool_chunk)) return;
    // On an idle stream the reference is reached right after its record: its host time.
    if (!ok(cudaStreamSynchronize(stream_))) return;
    reference_ns_ = trace_detail::session_now();
    if (!ok(cudaEventRecord(reference_, stream_))) return;
    recording_ = true;
  }

  // A span that begins while the stream is being captured into a CUDA graph (engine/cuda_graph.hpp)
  // gets no marks: an event recorded there would become a node of the graph, and querying it
  // would invalidate the capture. Such spans are left off the device track.
  void begin(Phase p) override {
    if (!recording_ || std::this_thread::get_id() != owner_) return;
    if (capturing()) {
      marked_.push_back(false);
      return;
    }
    if (recording_ && record(p, true)) marked_.push_back(true);
  }

  void end(Phase p) override {
    // marked_ empty: the span began before this timeline started recording.
    if (!recording_ || marked_.empty() || std::this_thread::get_id() != owner_) return;
    const bool marked = marked_.back();
    marked_.pop_back();
    if (marked) record(p, false);
  }

  void finish() override {
    if (recording_ && ok(cudaStreamSynchronize(stream_))) read_back(false);
    recording_ = false;
    for (const Mark& m : pending_) free_.push_back(m.event);
    pending_.clear();
    trace_detail::device_track(device_, number_, std::move(spans_));
    spans_.clear();
  }

 private:
  static constexpr int pool_chunk = 256;  // events made at a time

  struct Mark {
    cudaEvent_t event;
    Phase phase;
    bool begin;
  };

  // A failed call ends the recording (the trace then lacks this track's later spans); the error
  // stays for the run's own checks to report.
  bool ok(cudaError_t err) {
    if (err == cudaSuccess) return true;
    recording_ = false;
    return false;
  }

  bool capturing() {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    return ok(cudaStreamIsCapturing(stream_, &status)) && status != cudaStreamCaptureStatusNone;
  }

  bool grow(int n) {
    for (int i = 0; i < n; ++i) {
      cudaEvent_t e = nullptr;
      if (!ok(cudaEventCreate(&e))) return false;
      free_.push_back(e);
    }
    return true;
  }

  bool record(Phase p, bool begin) {
    if (free_.empty()) read_back(true);
    if (free_.empty() && !grow(pool_chunk)) return false;
    cudaEvent_t e = free_.back();
    if (!ok(cudaEventRecord(e, stream_))) return false;
    free_.pop_back();
    pending_.push_back({e, p, begin});
    return true;
  }

  // Reads the marks the stream has passed (all of them after a synchronisation), oldest first,
  // pairs each end with its begin, and returns their events to the pool. `poll`: stop at the first
  // mark not yet reached.
  void read_back(bool poll) {
    while (!pending_.empty()) {
      const Mark m = pending_.front();
      if (poll) {
        const cudaError_t q = cudaEventQuery(m.event);
        if (q == cudaErrorNotReady) return;
        if (!ok(q)) return;
      }
      float ms = 0;
      if (!ok(cudaEventElapsedTime(&ms, reference_, m.event))) return;
      pending_.pop_front();
      free_.push_back(m.event);
      const std::int64_t at = reference_ns_ + std::int64_t(double(ms) * 1e6);
      if (m.begin) {
        open_.push_back(at);
      } else if (!open_.empty()) {
        const std::int64_t start = open_.back();
        open_.pop_back();
        spans_.push_back({start, std::max<std::int64_t>(0, at - start), m.phase});
      }
    }
  }

  int device_;
  cudaStream_t stream_;
  std::thread::id owner_;
  int number_ = 0;
  bool recording_ = false;
  std::vector<bool> marked_;  // begun spans whose ends are still to come: marked on the stream?
  cudaEvent_t reference_ = nullptr;
  std::int64_t reference_ns_ = 0;
  std::vector<cudaEvent_t> free_;
  std::deque<Mark> pending_;        // recorded, not read back, in record order
  std::vector<std::int64_t> open_;  // read-back begins whose ends are still pending
  std::vector<DeviceSpan> spans_;
};

// The timeline of each live context's handles.
std::mutex g_mutex;
std::map<const CudaHandles*, std::unique_ptr<CudaTimeline>> g_timelines;

}  // namespace

void attach_trace_timeline(const CudaHandles* h) {
  CudaTimeline* t = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto& slot = g_timelines[h];
    slot = std::make_unique<CudaTimeline>(h->device, h->stream);
    t = slot.get();
  }
  trace_detail::add_timeline(t);
}

void detach_trace_timeline(const CudaHandles* h) noexcept {
  std::unique_ptr<CudaTimeline> t;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    const auto it = g_timelines.find(h);
    if (it == g_timelines.end()) return;
    t = std::move(it->second);
    g_timelines.erase(it);
  }
  trace_detail::remove_timeline(t.get());
}

}  // namespace nwgf
