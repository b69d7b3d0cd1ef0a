#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/cuda_backend.hpp"
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"

namespace nwgf::detail {

void* cuda_allocate_bytes(const Context& ctx, std::size_t bytes) {
  void* p = nullptr;
  NWGF_CUDA_CHECK(cudaSetDevice(ctx.cuda()->device));
  NWGF_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}

void cuda_free_bytes(void* p) noexcept { cudaFree(p); }

void cuda_copy_bytes(const Context& ctx, void* dst, Device dst_device, const void* src,
                     Device src_device, std::size_t bytes) {
  const cudaMemcpyKind kind = dst_device == Device::cuda
                                  ? (src_device == Device::cuda ? cudaMemcpyDeviceToDevice
                                                                : cudaMemcpyHostToDevice)
                                  : cudaMemcpyDeviceToHost;
  cudaStream_t s = ctx.is_cuda() ? stream_of(ctx) : nullptr;
  NWGF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, s));
  if (dst_device == Device::cpu) NWGF_CUDA_CHECK(cudaStreamSynchronize(s));
}

void cuda_fill_zero_bytes(const Context& ctx, void* p, std::size_t bytes) {
  NWGF_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream_of(ctx)));
}

}  // namespace nwgf::detail
