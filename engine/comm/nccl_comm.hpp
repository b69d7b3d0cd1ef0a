#pragma once
// The device communicator: collectives on GPU buffers over NCCL, for the CUDA backend across
// MPI ranks (one rank per GPU). A DeviceComm is also a Comm: its host collectives (agree,
// broadcast, ...) are the host communicator's, so code that takes a Comm takes it unchanged and
// code with device buffers asks for the device calls (dynamic_cast<const DeviceComm*>).
//
// The device calls move bytes only (NCCL's reductions of floats have no fixed order) and are
// stream-ordered on the Context's stream: they return once queued, like a kernel launch. Every
// rank calls the collective ones (broadcast, allgather) in the same order with the same counts.
// Errors: a collective call's arguments and NCCL's return code are agreed across ranks
// (collective()), so every rank throws the same nwgf::Error; the NCCL communicator is then
// aborted (ncclCommAbort: nothing stays queued behind a rank that left) and every later call
// throws. Send/recv involve two ranks and agree nothing: an error is thrown on the rank that
// sees it (its peer sees NCCL's remote error, or nothing on a GPU): the caller agrees after the
// exchange (collective()) where ranks may fail differently.
//
// Built with NCCL (NWGF_NCCL: the CUDA build with the toolkit's nccl.h and libnccl, or the CUDA
// emulation build with MPI, whose NCCL is a stand-in over MPI: tools/emulate/include/nccl.h).
#include <cstddef>
#include <memory>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/comm/comm.hpp"

namespace nwgf {

class DeviceStream;

class DeviceComm : public Comm {
 public:
  // bytes at device pointer data from root to every rank.
  virtual void device_broadcast(void* data, std::size_t bytes, int root) const = 0;
  // The same, queued on stream `on` (a stream of the Context's device beside its own,
  // engine/device_stream.hpp) instead of the Context's stream: ordering against the Context's
  // work is the caller's, with DeviceEvents.
  virtual void device_broadcast(void* data, std::size_t bytes, int root,
                                const DeviceStream& on) const = 0;
  // In place on a device buffer, as Comm::allgather: rank q's part is bytes
  // [offsets[q], offsets[q] + counts[q]); afterwards every rank holds every part. Counts may
  // differ (grouped ncclBroadcast, one per rank with a non-empty part).
  virtual void device_allgather(void* data, const std::vector<std::size_t>& counts,
                                const std::vector<std::size_t>& offsets) const = 0;
  // All to all on device buffers, as Comm::alltoallv: this rank's bytes [send_offsets[r],
  // + send_counts[r]) of send go to rank r, rank r's bytes for this rank land at
  // [recv_offsets[r], + recv_counts[r]) of recv. One group of ncclSend/ncclRecv (a pair per peer
  // with a non-empty part, pieces of at most 1 GiB), this rank's own part copied on the stream.
  // Collective: every rank calls it in the same order; the counts are agreed pairwise by NCCL.
  virtual void device_alltoallv(const void* send, const std::vector<std::size_t>& send_counts,
                                const std::vector<std::size_t>& send_offsets, void* recv,
                                const std::vector<std::size_t>& recv_counts,
                                const std::vector<std::size_t>& recv_offsets) const = 0;
  // Point to point on device buffers, queued on the stream (a send to q and q's recv from this
  // rank must be called in the same order on both; not agreed, see above).
  virtual void device_send(const void* data, std::size_t bytes, int dest) const = 0;
  virtual void device_recv(void* data, std::size_t bytes, int source) const = 0;
};

// Whether this build has the NCCL communicator.
bool nccl_available();

// Collective over host: the NCCL communicator of host's ranks on ctx's device and stream
// (rank 0's ncclGetUniqueId broadcast over host, then ncclCommInitRank). ctx must be a CUDA
// Context; it must outlive the result. Throws (every rank alike) without NCCL in this build.
std::unique_ptr<DeviceComm> make_nccl_comm(const Context& ctx, const Comm& host);

// This rank's index among the ranks on its host (by host name), collective over comm: the GPU
// a rank takes is node_local_rank % (the node's devices).
int node_local_rank(const Comm& comm);
// That GPU (collective over comm; 0 in one process or without devices).
int rank_cuda_device(const Comm& comm);

}  // namespace nwgf
