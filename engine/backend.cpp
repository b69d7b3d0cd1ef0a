#include "nwgf/engine/backend.hpp"

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/threads.hpp"

namespace nwgf {

#ifdef NWGF_HAVE_CUDA
// engine/cuda_context.cu
CudaStatus cuda_status_impl();
CudaHandles* make_cuda_handles(int device);
void destroy_cuda_handles(CudaHandles* h) noexcept;
void cuda_synchronize(const CudaHandles* h);
#endif

CudaStatus cuda_status() {
#ifdef NWGF_HAVE_CUDA
  return cuda_status_impl();
#else
  CudaStatus s;
  s.built = false;
  s.usable = false;
  s.reason = "this build has no CUDA backend (configured with NWGF_CUDA=OFF or without nvcc)";
  return s;
#endif
}

Device resolve_backend(BackendChoice choice) {
  switch (choice) {
    case BackendChoice::cpu: return Device::cpu;
    case BackendChoice::cuda: {
      const CudaStatus s = cuda_status();
      if (!s.usable) throw_bad_input("--backend cuda: no usable CUDA device: " + s.reason);
      return Device::cuda;
    }
    default: return cuda_status().usable ? Device::cuda : Device::cpu;
  }
}

Context::Context(Device device, int threads, int cuda_device)
    : device_(device), threads_(threads > 0 ? threads : default_threads()) {
  set_threads(threads_);
  if (device_ == Device::cuda) {
#ifdef NWGF_HAVE_CUDA
    const CudaStatus s = cuda_status();
    if (!s.usable) throw_bad_input("--backend cuda: no usable CUDA device: " + s.reason);
    if (cuda_device < 0 || cuda_device >= int(s.devices.size())) {
      throw_bad_input("--device: CUDA device " + std::to_string(cuda_device) + " does not exist");
    }
    cuda_.reset(make_cuda_handles(cuda_device));
#else
    (void)cuda_device;
    throw_bad_input("--backend cuda: " + cuda_status().reason);
#endif
  }
}

Context::Context(BackendChoice choice, int threads, int cuda_device)
    : Context(resolve_backend(choice), threads, cuda_device) {}

void CudaHandlesDeleter::operator()(CudaHandles* h) const noexcept {
#ifdef NWGF_HAVE_CUDA
  destroy_cuda_handles(h);
#else
  (void)h;
#endif
}

void Context::synchronize() const {
#ifdef NWGF_HAVE_CUDA
  if (cuda_) cuda_synchronize(cuda_.get());
#endif
}

}  // namespace nwgf
