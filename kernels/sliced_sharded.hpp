#pragma once
// The sliced Riesz sums and gradient (kernels/sliced.hpp, r = 1) across ranks with O((N + M)/P)
// memory per rank (CPU backend): each rank holds only its own rows of X and of Y, on the fixed
// 64-row grid of owned_row_starts (kernels/pairwise_ranks.hpp, as kernels/pairwise_sharded.hpp),
// and gets only its own rows of the gradient. Per chunk of directions c0 .. c0 + sc (one
// process's chunks: SlicedRiesz's chunk depends on N + M and the thread count, not on P):
//   1. each rank projects its own rows of X and Y on the chunk's sc directions, one GEMM per
//      64-row block of the grid (the same calls, so the same bits, whoever owns the block);
//   2. a transpose (Comm::alltoallv) gives rank q all N + M projections of its directions
//      [sc q / P, sc (q + 1) / P) of the chunk;
//   3. rank q sorts and ranks them (detail::cpu_sliced_rank, the one-process per-direction code):
//      each direction's sums S_xx, S_xy and 1-D gradient G[s, .];
//   4. a second transpose sends each row owner its rows of G of every direction of the chunk;
//   5. each rank back-projects its own rows, again one GEMM per 64-row block.
// The per-direction sums (when asked for) are allgathered and added in direction order on every
// rank, as one process adds them.
//
// Bits: the same at every rank count P (one process included: P = 1 runs the same blocks) and
// thread count held fixed, for the gradient and the sums. Not necessarily those of
// SlicedRiesz::evaluate (one GEMM over all rows: OpenBLAS may round a row of a larger call
// differently, see kernels/sliced_ranks.hpp), so a projection may differ in its last bit, and
// where that swaps two nearly tied projections, G differs by one count. In every case tried here
// (OpenBLAS 0.3.21, d = 1..784; N up to 20000 for the gradient, 1e6 for the sums) the bits were
// the same; tests/kernels/test_sliced_sharded.cpp bounds the difference rather than requiring 0.
//
// On the CUDA backend (ctx a CUDA Context; x_own, y_own and grad_own on its device, out_xx and
// out_xy host pointers; comm a DeviceComm when P > 1): the same five steps on this rank's GPU.
// The projections and back-projections are fixed-order sums per entry
// (detail::cuda_sliced_project_rows, cuda_sliced_back_project_rows: sliced_projection, and
// sliced_back_projection continued over all S directions in double, rounded to T once at the
// end), not cuBLAS GEMMs, so a row's projections and gradient have the same bits whichever rows
// a launch covers and however the directions are cut into chunks; the transposes are
// DeviceComm::device_alltoallv (grouped ncclSend/ncclRecv, device to device); each direction is
// sorted and ranked by the CUDA sliced kernels one direction per launch
// (detail::cuda_sliced_rank_directions: CUB radix sorts, the rank kernels, its sums from its own
// blocks' partials); the per-direction sums come down, are allgathered on the host and added in
// direction order. So nothing depends on the chunk, and the CUDA workspace's chunk grows with P
// (SlicedRiesz: P times the directions one GPU's budget holds, so every rank sorts some of each
// chunk). Bits: the same at every rank count among CUDA sharded runs; not one GPU process's
// SlicedRiesz::evaluate (cuBLAS projections, sums over blocks that span a chunk's directions),
// which they match to rounding (a projection's last bits, and where that swaps two nearly tied
// projections, G by one count).
// Memory per rank on CUDA: its own rows; the workspace (ceil(chunk / P) directions of N + M
// projections and their sorts); the transposes' buffers (chunk (N + M) / P, ceil(chunk / P)
// (N + M), chunk N / P values) and the back-projection's rows (d) doubles.
//
// Memory per rank: its own rows (X, Y, grad); the workspace (SlicedRiesz built with
// proj_parts = P: ceil(chunk / P) rows of N + M projections, the sort's scratch of
// 2 (N + M) per thread); the received projections, ceil(sc / P) (N + M) (none at P = 1: one
// rank's projections are one process's rows, and the transposes are skipped). The own projections
// (sc (N + M) / P) and the received G (sc N / P) use the workspace's rows where they fit (a rank
// with more than its share of rows: buffers of their own). Errors in a rank's part are agreed
// (collective()) before each exchange, so no rank is left waiting.
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/kernels/sliced.hpp"

namespace nwgf {

// The transposes' space, grown on demand and kept between calls (the CUDA backend's on the
// device, with the own directions' sums of a chunk and their host copy).
template <class T>
struct SlicedShardedBuffers {
  std::vector<T> send, recv, g;
  Buffer<T> device_send, device_recv, device_g;
  Buffer<double> device_sums, device_acc;
  std::vector<double> sums;
};

// Tests and benchmarks only.
struct SlicedShardedOptions {
  // Broken on purpose (the tests see it): the first transpose sends rank r the part meant for
  // rank P - 1 - r.
  bool swap_transpose = false;
  // One GEMM over the rank's rows for each projection and back-projection instead of one per
  // 64-row block (`nwgf bench sliced --sharded --one-gemm`, to time the blocks against): the
  // bits may then depend on P.
  bool one_gemm = false;
};

// out_xx, out_xy (either may be nullptr: on every rank, bit for bit alike) = the estimates of
// S_xx = sum_ij |x_i - x_j| and S_xy = sum_ij |x_i - y_j| (c_d applied, as SlicedRiesz), and
// grad_own (rows, d) = (or += when accumulate) scale_xx dS_xx/dx_i + scale_xy dS_xy/dx_i for this
// rank's rows i (skipped when grad_own.data == nullptr), with the directions drawn in sliced.
// x_own: this rank's rows of X (owned_rows(n, rank, P)), y_own its rows of Y
// (owned_rows(m, rank, P)); n, m the global counts (m may be 0). sliced: built alike on every rank
// with max_n >= n, max_m >= m and proj_parts = comm.size(), the same directions drawn. grad_own
// must be dense (ld = d).
template <class T>
void sliced_gradient_sharded(const Context& ctx, const Comm& comm, SlicedRiesz<T>& sliced,
                             ConstPointsView<T> x_own, index_t n, ConstPointsView<T> y_own,
                             index_t m, double* out_xx, double* out_xy, T scale_xx, T scale_xy,
                             PointsView<T> grad_own, bool accumulate,
                             SlicedShardedBuffers<T>& buffers,
                             const SlicedShardedOptions& options = {});

}  // namespace nwgf
