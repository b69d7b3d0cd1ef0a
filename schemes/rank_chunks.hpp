#pragma once
// The neural and variational schemes across ranks (README, "MPI runs"): the passes over all N
// particles (the push through the network, x + alpha net(x, z) or P_{k+1} = T_k # P_k, and the
// variational estimate of F) walk a fixed grid of row chunks in one process
// (C chunks of `chunk` rows, the last shorter; the network's shape per call, so the rows get
// their one-process bits whichever rank runs them). Rank q of P runs the chunks
// [C q / P, C (q + 1) / P); the pushed rows, and the per-chunk sums of the estimate, are then
// allgathered (bytes only: no float is reduced by MPI), so every rank holds what one process
// computes. With one rank (or no comm) rank 0 runs every chunk and nothing is exchanged.
#include <algorithm>
#include <cstddef>
#include <functional>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

class RankChunks {
 public:
  RankChunks(const Comm* comm, index_t n, index_t chunk)
      : comm_(comm && comm->size() > 1 ? comm : nullptr),
        ranks_(comm_ ? comm_->size() : 1),
        rank_(comm_ ? comm_->rank() : 0),
        n_(n),
        chunk_(chunk),
        chunks_((n + chunk - 1) / chunk) {}

  index_t chunks() const { return chunks_; }
  index_t first_row(index_t c) const { return std::min(n_, c * chunk_); }
  index_t rows(index_t c) const { return first_row(c + 1) - first_row(c); }
  // The first chunk of rank r (r = P: C).
  index_t first_chunk(int r) const { return chunks_ * r / ranks_; }

  // f(c) for this rank's chunks in order; with ranks, its failure is agreed (collective()) before
  // any exchange, so no rank is left waiting in one.
  void each_own(const std::function<void(index_t)>& f) const {
    const auto run = [&] {
      for (index_t c = first_chunk(rank_); c < first_chunk(rank_ + 1); ++c) f(c);
    };
    if (comm_) {
      collective(*comm_, run);
    } else {
      run();
    }
  }

  // data: (n, cols) rows whose own chunks this rank has written; afterwards every rank holds all.
  // On the CUDA backend data is on the device and comm must be a DeviceComm: the rows move over
  // NCCL on ctx's stream (engine/comm/nccl_comm.hpp).
  template <class T>
  void allgather_rows(const Context& ctx, T* data, index_t cols) const {
    if (!comm_) return;
    std::vector<std::size_t> counts(static_cast<std::size_t>(ranks_)), offsets(counts.size());
    for (int r = 0; r < ranks_; ++r) {
      const index_t a = first_row(first_chunk(r)), b = first_row(first_chunk(r + 1));
      offsets[std::size_t(r)] = std::size_t(a * cols) * sizeof(T);
      counts[std::size_t(r)] = std::size_t((b - a) * cols) * sizeof(T);
    }
    if (ctx.is_cuda()) {
      const auto* device = dynamic_cast<const DeviceComm*>(comm_);
      if (!device) throw_runtime("RankChunks: the CUDA backend across ranks needs NCCL");
      device->device_allgather(data, counts, offsets);
      return;
    }
    comm_->allgather(data, counts, offsets);
  }

  // values: (C, per) doubles, this rank's chunks' rows written; afterwards every rank holds all.
  void allgather_chunk_values(std::vector<double>& values, index_t per) const {
    if (!comm_) return;
    std::vector<std::size_t> counts(static_cast<std::size_t>(ranks_)), offsets(counts.size());
    for (int r = 0; r < ranks_; ++r) {
      const index_t a = first_chunk(r), b = first_chunk(r + 1);
      offsets[std::size_t(r)] = std::size_t(a * per) * sizeof(double);
      counts[std::size_t(r)] = std::size_t((b - a) * per) * sizeof(double);
    }
    comm_->allgather(values.data(), counts, offsets);
  }

 private:
  const Comm* comm_;
  int ranks_, rank_;
  index_t n_, chunk_, chunks_;
};

}  // namespace nwgf
