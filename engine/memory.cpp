#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/cuda_backend.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/error.hpp"

namespace nwgf::detail {

void* allocate_bytes(const Context& ctx, std::size_t bytes) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return cuda_allocate_bytes(ctx, bytes);
#endif
  (void)ctx;
  // 64-byte alignment: one cache line, and the widest SIMD load.
  const std::size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) throw_runtime("out of host memory allocating " + std::to_string(bytes) + " bytes");
  return p;
}

void free_bytes(Device device, void* p) noexcept {
#ifdef NWGF_HAVE_CUDA
  if (device == Device::cuda) return cuda_free_bytes(p);
#endif
  (void)device;
  std::free(p);
}

void copy_bytes(const Context& ctx, void* dst, Device dst_device, const void* src, Device src_device,
                std::size_t bytes) {
  if (bytes == 0) return;
#ifdef NWGF_HAVE_CUDA
  if (dst_device == Device::cuda || src_device == Device::cuda) {
    return cuda_copy_bytes(ctx, dst, dst_device, src, src_device, bytes);
  }
#endif
  (void)ctx;
  (void)dst_device;
  (void)src_device;
  std::memcpy(dst, src, bytes);
}

void fill_zero_bytes(const Context& ctx, void* p, Device device, std::size_t bytes) {
  if (bytes == 0) return;
#ifdef NWGF_HAVE_CUDA
  if (device == Device::cuda) return cuda_fill_zero_bytes(ctx, p, bytes);
#endif
  (void)ctx;
  (void)device;
  std::memset(p, 0, bytes);
}

}  // namespace nwgf::detail
