#pragma once
// Raw allocation and copies per device. Only engine/ calls these; math code uses Buffer<T>.
#include <cstddef>

#include "engine/types.hpp"

namespace nwgf {

class Context;

namespace detail {
void* allocate_bytes(const Context& ctx, std::size_t bytes);
void free_bytes(Device device, void* p) noexcept;
// Copies `bytes` between any two devices, ordered on ctx's stream; returns when the data is
// usable by the host if the destination is the host.
void copy_bytes(const Context& ctx, void* dst, Device dst_device, const void* src, Device src_device,
                std::size_t bytes);
void fill_zero_bytes(const Context& ctx, void* p, Device device, std::size_t bytes);

#ifdef NWGF_HAVE_CUDA
void* cuda_allocate_bytes(const Context& ctx, std::size_t bytes);
void cuda_free_bytes(void* p) noexcept;
void cuda_copy_bytes(const Context& ctx, void* dst, Device dst_device, const void* src,
                     Device src_device, std::size_t bytes);
void cuda_fill_zero_bytes(const Context& ctx, void* p, std::size_t bytes);
#endif
}  // namespace detail

}  // namespace nwgf
