#pragma once
// Exact pairwise sums across ranks with O(N/P) memory per rank (CPU and CUDA): each rank holds
// only its own rows of X (and a) and its own block of Y (and b), both on the fixed grid of
// owned_row_starts (kernels/pairwise_ranks.hpp: rank q the 64-row blocks [B q / P, B (q + 1) / P)
// of n rows, likewise of m), and gets only its own rows of the result.
//
// Y streams past every rank in chunks, in global column order: chunk k (at most
// chunk_columns columns, within one rank's block) is broadcast by its owner (Comm::ibroadcast),
// double-buffered: chunk k + 1 is posted before chunk k is computed. Each rank sums its rows
// over the stream in the column tiles of the CPU row pass (detail::cpu_column_tile: tiles start
// at multiples of jb in global columns; a tile cut by a chunk's end is completed from the next
// chunk, the cut part carried over), into double row accumulators that persist across chunks.
// So every row gets, bit for bit, what the one-process row pass (kernels/pairwise.cpp,
// cpu_row_pass) gives it, at any rank count and any thread count (threads split a rank's rows
// in 64-row blocks; a row's bits do not depend on the split).
//
// Not the symmetric self pass: with Y = X and d <= 3 one process sums unordered pairs
// (cpu_self_pass, half the work, other bits); the sharded pass always runs the row pass (all
// ordered pairs), so its bits are those of one process's row pass (pair_gradient with Y a copy
// of X), the same at every rank count among sharded runs, not those of pair_gradient(X, X).
//
// Memory per rank: the own rows' accumulators (rows_owned (d + 1) doubles) and two staging
// buffers of (chunk_columns + jb) (d + 1) T, besides the caller's own rows and Y block. Errors
// (memory) are agreed before the stream and after it (a rank whose computation failed keeps
// taking part in every broadcast), so no rank is left waiting.
//
// CUDA backend (ctx a CUDA Context; the views, weights and outputs on its device; comm a
// DeviceComm, engine/comm/nccl_comm.hpp, when P > 1): the same chunks in the same order,
// broadcast by their owners with DeviceComm::device_broadcast into two device staging slots;
// each rank's rows run the CUDA row kernels (kernels/pairwise.cu) chunk after chunk, their
// double sums carried from launch to launch in a device buffer of rows_owned (d + 1) doubles
// (detail::RowCarry; the general-d kernel carries its gradient in grad_own's rows), the chunks
// cut on the kernels' column tiles (128 columns at d <= 3, 16 above; a tile cut by a rank's
// block end is completed from the next chunk, as on the CPU). So every row gets, bit for bit,
// what one GPU process's row pass (pair_gradient, pair_row_sums, pair_row_sums_gradient with Y a
// copy of X) gives it, at any rank count. The energy (out: a host pointer here too) is summed
// on the fixed 64-row grid: each block's rows a_i row_i in row order on the device, the block
// sums gathered and added in global block order on the host: the same bits at every rank count
// (not pair_energy's, whose 128-row launch blocks and tree differ). The owner's packs and the
// broadcasts run on a second stream (engine/device_stream.hpp) beside ctx's, which runs the
// kernels, ordered by events: chunk k + 1's broadcast overlaps chunk k's kernel on the device.
// The stats' compute_seconds is the whole stream's wall time (wait_seconds 0: the host never
// waits for a broadcast). riesz_directional_sharded streams W beside
// Y in the same chunks and runs the chunked CUDA directional kernels, carrying each row's D and
// dD/dv sums the same way: its rows of dD/dv and the coincident count bit for bit one GPU
// process's riesz_directional (its first pass), D summed on the 64-row grid as the energy (the
// same bits at every rank count, not riesz_directional's block tree).
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {

struct ShardedOptions {
  // Columns of Y per broadcast chunk, rounded up to a multiple of the column tile; 0: about
  // 4 MiB of Y per chunk.
  index_t chunk_columns = 0;
  // Test only: stream the chunks in reverse order (the tiles then cut the stream elsewhere and
  // the bits differ from one process's; tests/kernels/test_pairwise_sharded.cpp checks that
  // they do, so the order is what the bitwise checks test).
  bool reverse_chunks = false;
};

// What a sharded pass cost this rank.
struct ShardedStats {
  double compute_seconds = 0;  // summing rows over the chunks
  double wait_seconds = 0;     // blocked waiting for a chunk's broadcast (not hidden by compute)
  std::size_t buffer_bytes = 0;  // accumulators and staging buffers this pass allocated
  index_t chunks = 0;            // chunks streamed
  index_t chunk_columns = 0;     // columns per chunk (at most)
};

// grad_own (+)= scale * dS/dx_i for this rank's rows i of X (n rows in all) against all of Y
// (m rows in all), S = sum_ij a_i b_j k(x_i, y_j) (kernels/pairwise.hpp's pair_gradient).
// x_own, a_own, grad_own: this rank's rows of X (owned_rows(n, rank, P)); y_own, b_own: its rows
// of Y (owned_rows(m, rank, P)); a_own or b_own nullptr: all weights 1.
template <class T>
ShardedStats pair_gradient_sharded(const Context& ctx, const Comm& comm, PairFamily family,
                                   double param, ConstPointsView<T> x_own, const T* a_own,
                                   index_t n, ConstPointsView<T> y_own, const T* b_own, index_t m,
                                   T scale, PointsView<T> grad_own, bool accumulate,
                                   const ShardedOptions& options = {});

// pair_row_sums_gradient (kernels/pairwise.hpp) on this rank's rows: values_own (+)= scale a_i
// sum_j b_j k(x_i, y_j) and grad_own (+)= scale d/dx_i of it, in one pass over the stream (the
// IFT weight step's target values and the next position step's target gradient).
template <class T>
ShardedStats pair_row_sums_gradient_sharded(const Context& ctx, const Comm& comm,
                                            PairFamily family, double param,
                                            ConstPointsView<T> x_own, const T* a_own, index_t n,
                                            ConstPointsView<T> y_own, const T* b_own, index_t m,
                                            T scale, T* values_own, PointsView<T> grad_own,
                                            bool accumulate, const ShardedOptions& options = {});

// The energy S on every rank, bit for bit the one-process row pass's value with ctx's thread
// count (the thread partials of one process are continued rank to rank in row order and summed
// in thread order), and optionally this rank's row sums values_own (+)= scale a_i sum_j b_j k
// (pair_row_sums; null: none).
template <class T>
ShardedStats pair_energy_sharded(const Context& ctx, const Comm& comm, PairFamily family,
                                 double param, ConstPointsView<T> x_own, const T* a_own, index_t n,
                                 ConstPointsView<T> y_own, const T* b_own, index_t m, double* out,
                                 T scale = T(1), T* values_own = nullptr, bool accumulate = false,
                                 const ShardedOptions& options = {});

// The directional derivative D = sum_ij a_i b_j d/dt+ k(x_i + t v_i, y_j + t w_j) at t = 0 of
// the Riesz kernel (kernels/pairwise.hpp's riesz_directional, its first pass: no dD/dw) with
// W streamed beside Y: D on every rank (bit for bit one process's row pass, as the energy; CUDA:
// on the 64-row grid, as the energy), this
// rank's rows grad_v_own (+)= scale dD/dv_i (null data: none), and the coincident pairs of all
// ranks' rows in *coincident (null: not counted); dD/dw: riesz_directional_dw_sharded. x_own, v_own, a_own, grad_v_own: this rank's
// rows of X (n rows in all); y_own, w_own, b_own: its rows of Y (m in all).
template <class T>
ShardedStats riesz_directional_sharded(const Context& ctx, const Comm& comm,
                                       ConstPointsView<T> x_own, ConstPointsView<T> v_own,
                                       const T* a_own, index_t n, ConstPointsView<T> y_own,
                                       ConstPointsView<T> w_own, const T* b_own, index_t m,
                                       double r, double* out, PointsView<T> grad_v_own, T scale,
                                       bool accumulate, index_t* coincident,
                                       const ShardedOptions& options = {});

// riesz_directional's second pass across ranks: this rank's rows grad_w_own (+)= scale dD/dw_j
// of the rows of Y it holds, X and V streaming past (the roles of the first pass swapped: rows of
// Y against X, so the same stream, tiles and carry with the grids of Y and X exchanged). Each
// row bit for bit one process's riesz_directional grad_w (CPU: its row pass with the same
// thread count; CUDA: one GPU process's), at any rank count. Arguments as above.
template <class T>
ShardedStats riesz_directional_dw_sharded(const Context& ctx, const Comm& comm,
                                          ConstPointsView<T> x_own, ConstPointsView<T> v_own,
                                          const T* a_own, index_t n, ConstPointsView<T> y_own,
                                          ConstPointsView<T> w_own, const T* b_own, index_t m,
                                          double r, PointsView<T> grad_w_own, T scale,
                                          bool accumulate, const ShardedOptions& options = {});

}  // namespace nwgf
