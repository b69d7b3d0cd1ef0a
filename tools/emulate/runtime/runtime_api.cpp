// nwgf CUDA emulator: the CUDA runtime API of include/cuda_runtime.h (errors, the one emulated
// device's properties, copies and fills checked against device allocations, streams, events).
// cudaMalloc and cudaFree are in memory.cpp.
#include <chrono>
#include <cstdio>
#include <cstring>

#include "internal.hpp"

using nwgf::emu::impl::g_mutex;
using nwgf::emu::impl::invalid;

namespace {
struct EmuStream {
  unsigned flags = 0;
};
struct EmuEvent {
  unsigned flags = 0;
  std::chrono::steady_clock::time_point when{};
  bool recorded = false;
  // Lazy streams (lazy.cpp): the stream of the last record and its position there.
  cudaStream_t stream = nullptr;
  std::uint64_t position = 0;
};
// Lazy streams: runs the work queued before the event's last record.
void reach(const EmuEvent* e) {
  if (nwgf::emu::impl::lazy_streams() && e->stream) nwgf::emu::impl::flush(e->stream, e->position);
}
std::set<void*> g_streams;
std::set<void*> g_events;
}  // namespace

namespace nwgf::emu::impl {
bool valid_stream(cudaStream_t s) {
  if (s == nullptr) return true;
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_streams.count(s) != 0;
}
}  // namespace nwgf::emu::impl
using nwgf::emu::impl::refuse_during_capture;
using nwgf::emu::impl::valid_stream;

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
    case cudaErrorNotReady:
      return "cudaErrorNotReady";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
    case cudaErrorStreamCaptureWrongThread:
      return "cudaErrorStreamCaptureWrongThread";
    case cudaErrorStreamCaptureUnmatched:
      return "cudaErrorStreamCaptureUnmatched";
    case cudaErrorStreamCaptureInvalidated:
      return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureUnsupported:
      return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorIllegalState:
      return "cudaErrorIllegalState";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t err) {
  // The emulator's own reason for the pending fault, else the code's name.
  thread_local std::string text;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (err != cudaSuccess && err == nwgf::emu::impl::g_error && !nwgf::emu::impl::g_fault.empty()) {
      text = nwgf::emu::impl::g_fault;
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
    case cudaErrorNotReady:
      return "device not ready";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
    case cudaErrorStreamCaptureWrongThread:
      return "attempt to terminate a thread-local capture sequence from another thread";
    case cudaErrorStreamCaptureUnmatched:
      return "capture was not ended in the same stream as it began";
    case cudaErrorStreamCaptureInvalidated:
      return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnsupported:
      return "operation not permitted when stream is capturing";
    case cudaErrorIllegalState:
      return "operation not permitted in the current state";
  }
  return "unknown error";
}

cudaError_t cudaGetLastError() {
  std::lock_guard<std::mutex> lock(g_mutex);
  const cudaError_t e = nwgf::emu::impl::g_error;
  nwgf::emu::impl::g_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return nwgf::emu::impl::pending_error(); }

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
  prop->sharedMemPerBlock = nwgf::emu::impl::kStaticSharedLimit;
  prop->sharedMemPerBlockOptin = nwgf::emu::impl::kDynamicSharedLimit;
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
  prop->clockRate = 1000000;  // kHz: a nominal device, 1 GHz, 64-bit memory at 1 GHz
  prop->memoryClockRate = 1000000;
  prop->memoryBusWidth = 64;
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
    case cudaDevAttrClockRate:
      *value = p.clockRate;
      break;
    case cudaDevAttrMemoryClockRate:
      *value = p.memoryClockRate;
      break;
    case cudaDevAttrGlobalMemoryBusWidth:
      *value = p.memoryBusWidth;
      break;
    case cudaDevAttrL2CacheSize:
      *value = p.l2CacheSize;
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
cudaError_t cudaDeviceSynchronize() {
  if (const cudaError_t e = refuse_during_capture("cudaDeviceSynchronize"); e != cudaSuccess)
    return e;
  if (nwgf::emu::impl::lazy_streams()) nwgf::emu::impl::flush_all();
  return nwgf::emu::impl::pending_error();
}
cudaError_t cudaMemGetInfo(std::size_t* free_bytes, std::size_t* total_bytes) {
  const std::size_t total = std::size_t(16) << 30, used = nwgf::emu::device_bytes_in_use();
  if (free_bytes) *free_bytes = used < total ? total - used : 0;
  if (total_bytes) *total_bytes = total;
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  if (const cudaError_t e = nwgf::emu::impl::pending_error(); e != cudaSuccess) return e;
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
  nwgf::emu::submit(stream, [dst, src, bytes] { std::memmove(dst, src, bytes); });
  // Host memory here is pageable: a copy to or from it is done when the call returns, as the
  // driver stages it (lazy streams: the stream runs up to it).
  if (nwgf::emu::impl::lazy_streams() && stream && (!dst_dev || !src_dev) &&
      !nwgf::emu::impl::is_capturing(stream)) {
    nwgf::emu::impl::flush(stream);
  }
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  if (const cudaError_t e = refuse_during_capture("cudaMemcpy"); e != cudaSuccess) return e;
  return cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
}
cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t bytes, cudaStream_t stream) {
  if (const cudaError_t e = nwgf::emu::impl::pending_error(); e != cudaSuccess) return e;
  if (!valid_stream(stream))
    return invalid("cudaMemsetAsync: unknown stream", cudaErrorInvalidResourceHandle);
  if (bytes == 0) return cudaSuccess;
  if (!nwgf::emu::is_device_range(ptr, bytes)) {
    return invalid("cudaMemset: " + std::to_string(bytes) +
                   " bytes are not inside one device allocation");
  }
  nwgf::emu::submit(stream, [ptr, value, bytes] { std::memset(ptr, value, bytes); });
  return cudaSuccess;
}
cudaError_t cudaMemset(void* ptr, int value, std::size_t bytes) {
  if (const cudaError_t e = refuse_during_capture("cudaMemset"); e != cudaSuccess) return e;
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
  if (nwgf::emu::impl::is_capturing(stream))
    return invalid("cudaStreamDestroy: the stream is capturing", cudaErrorIllegalState);
  if (!valid_stream(stream) || stream == nullptr)
    return invalid("cudaStreamDestroy: unknown stream", cudaErrorInvalidResourceHandle);
  if (nwgf::emu::impl::lazy_streams()) nwgf::emu::impl::forget_stream(stream);
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
  if (const cudaError_t e = refuse_during_capture("cudaStreamSynchronize"); e != cudaSuccess)
    return e;
  if (nwgf::emu::impl::lazy_streams()) {
    if (stream) {
      nwgf::emu::impl::flush(stream);
    } else {
      nwgf::emu::impl::flush_all();
    }
  }
  return nwgf::emu::impl::pending_error();
}
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned) {
  if (!valid_stream(stream) || !event)
    return invalid("cudaStreamWaitEvent: bad handle", cudaErrorInvalidResourceHandle);
  // Lazy streams: the waiting stream's later work runs after the event's stream reached the
  // record (a marker in its queue forces that stream when it runs).
  const auto* e = reinterpret_cast<EmuEvent*>(event);
  if (nwgf::emu::impl::lazy_streams() && e->stream && e->stream != stream) {
    nwgf::emu::submit(
        stream, [from = e->stream, upto = e->position] { nwgf::emu::impl::flush(from, upto); });
  }
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
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_events.count(event))
      return invalid("cudaEventDestroy: unknown event", cudaErrorInvalidResourceHandle);
  }
  reach(reinterpret_cast<EmuEvent*>(event));  // its record's work may still stamp it
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
  e->recorded = true;
  if (nwgf::emu::impl::lazy_streams() && stream && !nwgf::emu::impl::is_capturing(stream)) {
    // Stamped when the stream reaches it; waits and synchronisations run the stream up to here.
    e->stream = stream;
    e->position =
        nwgf::emu::impl::defer(stream, [e] { e->when = std::chrono::steady_clock::now(); });
    return cudaSuccess;
  }
  if (nwgf::emu::impl::lazy_streams() && !stream) nwgf::emu::impl::flush_all();
  e->stream = nullptr;
  e->when = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event) return invalid("cudaEventSynchronize: null event", cudaErrorInvalidResourceHandle);
  if (const cudaError_t e = refuse_during_capture("cudaEventSynchronize"); e != cudaSuccess)
    return e;
  reach(reinterpret_cast<EmuEvent*>(event));
  return nwgf::emu::impl::pending_error();
}
cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (!event) return invalid("cudaEventQuery: null event", cudaErrorInvalidResourceHandle);
  reach(reinterpret_cast<EmuEvent*>(event));  // lazy streams: a query forces (no polling forever)
  return nwgf::emu::impl::pending_error();
}
// The events carry the host's steady clock at their record (the stream reaches an event when it is
// recorded: work runs at the call). As on a GPU: an unrecorded event, or one made with
// cudaEventDisableTiming, is an invalid handle.
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  auto* a = reinterpret_cast<EmuEvent*>(start);
  auto* b = reinterpret_cast<EmuEvent*>(end);
  if (!ms) return invalid("cudaEventElapsedTime: ms is null");
  if (!a || !b || !a->recorded || !b->recorded) {
    return invalid("cudaEventElapsedTime: events not recorded", cudaErrorInvalidResourceHandle);
  }
  reach(a);
  reach(b);
  if ((a->flags | b->flags) & cudaEventDisableTiming) {
    return invalid("cudaEventElapsedTime: an event made with cudaEventDisableTiming",
                   cudaErrorInvalidResourceHandle);
  }
  *ms = std::chrono::duration<float, std::milli>(b->when - a->when).count();
  return cudaSuccess;
}
