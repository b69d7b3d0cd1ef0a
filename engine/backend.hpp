#pragma once
// Backends and the execution context every operation takes.
//
// A Context owns what a backend needs to run work: the CPU thread count (OpenMP and OpenBLAS
// share it) and, for CUDA, the device, a stream and the cuBLAS/cuBLASLt handles. CUDA types never
// appear in this header, so CPU-only code and the installed headers need no CUDA include path.
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/types.hpp"

namespace nwgf {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  std::size_t memory_bytes = 0;
  int multiprocessors = 0;
};

struct CudaStatus {
  bool built = false;   // this build has the CUDA backend
  bool usable = false;  // a device can be used now
  std::string reason;   // why not, in the driver's words (empty when usable)
  std::vector<CudaDeviceInfo> devices;
};

// Queries the driver; never throws and never aborts.
CudaStatus cuda_status();

// Resolves `automatic` to a concrete device; asking for CUDA where none is usable is a bad-input
// error carrying the driver's reason.
Device resolve_backend(BackendChoice choice);

struct CudaHandles;  // defined in engine/cuda_context.cuh
struct CudaHandlesDeleter {
  void operator()(CudaHandles* h) const noexcept;
};

class Context {
 public:
  // threads <= 0: NWGF_THREADS if set, else all cores.
  explicit Context(Device device = Device::cpu, int threads = 0, int cuda_device = 0);
  explicit Context(BackendChoice choice, int threads = 0, int cuda_device = 0);
  ~Context() = default;
  Context(Context&&) noexcept = default;
  Context& operator=(Context&&) noexcept = default;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Device device() const { return device_; }
  bool is_cuda() const { return device_ == Device::cuda; }
  int threads() const { return threads_; }
  // Waits for all work queued on this context (a no-op on the CPU backend).
  void synchronize() const;

  // CUDA handles (nullptr on the CPU backend); used only inside .cu files.
  CudaHandles* cuda() const { return cuda_.get(); }

 private:
  Device device_;
  int threads_;
  std::unique_ptr<CudaHandles, CudaHandlesDeleter> cuda_;
};

}  // namespace nwgf
