#pragma once
// The core's CUDA entry points (defined in engine/*.cu), called by the backend-neutral functions
// of engine/buffer.hpp, blas.hpp and rng.hpp when a Context is on the CUDA device. Internal (not
// installed); declared only in builds with the CUDA backend (NWGF_HAVE_CUDA). Arguments as in the
// public function each one serves.
#include <cstddef>
#include <cstdint>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/types.hpp"

#ifdef NWGF_HAVE_CUDA
namespace nwgf::detail {

void* cuda_allocate_bytes(const Context& ctx, std::size_t bytes);
void cuda_free_bytes(void* p) noexcept;
void cuda_copy_bytes(const Context& ctx, void* dst, Device dst_device, const void* src,
                     Device src_device, std::size_t bytes);
void cuda_fill_zero_bytes(const Context& ctx, void* p, std::size_t bytes);

template <class T>
void cuda_gemm(const Context& ctx, Op op_a, Op op_b, index_t m, index_t n, index_t k, T alpha,
               const T* a, index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc);

template <class T>
void cuda_rng_uniform(const Context& ctx, std::uint64_t seed, std::uint64_t stream,
                      std::uint64_t offset, T* out, index_t n, T lo, T hi);
template <class T>
void cuda_rng_normal(const Context& ctx, std::uint64_t seed, std::uint64_t stream,
                     std::uint64_t offset, T* out, index_t n, T mean, T stddev);

}  // namespace nwgf::detail
#endif
