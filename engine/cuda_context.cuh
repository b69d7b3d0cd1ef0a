#pragma once
// The CUDA side of a Context; only .cu files include this.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "nwgf/engine/backend.hpp"

namespace nwgf {

struct CudaHandles {
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
};

inline cudaStream_t stream_of(const Context& ctx) { return ctx.cuda()->stream; }

}  // namespace nwgf
