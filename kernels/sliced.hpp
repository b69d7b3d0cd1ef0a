#pragma once
// Sliced Riesz sums for r = 1 in O(S (N + M) log(N + M)) (paper Sect. 6, "sliced computation").
//
// For K(x, y) = -|x - y| and theta uniform on the sphere S^{d-1}, E_theta |<theta, z>| = |z| / c_d
// with c_d = sqrt(pi) Gamma((d+1)/2) / Gamma(d/2), so for every pair sum
//   sum_ij |x_i - y_j| = c_d E_theta sum_ij |<theta, x_i> - <theta, y_j>|.
// The estimate averages S random directions (Philox normals, normalised). In one dimension, with
// projections p_i = <theta, x_i>, q_j = <theta, y_j>,
//   S_xx(p) = sum_ij |p_i - p_j| = 2 sum_i p_i (#{p_j < p_i} - #{p_j > p_i})
//           = 2 sum_k (2k - N - 1) p_(k)   (p sorted ascending, 1-based k),
//   dS_xx/dp_i = 2 (#{p_j < p_i} - #{p_j > p_i}),
//   S_xy(p, q) = sum_ij |p_i - q_j| = sum_i p_i (#{q_j < p_i} - #{q_j > p_i})
//                                   + sum_j q_j (#{p_i < q_j} - #{p_i > q_j}),
//   dS_xy/dp_i = #{q_j < p_i} - #{q_j > p_i}.
// (Both sums are positively homogeneous of degree 1, so value = sum_i p_i dS/dp_i (Euler); the
// counts come from ranks in the sorted arrays: a tie group at sorted positions [a, b) has
// a elements below and N - b above, i.e. the derivative uses sign(0) = 0 like the exact pairwise
// gradient.) Back to R^d: d/dx_i = sum_s (dS/dp_i)(theta_s) theta_s, a GEMM grad = G^T Theta.
//
// Conventions: r = 1 only; uniform weights (weighted sums would replace the counts by weighted
// prefix sums; not implemented); sums over all pairs, diagonal included (V-statistic,
// CONTRACT.md). The returned sums estimate the exact sums without bias (the c_d factor is applied).
// Cost per evaluation: CPU one sort of the N + M projections per direction (radix, or Highway's
// vectorised quicksort for large f64 sets: kernels/sliced.cpp; directions in parallel over
// threads); CUDA one CUB device radix sort per direction and set.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

// c_d = sqrt(pi) Gamma((d+1)/2) / Gamma(d/2) = 1 / E|theta_1| for theta uniform on S^{d-1}.
double sliced_constant(index_t d);

namespace detail {
// The CPU sort of one direction's N + M projections with their indices (kernels/sliced.cpp):
// LSD radix of a key and an index array, LSD radix of the f32 key packed with its index in one
// u64, or Highway's vectorised quicksort (kernels/vq_sort.hpp).
enum class SlicedCpuSort { pairs, packed, vqsort };

// Everything the evaluation needs, allocated once. Directions are processed in chunks of
// `chunk` so the projections never need S x N memory.
template <class T>
struct SlicedWorkspace {
  index_t max_n = 0, max_m = 0, d = 0;
  int directions = 0;
  int chunk = 0;    // directions per pass
  int threads = 1;  // cpu: threads the scratch is sized for
  // proj_x (and cuda: proj_y, the sorts' buffers) hold the rows of ceil(chunk / proj_parts)
  // directions (the sharded evaluation across proj_parts ranks, kernels/sliced_sharded.hpp;
  // evaluate() needs proj_parts = 1).
  int proj_parts = 1;
  Buffer<T> theta;  // (S, d) unit directions
  Buffer<T>
      proj_x;  // projections, then the 1-D gradients G in their x part; cpu: (chunk,
               // max_n + max_m) x and y side by side (sorted as one union); cuda: (chunk, max_n)
  Buffer<T> proj_y;  // cuda: (chunk, max_m)
  // cpu, pairs sort: per thread 2 (max_n + max_m) keys and indices; cuda: sorted chunk
  // (max_n + max_m), order iota, chunk max_n, max_m.
  Buffer<T> sorted;
  Buffer<std::int32_t> order;
  // cpu, packed and vqsort sorts: per thread 2 (max_n + max_m) u64 (packed: the sorted keys and
  // the radix scratch; vqsort f32: the first half; vqsort f64: max_n + max_m WideKeys).
  Buffer<std::uint64_t> packed;
  SlicedCpuSort cpu_sort = SlicedCpuSort::pairs;  // cpu: chosen once per workspace
  Buffer<unsigned char> sort_temp;                // cuda: CUB temporary storage
  Buffer<double> sums;  // cpu: (S, 2) per-direction S_xx, S_xy (summed in order: deterministic);
                        // cuda: running S_xx, S_xy, then a chunk's block partials
  std::size_t sort_temp_bytes = 0;
};
// The CPU evaluation's steps, which SlicedRiesz::evaluate runs per chunk of directions and
// kernels/sliced_ranks.cpp runs across ranks:
// - project: ws.proj_x (sc, n + m) = [X Theta_c^T | Y Theta_c^T] for directions [c0, c0 + sc);
// - rank: sorts and ranks rows [s0, s1) of ws.proj_x (directions c0 + s) on ctx's threads:
//   ws.sums[2 (c0 + s) + {0, 1}] = that direction's S_xx, S_xy and, when grad, G[s, i] over the
//   row's first n entries;
// - back_project: grad (n, d) = (or += when c0 > 0 or accumulate) (c_d / S) G^T Theta_c;
// - sums: out_xx, out_xy (either may be nullptr) = (c_d / S) times the per-direction sums added
//   in direction order.
template <class T>
void cpu_sliced_project(const Context& ctx, SlicedWorkspace<T>& ws, ConstPointsView<T> x,
                        ConstPointsView<T> y, int c0, int sc);
template <class T>
void cpu_sliced_rank(const Context& ctx, SlicedWorkspace<T>& ws, index_t n, index_t m, int c0,
                     int s0, int s1, T scale_xx, T scale_xy, bool grad);
template <class T>
void cpu_sliced_back_project(const Context& ctx, SlicedWorkspace<T>& ws, index_t n, index_t m,
                             int c0, int sc, PointsView<T> grad, bool accumulate);
template <class T>
void cpu_sliced_sums(const SlicedWorkspace<T>& ws, index_t n, double* out_xx, double* out_xy);
// The name of the workspace's CPU sort ("pairs", "packed", "vqsort"), for benchmarks.
const char* to_string(SlicedCpuSort sort);
// The CUDA evaluation across ranks (kernels/sliced_ranks.cpp): of each chunk of sc directions
// this rank sorts only [sc part / parts, sc (part + 1) / parts); gather (an in-place device
// allgather of one byte range per rank, DeviceComm::device_allgather) then brings it the other
// ranks' sorted rows and their order, and the rest of the chunk (the rank kernels, the sums, the
// back-projection) runs whole on every rank: a sorted row does not depend on who sorts it, so
// every rank gets one GPU's bits. own runs this rank's part of a chunk (the projections and its
// sorts) so that a failure on any rank is every rank's before the gather (collective()).
struct CudaSortSplit {
  int part = 0, parts = 1;
  std::function<void(const std::function<void()>& f)> own;
  std::function<void(void* data, const std::vector<std::size_t>& counts,
                     const std::vector<std::size_t>& offsets)>
      gather;
};
#ifdef NWGF_HAVE_CUDA
template <class T>
void cuda_sliced_prepare(const Context& ctx, SlicedWorkspace<T>& ws);
template <class T>
void cuda_sliced_normalize(const Context& ctx, SlicedWorkspace<T>& ws);
template <class T>
void cuda_sliced_evaluate(const Context& ctx, SlicedWorkspace<T>& ws, ConstPointsView<T> x,
                          ConstPointsView<T> y, double* out_xx, double* out_xy, T scale_xx,
                          T scale_xy, PointsView<T> grad, bool accumulate,
                          const CudaSortSplit* split = nullptr);
// The sharded evaluation's device steps (kernels/sliced_sharded.cpp), on ctx's stream:
// - project_rows: c[s, i] (row stride ldc) = <theta_s, a_i> for s < sc, i < rows (a (rows, d),
//   row stride lda), each a fixed-order sum (sliced_projection: the same bits in any launch);
// - back_project_rows: acc (rows, d) dense doubles = (0 when first, else acc) + G^T Theta_c, G
//   (sc, rows) with row stride ldg, each entry continued direction by direction in double
//   (sliced_back_projection: the same bits however the directions are cut into chunks);
// - finish_rows: grad (rows, d) dense = (or += when accumulate) T(factor acc);
// - copy_rows: dst (h, w), row stride ldd <- src (h, w), row stride lds;
// - rank_directions: ws.proj_x (count, n) and ws.proj_y (count, m) hold count directions' N + M
//   projections (count <= ceil(chunk / proj_parts)); each direction is sorted and ranked on its
//   own (its own launches): G into ws.proj_x when grad, its S_xx and S_xy (c_d not applied) into
//   sums[2 s], sums[2 s + 1] (device), each the fixed-order sum of its blocks' partials.
template <class T>
void cuda_sliced_project_rows(const Context& ctx, const T* theta, int sc, index_t d, const T* a,
                              index_t lda, index_t rows, T* c, index_t ldc);
template <class T>
void cuda_sliced_back_project_rows(const Context& ctx, const T* g, index_t ldg, int sc,
                                   const T* theta, index_t d, index_t rows, bool first,
                                   double* acc);
template <class T>
void cuda_sliced_finish_rows(const Context& ctx, const double* acc, index_t rows, index_t d,
                             double factor, bool accumulate, T* grad);
template <class T>
void cuda_copy_rows(const Context& ctx, T* dst, index_t ldd, const T* src, index_t lds, index_t h,
                    index_t w);
template <class T>
void cuda_sliced_rank_directions(const Context& ctx, SlicedWorkspace<T>& ws, index_t n, index_t m,
                                 int count, T scale_xx, T scale_xy, bool grad, double* sums);
#endif
}  // namespace detail

// The sliced interaction energy of X and potential term against Y, value and gradient wrt X,
// r = 1. One object per (max N, max M, d, S); evaluate allocates nothing.
template <class T>
class SlicedRiesz {
 public:
  // Allocates everything; starts with the directions of draw_directions(ctx, 0, 0, 0).
  // proj_parts > 1: the workspace of sliced_gradient_sharded across that many ranks
  // (kernels/sliced_sharded.hpp): projections (and on CUDA the sorts' buffers) for
  // ceil(chunk / proj_parts) directions only, where the chunk is one process's on the CPU and
  // proj_parts times one GPU's on CUDA (at most S); evaluate() then refuses.
  SlicedRiesz(const Context& ctx, index_t max_n, index_t max_m, index_t d, int directions,
              int proj_parts = 1);

  // Draws S fresh unit directions: normals number [counter S d, (counter + 1) S d) of the Philox
  // stream (seed, stream), each row normalised. Same (seed, stream, counter): same directions on
  // every backend and thread count. Directions stay fixed until the next draw.
  void draw_directions(const Context& ctx, std::uint64_t seed, std::uint64_t stream,
                       std::uint64_t counter);

  // Estimates of S_xx = sum_ij |x_i - x_j| and S_xy = sum_ij |x_i - y_j| (unbiased, c_d applied)
  // written as one double each to out_xx / out_xy on ctx's device (either may be nullptr);
  // grad (N, d) = (or += when accumulate) scale_xx dS_xx/dx + scale_xy dS_xy/dx, skipped when
  // grad.data == nullptr. x (N, d), y (M, d) with N <= max_n, M <= max_m; M may be 0 (S_xy = 0).
  // split: the CUDA backend across ranks (detail::CudaSortSplit); must be nullptr on the CPU.
  void evaluate(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> y, double* out_xx,
                double* out_xy, T scale_xx, T scale_xy, PointsView<T> grad, bool accumulate,
                const detail::CudaSortSplit* split = nullptr);

  int directions() const { return ws_.directions; }
  index_t dim() const { return ws_.d; }
  // The current directions, (S, d) row-major on ctx's device.
  const T* theta() const { return ws_.theta.data(); }
  // The workspace, for the evaluation across ranks (kernels/sliced_ranks.hpp).
  detail::SlicedWorkspace<T>& workspace() { return ws_; }

 private:
  detail::SlicedWorkspace<T> ws_;
};

// Sliced estimate of MMD^2 for r = 1 with P directions from `seed` (stream 0, counter 0), in the
// CONTRACT's V-statistic convention:
//   D^2 = S_xy / (N M) - S_xx / (2 N^2) - S_yy / (2 M^2).
template <class T>
double sliced_mmd2(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> y, int directions,
                   std::uint64_t seed);

}  // namespace nwgf
