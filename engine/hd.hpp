#pragma once
// NWGF_HD marks per-element math that both backends run: `__host__ __device__` under nvcc,
// nothing under a plain C++ compiler. Every kernel family keeps its arithmetic in headers of
// NWGF_HD functions; the CPU loops and the CUDA kernels call the same functions.
#if defined(__CUDACC__)
#define NWGF_HD __host__ __device__ __forceinline__
#define NWGF_DEVICE_CODE 1
#else
#define NWGF_HD inline
#endif
