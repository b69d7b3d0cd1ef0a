#pragma once
// NVTX ranges around phases, for Nsight Systems. With the CUDA backend built these are NVTX3
// push/pop calls (nearly free with no profiler attached); without it they compile to nothing.
#ifdef NWGF_HAVE_CUDA
#include <nvtx3/nvToolsExt.h>
#endif

namespace nwgf {

class NvtxRange {
 public:
  explicit NvtxRange(const char* name) {
#ifdef NWGF_HAVE_CUDA
    nvtxRangePushA(name);
#else
    (void)name;
#endif
  }
  ~NvtxRange() {
#ifdef NWGF_HAVE_CUDA
    nvtxRangePop();
#endif
  }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace nwgf
