#pragma once
// Samples split by rows across ranks (flow.memory = "sharded", schemes/run/sharded_loop.hpp):
// rank q holds the rows [first_q, first_{q+1}) of the fixed 64-row grid (owned_row_starts,
// kernels/pairwise_ranks.hpp). The neural and variational schemes train replicated and push in
// one process's chunks; what they read of all N rows is moved so that every rank computes one
// process's bits:
//   gather       rows by global index (any order, repeats allowed) on every rank, in that
//                order: each rank packs the ones it owns in that order, one allgather (bytes)
//                puts the packs one after another, a fixed permutation (rank of the owner, place
//                in its pack) restores the order;
//   to_chunks    the rows of this rank's chunks of a RankChunks grid (rank_chunks.hpp) from their
//   from_chunks  owners, and back (all-to-alls of contiguous row ranges): O(N/P + chunk) rows.
// Bytes only: no float is combined by MPI.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "nwgf/schemes/rank_chunks.hpp"

namespace nwgf {

template <class T>
class ShardedRows {
 public:
  ShardedRows() = default;
  ShardedRows(const Comm& comm, index_t n)
      : comm_(&comm), n_(n), starts_(owned_row_starts(n, comm.size())) {}

  index_t first() const { return starts_[std::size_t(comm_->rank())]; }
  index_t last() const { return starts_[std::size_t(comm_->rank()) + 1]; }
  index_t rows() const { return last() - first(); }

  // The rows `want` (global indices) of the samples (own: this rank's rows, d columns) on every
  // rank, in the order of `want` (want.size() rows; valid until the next call).
  const T* gather(const T* own, index_t d, const std::vector<index_t>& want) {
    const int ranks = comm_->size(), me = comm_->rank();
    const std::size_t count = want.size(), row_bytes = std::size_t(d) * sizeof(T);
    std::vector<int> owner(count);
    std::vector<std::size_t> place(count), members(std::size_t(ranks), 0);
    for (std::size_t k = 0; k < count; ++k) {
      owner[k] = owner_of(want[k]);
      place[k] = members[std::size_t(owner[k])]++;
    }
    std::vector<std::size_t> counts(static_cast<std::size_t>(ranks)),
        offsets(static_cast<std::size_t>(ranks));
    std::size_t at = 0;
    for (int r = 0; r < ranks; ++r) {
      offsets[std::size_t(r)] = at * row_bytes;
      counts[std::size_t(r)] = members[std::size_t(r)] * row_bytes;
      at += members[std::size_t(r)];
    }
    packed_.resize(count * std::size_t(d));
    gathered_.resize(count * std::size_t(d));
    const index_t own0 = first();
    for (std::size_t k = 0; k < count; ++k) {
      if (owner[k] != me) continue;
      std::memcpy(packed_.data() + offsets[std::size_t(me)] / sizeof(T) + place[k] * std::size_t(d),
                  own + (want[k] - own0) * d, row_bytes);
    }
    comm_->allgather(packed_.data(), counts, offsets);
    for (std::size_t k = 0; k < count; ++k) {
      std::memcpy(
          gathered_.data() + k * std::size_t(d),
          packed_.data() + offsets[std::size_t(owner[k])] / sizeof(T) + place[k] * std::size_t(d),
          row_bytes);
    }
    return gathered_.data();
  }

  // The rows [a, e) of this rank's chunks.
  std::pair<index_t, index_t> chunk_span(const RankChunks& chunks) const {
    return span_of(chunks, comm_->rank());
  }
  // span (chunk_span rows, d) <- those rows of the samples, from their owners (own: this rank's
  // rows). Every rank together.
  void to_chunks(const RankChunks& chunks, const T* own, index_t d, T* span) const {
    Parts p = parts(chunks, d);
    comm_->alltoallv(own, p.own_counts, p.own_offsets, span, p.span_counts, p.span_offsets);
  }
  // own (this rank's rows, d) <- those rows of every rank's span (the inverse of to_chunks).
  void from_chunks(const RankChunks& chunks, const T* span, index_t d, T* own) const {
    Parts p = parts(chunks, d);
    comm_->alltoallv(span, p.span_counts, p.span_offsets, own, p.own_counts, p.own_offsets);
  }

 private:
  int owner_of(index_t i) const {
    return int(std::upper_bound(starts_.begin(), starts_.end(), i) - starts_.begin()) - 1;
  }
  std::pair<index_t, index_t> span_of(const RankChunks& chunks, int r) const {
    return {chunks.first_row(chunks.first_chunk(r)), chunks.first_row(chunks.first_chunk(r + 1))};
  }
  // Bytes of rank r's part: own rows ∩ r's span (where they sit in own), and this rank's span ∩
  // r's own rows (where they sit in the span).
  struct Parts {
    std::vector<std::size_t> own_counts, own_offsets, span_counts, span_offsets;
  };
  Parts parts(const RankChunks& chunks, index_t d) const {
    const int ranks = comm_->size();
    const std::size_t row_bytes = std::size_t(d) * sizeof(T);
    const index_t own0 = first(), own1 = last();
    const auto [a, e] = chunk_span(chunks);
    Parts p;
    for (auto* v : {&p.own_counts, &p.own_offsets, &p.span_counts, &p.span_offsets}) {
      v->assign(std::size_t(ranks), 0);
    }
    for (int r = 0; r < ranks; ++r) {
      const auto [ar, er] = span_of(chunks, r);
      const index_t lo = std::max(own0, ar), hi = std::max(lo, std::min(own1, er));
      p.own_counts[std::size_t(r)] = std::size_t(hi - lo) * row_bytes;
      p.own_offsets[std::size_t(r)] = std::size_t(lo - own0) * row_bytes;
      const index_t s0 = starts_[std::size_t(r)], s1 = starts_[std::size_t(r) + 1];
      const index_t clo = std::max(s0, a), chi = std::max(clo, std::min(s1, e));
      p.span_counts[std::size_t(r)] = std::size_t(chi - clo) * row_bytes;
      p.span_offsets[std::size_t(r)] = std::size_t(clo - a) * row_bytes;
    }
    return p;
  }

  const Comm* comm_ = nullptr;
  index_t n_ = 0;
  std::vector<index_t> starts_;
  std::vector<T> packed_, gathered_;
};

}  // namespace nwgf
