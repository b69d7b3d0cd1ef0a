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
// Any family runs (Riesz, Gaussian, the interaction kernels). The views may be strided (ld > d,
// e.g. one column of an (N, 2) matrix, energy33's y coordinates). On the CPU the gradient rows
// are then gathered through a packed copy and the entries between them are left as each rank
// has them; on CUDA each rank's span of grad from its first row to its last is gathered whole,
// so the entries between the rows must be the same on every rank beforehand (the caller's
// replicated part: energy33's potential column).
#include <utility>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {

// The rank boundaries of the fixed row grid above: rank r of `ranks` owns the rows
// [first[r], first[r + 1]) of n, the 64-row blocks [B r / ranks, B (r + 1) / ranks) of the B
// blocks of the CPU row pass (ranks + 1 entries; the last is n).
std::vector<index_t> owned_row_starts(index_t n, int ranks);
// Rank `rank`'s rows [first, second) of that grid.
std::pair<index_t, index_t> owned_rows(index_t n, int rank, int ranks);

template <class T>
void pair_gradient_ranks(const Context& ctx, const Comm& comm, PairFamily family, double param,
                         ConstPointsView<T> x, const T* a, ConstPointsView<T> y, const T* b,
                         T scale, PointsView<T> grad, bool accumulate);

// The energy pass (pair_energy) and riesz_directional across ranks, for the batch terms of the
// neural schemes: every rank passes the same arguments and gets the whole result (the value, the
// coincident-pair count, grad_v and grad_w), bit for bit the one-process result with ctx's thread
// count. They split the one-process pass by its threads: rank q runs the rows of threads
// [nt q / P, nt (q + 1) / P) of nt = cpu_row_threads(threads) (each thread's rows a contiguous
// range on the 64-row grid, its partial summed from 0 in row order, as that thread would), the
// partials, counts and gradient rows are allgathered and every rank sums the partials in thread
// order. Only nt ranks get work: give --threads >= P. The self energy pass (Y = X, d <= 3, the
// unordered pairs) is not split: every rank runs it whole.
// On the CUDA backend these four run whole on every rank (replicated): the CUDA pass sums one
// double per 128-row launch block and then all blocks in one ordered sum whose grouping depends
// on the block count, and the directional pass writes its gradients with the value, so a split
// on the 64-row grid would not give one GPU process's bits. They are the small batch terms.
template <class T>
void pair_energy_ranks(const Context& ctx, const Comm& comm, PairFamily family, double param,
                       ConstPointsView<T> x, const T* a, ConstPointsView<T> y, const T* b,
                       double* out);
// pair_row_sums and pair_row_sums_gradient (kernels/pairwise.hpp) across ranks, split the same
// way (the weighted particles of the ift scheme); values (and grad) whole on every rank. The
// self row sums (Y = X, d <= 3), and every pass on CUDA, run whole on every rank.
template <class T>
void pair_row_sums_ranks(const Context& ctx, const Comm& comm, PairFamily family, double param,
                         ConstPointsView<T> x, const T* a, ConstPointsView<T> y, const T* b,
                         T scale, T* values, bool accumulate);
template <class T>
void pair_row_sums_gradient_ranks(const Context& ctx, const Comm& comm, PairFamily family,
                                  double param, ConstPointsView<T> x, const T* a,
                                  ConstPointsView<T> y, const T* b, T scale, T* values,
                                  PointsView<T> grad, bool accumulate);
template <class T>
void riesz_directional_ranks(const Context& ctx, const Comm& comm, ConstPointsView<T> x,
                             ConstPointsView<T> v, const T* a, ConstPointsView<T> y,
                             ConstPointsView<T> w, const T* b, double r, double* out,
                             PointsView<T> grad_v, PointsView<T> grad_w, T scale, bool accumulate,
                             index_t* coincident);

}  // namespace nwgf
