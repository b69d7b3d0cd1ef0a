#pragma once
// A CUDA graph of the work one call enqueues on a CUDA Context's stream (builds with the CUDA
// backend only; defined in engine/cuda_graph.cu). The capture records the kernels, async copies
// and fills, cuBLAS and CUB calls without running them; replay() enqueues them again, in order,
// with the arguments they had at capture: the same buffers and the same scalars (a step number
// or a learning rate baked in at capture stays baked in). Work that cannot be captured (an
// allocation, a download, a synchronisation) fails the capture, and the constructor throws
// nwgf::Error with the call's reason. Run the work once eagerly first: workspaces that grow on
// first use allocate then, not during the capture.
#include <functional>

#include "nwgf/engine/backend.hpp"

namespace nwgf {

class CudaGraph {
 public:
  // Captures what work() enqueues on ctx's stream (ctx must be a CUDA context).
  CudaGraph(const Context& ctx, const std::function<void()>& work);
  ~CudaGraph();
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Enqueues the captured work on ctx's stream (no synchronisation).
  void replay(const Context& ctx) const;

 private:
  void* graph_ = nullptr;  // cudaGraph_t
  void* exec_ = nullptr;   // cudaGraphExec_t
};

}  // namespace nwgf
