#pragma once
// Launchers of the MLP and Adam CUDA kernels (nn/mlp.cu, nn/adam.cu); called by nn/mlp.cpp and
// nn/adam.cpp on the CUDA backend only. All enqueue on ctx's stream and never synchronise.
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/nn/mlp_math.hpp"

namespace nwgf::detail {

// Row chunks of the two-pass column sum on CUDA: partial sums are (mlp_colsum_chunks, cols).
inline constexpr index_t mlp_colsum_chunks = 128;

#ifdef NWGF_HAVE_CUDA
// z (rows, cols) <- relu(z + b) if relu else z + b.
template <class T>
void cuda_bias_activation(const Context& ctx, T* z, const T* b, index_t rows, index_t cols,
                          bool relu);
// PReLU: z (rows, cols) <- z + b, h <- z (z > 0) or (*a) z; a on the device.
template <class T>
void cuda_bias_prelu(const Context& ctx, T* z, const T* b, const T* a, T* h, index_t rows,
                     index_t cols);
// PReLU reverse over count elements: g = dh (z > 0) or (*a) dh (g may alias dh), s = dh min(z, 0).
template <class T>
void cuda_prelu_backward(const Context& ctx, const T* dh, const T* z, const T* a, T* g, T* s,
                         index_t count);
// If h: g = dh ⊙ 1[h > 0] (g may alias dh) and db = [db +] 1^T g; else db = [db +] 1^T dh.
// dh, h, g: (rows, cols); partial: (mlp_colsum_chunks, cols) scratch.
template <class T>
void cuda_bias_grad(const Context& ctx, const T* dh, const T* h, T* g, index_t rows, index_t cols,
                    T* partial, T* db, bool accumulate);
// counter: [t, 0] on the device; the kernel uses t + 1 and its last block stores t + 1.
template <class T>
void cuda_adam_step(const Context& ctx, T* params, T* m, T* v, const T* grads, index_t n,
                    double beta1, double beta2, double eps, double lr, long long* counter);
#endif

}  // namespace nwgf::detail
