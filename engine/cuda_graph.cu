#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/engine/cuda_graph.hpp"
#include "nwgf/engine/error.hpp"

namespace nwgf {

CudaGraph::CudaGraph(const Context& ctx, const std::function<void()>& work) {
  if (!ctx.is_cuda()) throw_runtime("CudaGraph: the context is not on the CUDA device");
  cudaStream_t s = stream_of(ctx);
  NWGF_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  cudaGraph_t graph = nullptr;
  try {
    work();
  } catch (...) {
    // End the (invalidated) capture so the stream works again; the refusal is not sticky.
    if (cudaStreamEndCapture(s, &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    throw;
  }
  const cudaError_t ended = cudaStreamEndCapture(s, &graph);
  if (ended != cudaSuccess) {
    cudaGetLastError();
    throw_runtime(std::string("CudaGraph: the capture failed: ") + cudaGetErrorString(ended) +
                  " (a call in the captured work cannot be captured)");
  }
  cudaGraphExec_t exec = nullptr;
  const cudaError_t made = cudaGraphInstantiate(&exec, graph, 0);
  if (made != cudaSuccess) {
    cudaGraphDestroy(graph);
    NWGF_CUDA_CHECK(made);
  }
  graph_ = graph;
  exec_ = exec;
}

CudaGraph::~CudaGraph() {
  if (exec_) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
  if (graph_) cudaGraphDestroy(static_cast<cudaGraph_t>(graph_));
}

void CudaGraph::replay(const Context& ctx) const {
  if (!ctx.is_cuda()) throw_runtime("CudaGraph: the context is not on the CUDA device");
  NWGF_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), stream_of(ctx)));
}

}  // namespace nwgf
