#include "nwgf/engine/cublas_lib.cuh"
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"

namespace nwgf {
// engine/trace_device.cu: the context's stream as a device track of trace sessions.
void attach_trace_timeline(const CudaHandles* h);
void detach_trace_timeline(const CudaHandles* h) noexcept;
}  // namespace nwgf

namespace nwgf {

CudaStatus cuda_status_impl() {
  CudaStatus s;
  s.built = true;
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    s.reason = cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error
    return s;
  }
  if (count == 0) {
    s.reason = "no CUDA-capable device is detected";
    return s;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    CudaDeviceInfo info;
    info.index = i;
    info.name = p.name;
    info.major = p.major;
    info.minor = p.minor;
    info.memory_bytes = p.totalGlobalMem;
    info.multiprocessors = p.multiProcessorCount;
    s.devices.push_back(info);
  }
  s.usable = !s.devices.empty();
  if (!s.usable) s.reason = "device properties could not be read";
  return s;
}

CudaHandles* make_cuda_handles(int device) {
  auto* h = new CudaHandles;
  try {
    h->device = device;
    NWGF_CUDA_CHECK(cudaSetDevice(device));
    NWGF_CUDA_CHECK(cudaStreamCreateWithFlags(&h->stream, cudaStreamNonBlocking));
    const cublas::Api& blas = cublas::api();
    NWGF_CUBLAS_CHECK(blas.create(&h->cublas));
    NWGF_CUBLAS_CHECK(blas.set_stream(h->cublas, h->stream));
    attach_trace_timeline(h);
  } catch (...) {
    detach_trace_timeline(h);
    if (h->cublas) cublas::api().destroy(h->cublas);
    if (h->stream) cudaStreamDestroy(h->stream);
    delete h;
    throw;
  }
  return h;
}

void destroy_cuda_handles(CudaHandles* h) noexcept {
  if (!h) return;
  cudaSetDevice(h->device);
  detach_trace_timeline(h);
  if (h->cublas) cublas::api().destroy(h->cublas);
  if (h->stream) {
    cudaStreamSynchronize(h->stream);
    cudaStreamDestroy(h->stream);
  }
  delete h;
}

void cuda_synchronize(const CudaHandles* h) { NWGF_CUDA_CHECK(cudaStreamSynchronize(h->stream)); }

}  // namespace nwgf
