#pragma once
// The sliced Riesz sums and gradient (kernels/sliced.hpp, r = 1) across the ranks of a
// communicator (engine/comm/comm.hpp). Every rank passes the same x, y, grad and a
// SlicedRiesz built alike with the same directions drawn; every rank gets the whole result, bit
// for bit what SlicedRiesz::evaluate gives in one process with ctx's thread count. Per chunk of
// directions (one process's chunks, c0 .. c0 + sc):
//   1. every rank projects all N + M points on the chunk's directions (the one-process GEMM);
//   2. rank r sorts and ranks the directions [sc r / P, sc (r + 1) / P) of the chunk: a
//      direction's sums and 1-D gradient G[s, .] do not depend on who computes them;
//   3. a transpose (Comm::alltoallv, bytes only) sends each row owner its rows' G[s, i] of every
//      direction; rank q owns the rows of the 64-row blocks [B q / P, B (q + 1) / P) of the fixed
//      grid (B blocks), as kernels/pairwise_ranks.hpp;
//   4. every rank back-projects with the one-process GEMM, which is right in its own rows.
// Then the rows are allgathered, and the per-direction sums (when asked for) allgathered and
// added in direction order, as one process adds them.
//
// Why the GEMMs keep one process's shape (steps 1 and 4) instead of each rank projecting only its
// rows: OpenBLAS rounds a row of C differently when the call has fewer rows (other kernels for
// small shapes, other blockings: with 0.3.21 here, rows split on this grid differed from the
// whole call in f32 or f64 in 191 of 396 cases, N = 300..20000, d = 1..784, S = 32..256,
// P = 2..4, 1 or 2 threads), so a rank's own rows would not have one process's bits. A row of C
// depends only on its own row of the operand, so the rows of G a rank does not own may hold
// anything (its stale projections). Cost per rank: the sorts (the bulk for small d) / P; the two
// GEMMs, O(S (N + M) d), on every rank; the transpose moves S N / P entries per rank.
//
// CUDA backend (comm must be a DeviceComm): the sorts of each chunk split by directions as in
// step 2, the sorted rows and their order gathered over NCCL, and every rank runs the rest of the
// chunk whole (the rank kernels, the sums, the back-projection): one GPU's bits. The sorts are
// divided by P; every rank receives S (2 N + M) values per step.
//
// X and Y are held whole on every rank (O((N + M) d) memory per rank, as the particle scheme holds
// them). Errors in a rank's part are agreed (collective()) before each exchange.
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/kernels/sliced.hpp"

namespace nwgf {

// Send and receive space of the transpose, grown on demand and kept between calls.
template <class T>
struct SlicedRanksBuffers {
  std::vector<T> send, recv;
};

// sliced.evaluate(ctx, x, y, out_xx, out_xy, scale_xx, scale_xy, grad, accumulate) across the
// ranks of comm (one rank: exactly that call). grad, when given, must be a dense (N, d) view.
template <class T>
void sliced_gradient_ranks(const Context& ctx, const Comm& comm, SlicedRiesz<T>& sliced,
                           ConstPointsView<T> x, ConstPointsView<T> y, double* out_xx,
                           double* out_xy, T scale_xx, T scale_xy, PointsView<T> grad,
                           bool accumulate, SlicedRanksBuffers<T>& buffers);

}  // namespace nwgf
