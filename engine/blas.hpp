#pragma once
// BLAS facade: one gemm for both backends (OpenBLAS via CBLAS on cpu, cuBLAS on cuda).
//
// Row-major convention throughout nwgf:  C (m x n) = alpha * op(A) * op(B) + beta * C,
// op(A) m x k, op(B) k x n, leading dimensions are row strides (elements between rows).
// All pointers must live on ctx's device. cuBLAS is column-major; the facade maps the row-major
// product to C^T = op(B)^T op(A)^T, so callers never see the difference.
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

enum class Op { N, T };

template <class T>
void gemm(const Context& ctx, Op op_a, Op op_b, index_t m, index_t n, index_t k, T alpha,
          const T* a, index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc);

}  // namespace nwgf
