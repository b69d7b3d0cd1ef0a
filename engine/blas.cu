#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/cublas_lib.cuh"
#include "nwgf/engine/cuda_backend.hpp"
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"

namespace nwgf::detail {
namespace {
cublasOperation_t cu_op(Op op) { return op == Op::N ? CUBLAS_OP_N : CUBLAS_OP_T; }

// Row-major C = op(A) op(B)  <=>  column-major C^T = op(B)^T op(A)^T: swap the operands.
cublasStatus_t cublas_gemm(cublasHandle_t h, Op op_a, Op op_b, int m, int n, int k,
                           const float* alpha, const float* a, int lda, const float* b, int ldb,
                           const float* beta, float* c, int ldc) {
  return cublas::api().sgemm(h, cu_op(op_b), cu_op(op_a), n, m, k, alpha, b, ldb, a, lda, beta, c, ldc);
}
cublasStatus_t cublas_gemm(cublasHandle_t h, Op op_a, Op op_b, int m, int n, int k,
                           const double* alpha, const double* a, int lda, const double* b, int ldb,
                           const double* beta, double* c, int ldc) {
  return cublas::api().dgemm(h, cu_op(op_b), cu_op(op_a), n, m, k, alpha, b, ldb, a, lda, beta, c, ldc);
}
}  // namespace

template <class T>
void cuda_gemm(const Context& ctx, Op op_a, Op op_b, index_t m, index_t n, index_t k, T alpha,
               const T* a, index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc) {
  NWGF_CUBLAS_CHECK(cublas::api().set_pointer_mode(ctx.cuda()->cublas, CUBLAS_POINTER_MODE_HOST));
  NWGF_CUBLAS_CHECK(cublas_gemm(ctx.cuda()->cublas, op_a, op_b, int(m), int(n), int(k), &alpha, a,
                                int(lda), b, int(ldb), &beta, c, int(ldc)));
}

template void cuda_gemm<float>(const Context&, Op, Op, index_t, index_t, index_t, float,
                               const float*, index_t, const float*, index_t, float, float*,
                               index_t);
template void cuda_gemm<double>(const Context&, Op, Op, index_t, index_t, index_t, double,
                                const double*, index_t, const double*, index_t, double, double*,
                                index_t);

}  // namespace nwgf::detail
