#pragma once
// The pairwise gradient across the ranks of a communicator (engine/comm/comm.hpp).
// Every rank passes the same X, a, Y, b and the same (N, d) grad, and every rank gets the whole
// result, bit for bit what pair_gradient (kernels/pairwise.hpp) gives in one process with ctx's
// thread count:
//   - the self pass (Y = X, d <= 3, a = b: unordered pairs, per-thread (N, d) buffers added in
//     thread order) splits by its threads: rank q computes the buffers of threads
//     [nt q / P, nt (q + 1) / P) of nt = min(threads, blocks of 256 rows); the running sum passes
//     rank 0 -> 1 -> ... -> P-1 (each adds its threads in order) and the last rank broadcasts it.
//     Only nt ranks get work: give --threads >= P.
//   - every other pass owns rows: rank q the row blocks [B q / P, B (q + 1) / P) of the fixed
//     grid of 64-row blocks (B of them), whose rows sum over all of Y in the order of one process;
//     the rows are then allgathered.
// CUDA backend (comm must be a DeviceComm, engine/comm/nccl_comm.hpp): every pass owns rows on
// the same grid (the CUDA rows do not depend on the launch's row range) and the rows are
// allgathered on the device over NCCL, so the result is that of one GPU process, bit for bit.
// X and Y are held whole on every rank (O(N d) memory per rank in this version). Errors in a
// rank's part are agreed (collective()) before any exchange, so no rank is left waiting.
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {

template <class T>
void pair_gradient_ranks(const Context& ctx, const Comm& comm, PairFamily family, double param,
                         ConstPointsView<T> x, const T* a, ConstPointsView<T> y, const T* b,
                         T scale, PointsView<T> grad, bool accumulate);

}  // namespace nwgf
