#pragma once
// cuBLAS loaded on first use (dlopen), not linked: every process of a CUDA build used to map and
// relocate libcublas and libcublasLt at start-up (~70 ms of CPU and 25,000 page faults per
// process on the development machine, measured with `perf stat` on a dlopen of the library),
// paid by `nwgf --version`, every CPU-backend run and every test process. Now only a process that
// creates a CUDA context loads the library. The CUDA emulation build calls the emulator's fakes
// directly. Only .cu files include this.
#include <cublas_v2.h>

namespace nwgf::cublas {

// The cuBLAS functions the engine calls, resolved once (thread-safe). Throws nwgf::Error
// (runtime kind) naming the library and the loader's reason when it cannot be loaded.
struct Api {
  decltype(&::cublasCreate) create = nullptr;
  decltype(&::cublasDestroy) destroy = nullptr;
  decltype(&::cublasSetStream) set_stream = nullptr;
  decltype(&::cublasSetPointerMode) set_pointer_mode = nullptr;
  decltype(&::cublasSgemm) sgemm = nullptr;
  decltype(&::cublasDgemm) dgemm = nullptr;
  decltype(&::cublasGetStatusString) status_string = nullptr;
};
const Api& api();

// The status's name from the library when it is loaded, else its number.
const char* status_name(cublasStatus_t status) noexcept;

}  // namespace nwgf::cublas
