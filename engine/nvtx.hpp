#pragma once
// NVTX ranges around phases, for Nsight Systems. With the CUDA backend built these are NVTX3
// push/pop calls (nearly free with no profiler attached); without it they compile to nothing.
// Code marks phases with TraceSpan (engine/trace.hpp), which holds one of these: the phase names
// are defined there once, and the span also records into a run's trace.
#ifdef NWGF_HAVE_CUDA
#include <nvtx3/nvToolsExt.h>
#endif

namespace nwgf {

inline void nvtx_push(const char* name) {
#ifdef NWGF_HAVE_CUDA
  nvtxRangePushA(name);
#else
  (void)name;
#endif
}

inline void nvtx_pop() {
#ifdef NWGF_HAVE_CUDA
  nvtxRangePop();
#endif
}

class NvtxRange {
 public:
  explicit NvtxRange(const char* name) { nvtx_push(name); }
  ~NvtxRange() { nvtx_pop(); }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace nwgf
