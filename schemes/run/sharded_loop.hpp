#pragma once
// run_flow with flow.memory = "sharded": the particle scheme (App. D), the backward and
// forward schemes (Alg. 1 and 2), the ift scheme and the variational scheme on the CPU backend with
// each MPI rank holding only its own rows, O(N/P) memory per rank (README, "MPI runs").
//
// Rank q of P owns the rows owned_rows(N, q, P) of the samples and owned_rows(M, q, P) of the
// target (the fixed 64-row grid of kernels/pairwise_ranks.hpp) and nothing else: it draws them
// (Philox by global row index, the values one process draws for those rows: every kind, a
// mixture's components and a picture's pixels included) or reads them (npy, idx: only those rows
// of the file). A particle step is
//   x_i <- x_i - tau M grad F_M(x)_i   (the particle scheme's update, own rows i),
// its pair sums through pair_gradient_sharded (kernels/pairwise_sharded.hpp: Y streams past every
// rank), each interaction term with its kernel's pair family, energy33's masked Riesz sum on the
// y column; the potential's and energy33's rows per own row; a sum of terms as SumFunctional
// adds them. A backward or forward step trains the network replicated on every rank, as the replicated
// layout does (schemes/schemes.cpp, Scheme::set_sharded): the batch rows, drawn by global index,
// come from their owners (one allgather, then a fixed permutation into batch order), the centre and
// scale of the samples are summed rank to rank in row order, the batch's terms against the
// target run through the sharded passes (make_sharded_target_functional; the forward scheme's
// directional derivative through riesz_directional_sharded), and the push of the
// N samples moves the rows of one process's chunks to the ranks that push them and back. F
// (metrics.csv `functional`) through pair_energy_sharded, computed by every rank. The snapshots
// and checkpoint.bin (with the network's state) are written by all ranks together, each its rows
// (the same bytes as one process's files), and --resume reads only the own rows, at any rank
// count.
//
// Bits: the sharded pair passes run the row pass over all ordered pairs, so a sharded run gives
// the same snapshots, checkpoint and metrics (but wall_seconds) at every rank count P = 1, 2,
// ...; the particle scheme's equal the replicated run's where one process runs the row pass too
// (d > 3), and differ in the last bits for d <= 3, where one process sums unordered pairs (the
// self pass). The neural schemes' snapshots and checkpoint are the replicated run's at any d
// (F enters only the metrics); its metrics `functional` and `loss` (through E_K(nu)) differ in
// the last bits for d <= 3.
//
// The sliced estimator (particle scheme, Riesz r = 1): the gradient through
// sliced_gradient_sharded (kernels/sliced_sharded.hpp: own rows projected, two transposes), the
// step's directions those of the replicated particle scheme; F and E_K(nu) through the same
// sliced sums, with one fixed draw of directions for every evaluation (the replicated run
// evaluates F exactly). Its bits are the same at every rank count among sharded runs; against
// the replicated run the projections (one GEMM over all rows there) may differ in the last bit.
//
// The ift scheme (schemes/ift/ift_scheme.hpp): each rank also holds its rows of the weights.
// The position step's witness gradient through pair_gradient_sharded (the particle scheme's
// step while the weights are uniform without noise or resampling, as IftScheme), the weight
// step's witness from the own rows' row sums of pair_energy_sharded (X against X) and of
// pair_row_sums_gradient_sharded (the target; its gradient kept for the next position step, as
// IftScheme's cache), the pgd / kl / qp steps and the weight metrics across ranks by sums in
// row order (schemes/ift/weight_ranks.hpp: the simplex projection by bisection; qp's FISTA with
// each product K v a pair pass); noise and fresh target samples drawn by global index. The weights
// go into weights_NNNNNN.npy and the checkpoint's trailer (IftScheme::state's layout), written
// and read by rows. Its bits are the same at every rank count; against the replicated run the
// same for kl (sum) at d > 3, to rounding otherwise (the projection's sum order, the self pass).
//
// The variational scheme (schemes/variational/variational_scheme.hpp, set_sharded): the map and
// the critic train replicated, on batches gathered from their owners in batch order
// (schemes/sharded_rows.hpp), with Gamma's Gaussian moments summed in row order rank to rank
// (moment_fit_rows) or its box from an exact maximum; the estimate of F and the push run one
// process's chunks, their rows moved to the ranks that run them and back; fb's forward step and
// the interaction terms' value through pair_gradient_sharded / pair_energy_sharded. Its metrics
// from the own rows (symkl_*, mixture_tv, ring_radius by ordered sums and counts;
// energy_distance by sharded pair passes; w1_semicircle, d = 1, from the samples gathered
// on rank 0). Its bits are
// the same at every rank count and the replicated run's, but for the interaction terms at d <= 3
// (the self pass: fb's samples, the reported value).
//
// Runs: flow.scheme = "particle" with every functional it takes (exact: interaction with any
// kernel, mmd and barycenter with the Riesz or Gaussian kernel, energy33, the potential, sums;
// sliced: interaction, mmd, barycenter with the Riesz kernel); flow.scheme = "backward" or
// "forward" with the exact Riesz functionals and energy33; flow.scheme = "ift" (the MMD, Riesz
// or Gaussian, exact), every weight step; flow.scheme = "variational" with every functional it
// takes (kl, entropy, potential, interaction with any kernel W, sums; fb; MLP or ICNN maps);
// every measure kind. Refused (bad input naming the key, config_validate.cpp and here): the
// sliced estimator outside the particle scheme's Riesz MMD flows or with targets of unequal
// weights (on either backend), a RunOptions::on_step callback, and more ranks than samples.
// RunOptions::observers get start (with no initial samples: rows 0) and finish, never the
// snapshots. RunResult::samples holds this rank's own rows.
//
// --backend cuda runs every scheme sharded: each rank's pair passes on its GPU
// (kernels/pairwise_sharded.hpp's CUDA path: own rows on the device, Y's chunks broadcast over
// NCCL on a second stream beside the row kernels), O(N/P) device memory per rank; the particle
// scheme's term-by-term functionals (kernels W, the potential, energy33, sums) term by term on
// the device; its sliced estimator through sliced_gradient_sharded's CUDA path (device
// all-to-alls); the ift scheme with its weight steps' pair passes there too. Positions, weights,
// snapshots, checkpoint and metrics stay on the host as in the CPU sharded run: each pass's own
// rows go up and its outputs come down, the staging inside a collective (a rank out of GPU
// memory fails every rank). The backward, forward and variational schemes train on each rank's
// GPU (Scheme::set_sharded with the GPU's Context and the DeviceComm): the own rows go up for a
// step and come down pushed, the batch and chunk rows move between ranks through host copies
// (ShardedRows, bytes over MPI), the terms against the target or between particles run through
// the CUDA sharded passes. Bits: the same at every rank count among sharded CUDA runs
// (snapshots, weights, checkpoint, metrics); against the CPU sharded run they differ in the last
// bits (the CUDA kernels' tiles and sums; the training carries that on).
#include "nwgf/schemes/flow.hpp"

namespace nwgf {

RunResult run_flow_sharded(const FlowConfig& cfg, const RunOptions& opt);

}  // namespace nwgf
