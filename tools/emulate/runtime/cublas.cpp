// nwgf CUDA emulator: cuBLAS / cuBLASLt on OpenBLAS. Arguments are validated like cuBLAS does
// (dimensions, leading dimensions) and matrices must be device memory, so host pointers passed to
// cuBLAS fail here as they would on a GPU. The multiplication is submitted on the handle's
// stream, so a capturing stream records it (cuBLAS GEMMs are capturable).
#include <cblas.h>

#include <cstdio>
#include <string>

#include "cublasLt.h"
#include "cublas_v2.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
  cublasPointerMode_t mode = CUBLAS_POINTER_MODE_HOST;
};
struct cublasLtContext {};

namespace {

cublasStatus_t reject(const std::string& why) {
  std::fprintf(stderr, "nwgf CUDA emulator: cuBLAS: %s\n", why.c_str());
  return CUBLAS_STATUS_INVALID_VALUE;
}

CBLAS_TRANSPOSE to_cblas(cublasOperation_t op) {
  return op == CUBLAS_OP_N ? CblasNoTrans : CblasTrans;
}

// Validates a column-major gemm C (m x n) = op(A) (m x k) op(B) (k x n) like cuBLAS.
template <class T>
cublasStatus_t check_gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                          int n, int k, const T* alpha, const T* a, int lda, const T* b, int ldb,
                          const T* beta, const T* c, int ldc) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || k < 0) return reject("gemm: negative dimension");
  const int a_rows = ta == CUBLAS_OP_N ? m : k, b_rows = tb == CUBLAS_OP_N ? k : n;
  if (lda < (a_rows > 1 ? a_rows : 1) || ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1)) {
    return reject("gemm: leading dimension too small (lda " + std::to_string(lda) + ", ldb " +
                  std::to_string(ldb) + ", ldc " + std::to_string(ldc) + ")");
  }
  if (!alpha || !beta) return reject("gemm: alpha or beta is null");
  const bool scalars_on_device = h->mode == CUBLAS_POINTER_MODE_DEVICE;
  if (nwgf::emu::is_device_range(alpha, sizeof(T)) != scalars_on_device ||
      nwgf::emu::is_device_range(beta, sizeof(T)) != scalars_on_device) {
    return reject("gemm: alpha / beta do not live where the pointer mode says");
  }
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  const int a_cols = ta == CUBLAS_OP_N ? k : m, b_cols = tb == CUBLAS_OP_N ? n : k;
  auto span = [](int ld, int rows, int cols) {
    return sizeof(T) * (std::size_t(ld) * std::size_t(cols - 1) + std::size_t(rows));
  };
  if (k > 0 && (!nwgf::emu::is_device_range(a, span(lda, a_rows, a_cols)) ||
                !nwgf::emu::is_device_range(b, span(ldb, b_rows, b_cols)))) {
    return reject("gemm: A or B is not (entirely) device memory");
  }
  if (!nwgf::emu::is_device_range(c, span(ldc, m, n))) {
    return reject("gemm: C is not (entirely) device memory");
  }
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetPointerMode(cublasHandle_t handle, cublasPointerMode_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGetPointerMode(cublasHandle_t handle, cublasPointerMode_t* mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const float* alpha,
                           const float* A, int lda, const float* B, int ldb, const float* beta,
                           float* C, int ldc) {
  const cublasStatus_t st =
      check_gemm(handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  if (st != CUBLAS_STATUS_SUCCESS || m == 0 || n == 0) return st;
  // Host-mode scalars are read at the call (as cuBLAS does, also when captured into a graph).
  const bool host_scalars = handle->mode == CUBLAS_POINTER_MODE_HOST;
  const float a_host = host_scalars ? *alpha : float(0), b_host = host_scalars ? *beta : float(0);
  nwgf::emu::submit(handle->stream, [=] {
    cblas_sgemm(CblasColMajor, to_cblas(transa), to_cblas(transb), m, n, k,
                host_scalars ? a_host : *alpha, A, lda, B, ldb, host_scalars ? b_host : *beta, C,
                ldc);
  });
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const double* alpha,
                           const double* A, int lda, const double* B, int ldb, const double* beta,
                           double* C, int ldc) {
  const cublasStatus_t st =
      check_gemm(handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  if (st != CUBLAS_STATUS_SUCCESS || m == 0 || n == 0) return st;
  // Host-mode scalars are read at the call (as cuBLAS does, also when captured into a graph).
  const bool host_scalars = handle->mode == CUBLAS_POINTER_MODE_HOST;
  const double a_host = host_scalars ? *alpha : double(0), b_host = host_scalars ? *beta : double(0);
  nwgf::emu::submit(handle->stream, [=] {
    cblas_dgemm(CblasColMajor, to_cblas(transa), to_cblas(transb), m, n, k,
                host_scalars ? a_host : *alpha, A, lda, B, ldb, host_scalars ? b_host : *beta, C,
                ldc);
  });
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasLtContext;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}
