// A second stream and cross-stream events (engine/device_stream.hpp).
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/engine/device_stream.hpp"
#include "nwgf/engine/error.hpp"

namespace nwgf {
namespace {

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

const CudaHandles& handles_of(const Context& ctx, const char* who) {
  if (!ctx.is_cuda()) throw_runtime(std::string(who) + ": the context is not on the CUDA device");
  return *ctx.cuda();
}

}  // namespace

DeviceStream::DeviceStream(const Context& ctx) : ctx_(ctx) {
  NWGF_CUDA_CHECK(cudaSetDevice(handles_of(ctx, "DeviceStream").device));
  cudaStream_t s = nullptr;
  NWGF_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  stream_ = s;
}

DeviceStream::~DeviceStream() {
  if (!stream_) return;
  cudaStreamSynchronize(as_stream(stream_));  // an error here is the stream's work's: reported
  cudaStreamDestroy(as_stream(stream_));      // by the Context's next check, not by a destructor
}

void DeviceStream::copy(void* dst, const void* src, std::size_t bytes) const {
  if (bytes == 0) return;
  NWGF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, as_stream(stream_)));
}

void DeviceStream::synchronize() const {
  NWGF_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream_)));
}

DeviceEvent::DeviceEvent(const Context& ctx) {
  NWGF_CUDA_CHECK(cudaSetDevice(handles_of(ctx, "DeviceEvent").device));
  cudaEvent_t e = nullptr;
  NWGF_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  event_ = e;
}

DeviceEvent::~DeviceEvent() {
  if (event_) cudaEventDestroy(static_cast<cudaEvent_t>(event_));
}

void DeviceEvent::record(const Context& ctx) const {
  NWGF_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event_), stream_of(ctx)));
}
void DeviceEvent::record(const DeviceStream& s) const {
  NWGF_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event_), as_stream(s.handle())));
}
void DeviceEvent::wait(const Context& ctx) const {
  NWGF_CUDA_CHECK(cudaStreamWaitEvent(stream_of(ctx), static_cast<cudaEvent_t>(event_), 0));
}
void DeviceEvent::wait(const DeviceStream& s) const {
  NWGF_CUDA_CHECK(cudaStreamWaitEvent(as_stream(s.handle()), static_cast<cudaEvent_t>(event_), 0));
}

}  // namespace nwgf
