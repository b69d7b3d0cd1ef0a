#include "nwgf/engine/blas.hpp"

#include <cblas.h>

#include <climits>

#include "nwgf/engine/cuda_backend.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/trace.hpp"

namespace nwgf {
namespace {
CBLAS_TRANSPOSE cblas_op(Op op) { return op == Op::N ? CblasNoTrans : CblasTrans; }

void check_dims(Op op_a, Op op_b, index_t m, index_t n, index_t k, index_t lda, index_t ldb,
                index_t ldc) {
  if (m < 0 || n < 0 || k < 0) throw_runtime("gemm: negative dimension");
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX)
    throw_runtime("gemm: dimension exceeds 32-bit BLAS range");
  const index_t a_cols = op_a == Op::N ? k : m;
  const index_t b_cols = op_b == Op::N ? n : k;
  if (lda < (a_cols > 1 ? a_cols : 1) || ldb < (b_cols > 1 ? b_cols : 1) || ldc < (n > 1 ? n : 1))
    throw_runtime("gemm: leading dimension smaller than the row length");
}
}  // namespace

template <>
void gemm<float>(const Context& ctx, Op op_a, Op op_b, index_t m, index_t n, index_t k, float alpha,
                 const float* a, index_t lda, const float* b, index_t ldb, float beta, float* c,
                 index_t ldc) {
  check_dims(op_a, op_b, m, n, k, lda, ldb, ldc);
  if (m == 0 || n == 0) return;
  trace_count(Counter::gemm_flops, 2.0 * double(m) * double(n) * double(k));
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_gemm(ctx, op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
  (void)ctx;
  cblas_sgemm(CblasRowMajor, cblas_op(op_a), cblas_op(op_b), int(m), int(n), int(k), alpha, a,
              int(lda), b, int(ldb), beta, c, int(ldc));
}

template <>
void gemm<double>(const Context& ctx, Op op_a, Op op_b, index_t m, index_t n, index_t k,
                  double alpha, const double* a, index_t lda, const double* b, index_t ldb,
                  double beta, double* c, index_t ldc) {
  check_dims(op_a, op_b, m, n, k, lda, ldb, ldc);
  if (m == 0 || n == 0) return;
  trace_count(Counter::gemm_flops, 2.0 * double(m) * double(n) * double(k));
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_gemm(ctx, op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
  (void)ctx;
  cblas_dgemm(CblasRowMajor, cblas_op(op_a), cblas_op(op_b), int(m), int(n), int(k), alpha, a,
              int(lda), b, int(ldb), beta, c, int(ldc));
}

}  // namespace nwgf
