#pragma once
// A second CUDA stream beside a Context's, and events that order work across the two: for copies
// and collectives that run while the Context's kernels run (the sharded passes' column
// broadcasts, kernels/pairwise_sharded.cpp). CUDA types stay out of this header; defined in
// engine/device_stream.cu, in builds with the CUDA backend only (NWGF_HAVE_CUDA).
//
// Ordering is the caller's: work on a DeviceStream starts as soon as the device can run it,
// concurrently with the Context's stream, unless an event wait says otherwise. An event waited
// for before it was ever recorded orders nothing (as in CUDA).
#include <cstddef>

#include "nwgf/engine/backend.hpp"

namespace nwgf {

class DeviceStream {
 public:
  // A new stream on ctx's device; ctx must be a CUDA context and outlive the stream.
  explicit DeviceStream(const Context& ctx);
  // Waits for the work queued on the stream, then releases it.
  ~DeviceStream();
  DeviceStream(const DeviceStream&) = delete;
  DeviceStream& operator=(const DeviceStream&) = delete;

  const Context& context() const { return ctx_; }
  // bytes from device memory src to device memory dst, queued on this stream.
  void copy(void* dst, const void* src, std::size_t bytes) const;
  // Waits for the work queued on this stream.
  void synchronize() const;
  void* handle() const { return stream_; }  // the cudaStream_t (for .cu files)

 private:
  const Context& ctx_;
  void* stream_ = nullptr;
};

// A CUDA event without timing: recorded after the work queued so far on a stream, waited for by
// another stream's later work.
class DeviceEvent {
 public:
  explicit DeviceEvent(const Context& ctx);
  ~DeviceEvent();
  DeviceEvent(const DeviceEvent&) = delete;
  DeviceEvent& operator=(const DeviceEvent&) = delete;

  // After the work queued so far on ctx's stream / on s.
  void record(const Context& ctx) const;
  void record(const DeviceStream& s) const;
  // The work queued from now on on ctx's stream / on s runs after the last record.
  void wait(const Context& ctx) const;
  void wait(const DeviceStream& s) const;

 private:
  void* event_ = nullptr;  // cudaEvent_t
};

}  // namespace nwgf
