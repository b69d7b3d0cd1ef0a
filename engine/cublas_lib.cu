#include "nwgf/engine/cublas_lib.cuh"

#include <atomic>
#include <mutex>
#include <string>

#include "nwgf/engine/error.hpp"

#if !defined(NWGF_CUDA_EMULATE)
#include <dlfcn.h>
#endif

#define NWGF_CUBLAS_NAME_(x) #x
#define NWGF_CUBLAS_NAME(x) NWGF_CUBLAS_NAME_(x)
// The soname of the cuBLAS this file is compiled against (cublas_api.h's major version).
#if !defined(NWGF_CUDA_EMULATE)
#define NWGF_CUBLAS_SONAME "libcublas.so." NWGF_CUBLAS_NAME(CUBLAS_VER_MAJOR)
#endif

namespace nwgf::cublas {
namespace {

Api loaded;
std::once_flag once;
std::string failure;
std::atomic<bool> ready{false};

#if defined(NWGF_CUDA_EMULATE)
void load() {
  loaded.create = &::cublasCreate;
  loaded.destroy = &::cublasDestroy;
  loaded.set_stream = &::cublasSetStream;
  loaded.set_pointer_mode = &::cublasSetPointerMode;
  loaded.sgemm = &::cublasSgemm;
  loaded.dgemm = &::cublasDgemm;
  loaded.status_string = &::cublasGetStatusString;
  ready = true;
}
#else
// The exported name behind each function: cublas_v2.h maps cublasCreate to cublasCreate_v2 and
// so on by macros, so the symbol is the macro's expansion (NWGF_CUBLAS_NAME).
template <class F>
bool resolve(void* lib, const char* name, F& f) {
  f = reinterpret_cast<F>(::dlsym(lib, name));
  if (!f) failure = std::string("cuBLAS: ") + name + " not found in " + NWGF_CUBLAS_SONAME;
  return f != nullptr;
}

void load() {
  // The soname of the toolkit the engine was built with; then the toolkit's own directory, for
  // a toolkit outside the loader's search path (how the build found it).
  void* lib = ::dlopen(NWGF_CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    failure = std::string("cuBLAS could not be loaded: ") + ::dlerror();
#if defined(NWGF_CUBLAS_LIBRARY_DIR)
    lib = ::dlopen(NWGF_CUBLAS_LIBRARY_DIR "/" NWGF_CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
#endif
    if (!lib) return;
  }
  // Kept loaded for the life of the process (handles may outlive any one context).
  ready = resolve(lib, NWGF_CUBLAS_NAME(cublasCreate), loaded.create) &&
          resolve(lib, NWGF_CUBLAS_NAME(cublasDestroy), loaded.destroy) &&
          resolve(lib, NWGF_CUBLAS_NAME(cublasSetStream), loaded.set_stream) &&
          resolve(lib, NWGF_CUBLAS_NAME(cublasSetPointerMode), loaded.set_pointer_mode) &&
          resolve(lib, NWGF_CUBLAS_NAME(cublasSgemm), loaded.sgemm) &&
          resolve(lib, NWGF_CUBLAS_NAME(cublasDgemm), loaded.dgemm) &&
          resolve(lib, NWGF_CUBLAS_NAME(cublasGetStatusString), loaded.status_string);
}
#endif

}  // namespace

const Api& api() {
  std::call_once(once, load);
  if (!ready) throw Error(ErrorKind::runtime, failure);
  return loaded;
}

const char* status_name(cublasStatus_t status) noexcept {
  if (ready && loaded.status_string) return loaded.status_string(status);
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    default: return "cuBLAS status (unnamed)";
  }
}

}  // namespace nwgf::cublas
