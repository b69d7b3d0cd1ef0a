#pragma once
// Error checks for CUDA runtime and cuBLAS calls: failures become nwgf::Error (runtime kind)
// with the library's own reason and the call site, never an abort.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "nwgf/engine/cublas_lib.cuh"
#include "nwgf/engine/error.hpp"

namespace nwgf::detail {

inline void cuda_check(cudaError_t err, const char* what, const char* file, int line) {
  if (err != cudaSuccess) {
    throw Error(ErrorKind::runtime, std::string("CUDA: ") + what + ": " + cudaGetErrorString(err) +
                                        " (" + file + ":" + std::to_string(line) + ")");
  }
}
inline void cublas_check(cublasStatus_t st, const char* what, const char* file, int line) {
  if (st != CUBLAS_STATUS_SUCCESS) {
    throw Error(ErrorKind::runtime, std::string("cuBLAS: ") + what + ": " +
                                        cublas::status_name(st) + " (" + file + ":" +
                                        std::to_string(line) + ")");
  }
}

// Grid size for n items at `threads` per block, capped to keep grid-stride loops efficient.
inline unsigned grid_for(long long n, int threads, long long cap = 65535LL * 32) {
  long long g = (n + threads - 1) / threads;
  if (g < 1) g = 1;
  if (g > cap) g = cap;
  return unsigned(g);
}

}  // namespace nwgf::detail

#define NWGF_CUDA_CHECK(expr) ::nwgf::detail::cuda_check((expr), #expr, __FILE__, __LINE__)
#define NWGF_CUBLAS_CHECK(expr) ::nwgf::detail::cublas_check((expr), #expr, __FILE__, __LINE__)
// After a kernel launch: reports launch-configuration errors without synchronising.
#define NWGF_CUDA_LAUNCH_CHECK() NWGF_CUDA_CHECK(cudaGetLastError())
