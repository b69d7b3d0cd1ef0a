// nwgf CUDA emulator: the NCCL stand-in of include/nccl.h over MPI. A communicator is an MPI
// communicator split from MPI_COMM_WORLD (ncclCommInitRank is collective over the world, as the
// ranks of one nwgf run are); each call is validated when made (NCCL's synchronous errors) and
// queued; the outermost ncclGroupEnd (or the call itself, outside a group) submits the queue as
// one piece of stream work (nwgf::emu::submit). The emulator runs stream work at once, on the
// host, so a rank whose call failed would leave its peers blocked in MPI where a GPU would only
// queue: the work therefore first agrees across the communicator (did any rank's group fail?),
// then posts every operation non-blocking (MPI_Ibcast, MPI_Isend, MPI_Irecv, in call order) and
// waits for all of them, as NCCL fuses a group. A peer's failure and MPI failures during the
// work (mismatched counts across ranks) become the communicator's asynchronous error
// (ncclCommGetAsyncError: ncclRemoteError), as NCCL's would.
// With lazy streams (NWGF_EMU_LAZY_STREAMS=1, runtime/lazy.cpp) the MPI part runs at the call
// and only the received bytes' landing in the buffers waits in the stream (issue_group).
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>


#include "../runtime/internal.hpp"
#include "nccl.h"
#include "nwgf_emu/device.hpp"

struct ncclComm {
  MPI_Comm mpi = MPI_COMM_NULL;
  int rank = 0, size = 0;
  bool aborted = false;
  ncclResult_t async = ncclSuccess;
  std::string last_error;
};

namespace {

constexpr char kMagic[] = "nwgf-emu-nccl";

struct Op {
  enum Kind { broadcast, send, recv } kind;
  const void* send_buf;
  void* recv_buf;
  std::size_t bytes;
  int peer;  // the root of a broadcast
  ncclComm* comm;
  cudaStream_t stream;
  bool failed = false;  // kept only for the agreement with its peer (send/recv)
};

// The open group (main thread only, as in nwgf): its depth, the calls queued in it, and the
// first call of it that failed (with its communicator).
int g_depth = 0;
std::vector<Op> g_ops;
ncclResult_t g_group_error = ncclSuccess;
ncclComm* g_group_comm = nullptr;
cudaStream_t g_group_stream = nullptr;
std::string g_last_error;  // errors not tied to a communicator

ncclResult_t fail(ncclComm* comm, ncclResult_t r, const std::string& why) {
  (comm ? comm->last_error : g_last_error) = why;
  return r;
}

bool mpi_running() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

std::size_t type_bytes(ncclDataType_t t) { return t == ncclInt8 || t == ncclUint8 ? 1 : 0; }

ncclResult_t check_comm(ncclComm* comm, const char* call) {
  if (!comm) return fail(nullptr, ncclInvalidArgument, std::string(call) + ": comm is null");
  if (comm->aborted) return fail(comm, ncclInvalidUsage, std::string(call) + ": comm was aborted");
  return ncclSuccess;
}

// Validates one call and queues it; outside a group the queue is issued at once.
ncclResult_t issue_group();
bool run_group(const std::vector<Op>& ops, ncclComm* comm, int failed);
ncclResult_t validate(const char* call, Op& op, std::size_t count, ncclDataType_t type);

ncclResult_t enqueue(const char* call, Op op, std::size_t count, ncclDataType_t type) {
  if (const ncclResult_t r = check_comm(op.comm, call); r != ncclSuccess) return r;
  if (g_group_comm && g_group_comm != op.comm) {
    return fail(op.comm, ncclInvalidUsage,
                std::string(call) + ": the stand-in takes one communicator per group");
  }
  if (!g_group_comm) g_group_stream = op.stream;
  g_group_comm = op.comm;
  const ncclResult_t r = validate(call, op, count, type);
  if (r == ncclSuccess) {
    g_ops.push_back(op);
  } else {
    if (g_group_error == ncclSuccess) g_group_error = r;
    // A failed call still takes part in the agreement: a broadcast makes the group collective,
    // a send/recv with a valid peer meets that peer's call.
    if (op.kind == Op::broadcast || (op.peer >= 0 && op.peer < op.comm->size)) {
      op.failed = true;
      op.bytes = 0;
      g_ops.push_back(op);
    }
  }
  // A failed call still takes part in its group's issue: the peers learn of it there (as
  // ncclRemoteError) instead of waiting for this rank's part.
  if (g_depth > 0) return r;
  const ncclResult_t issued = issue_group();
  return r != ncclSuccess ? r : issued;
}

ncclResult_t validate(const char* call, Op& op, std::size_t count, ncclDataType_t type) {
  ncclComm* c = op.comm;
  const std::size_t tb = type_bytes(type);
  if (tb == 0) return fail(c, ncclInvalidArgument, std::string(call) + ": datatype not emulated");
  op.bytes = count * tb;
  if (op.bytes > std::size_t(INT_MAX)) {
    return fail(c, ncclInvalidArgument,
                std::string(call) + ": more than INT_MAX bytes (the MPI stand-in's limit)");
  }
  if (op.peer < 0 || op.peer >= c->size) {
    return fail(c, ncclInvalidArgument,
                std::string(call) + ": peer/root " + std::to_string(op.peer) + " out of range");
  }
  if (!nwgf::emu::impl::valid_stream(op.stream)) {
    return fail(c, ncclInvalidArgument, std::string(call) + ": invalid stream");
  }
  // The buffers a rank reads or writes must be device memory (NCCL reads them on the GPU).
  const bool reads = op.kind == Op::send || (op.kind == Op::broadcast && op.peer == c->rank);
  if (op.bytes > 0 && reads && !nwgf::emu::is_device_range(op.send_buf, op.bytes)) {
    return fail(c, ncclInvalidArgument,
                std::string(call) + ": sendbuff is not a live device allocation of that size");
  }
  if (op.bytes > 0 && op.kind != Op::send && !nwgf::emu::is_device_range(op.recv_buf, op.bytes)) {
    return fail(c, ncclInvalidArgument,
                std::string(call) + ": recvbuff is not a live device allocation of that size");
  }
  return ncclSuccess;
}

// Did any rank involved in this group fail a call of it? A group with a broadcast involves every
// rank of the communicator (one MPI_Allreduce); a group of sends and receives only their peers
// (each call exchanges a flag with its peer's matching call, tag 1, so point-to-point rings
// agree without a collective).
bool group_failed(const std::vector<Op>& ops, ncclComm* comm, int failed) {
  bool collective = ops.empty();
  for (const Op& op : ops) collective = collective || op.kind == Op::broadcast;
  if (collective) {
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, comm->mpi);
    return any != 0;
  }
  std::vector<int> theirs(ops.size(), 0);
  std::vector<MPI_Request> req;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    MPI_Request r[2];
    MPI_Isend(&failed, 1, MPI_INT, ops[k].peer, 1, comm->mpi, &r[0]);
    MPI_Irecv(&theirs[k], 1, MPI_INT, ops[k].peer, 1, comm->mpi, &r[1]);
    req.insert(req.end(), r, r + 2);
  }
  MPI_Waitall(int(req.size()), req.data(), MPI_STATUSES_IGNORE);
  int any = failed;
  for (const int t : theirs) any |= t;
  return any != 0;
}

// Issues the group: its work first agrees with the peers' groups (group_failed) and then runs
// every call, or none (a peer's error: ncclRemoteError).
ncclResult_t issue_group() {
  std::vector<Op> ops;
  ops.swap(g_ops);
  ncclComm* comm = std::exchange(g_group_comm, nullptr);
  const ncclResult_t error = std::exchange(g_group_error, ncclSuccess);
  if (!comm) return ncclSuccess;
  const int failed = int(error != ncclSuccess);
  const cudaStream_t stream = g_group_stream;
  if (nwgf::emu::impl::lazy_streams() && stream && !nwgf::emu::impl::is_capturing(stream)) {
    // Lazy streams (runtime/lazy.cpp): the MPI calls run now, in the order the ranks make them
    // (deferred MPI calls would meet the peers' host collectives in another order and hang),
    // after the stream's earlier work (what a sent buffer holds when the stream reaches the
    // call); what arrives waits in host memory and lands in the receive buffers as the stream's
    // work, so a reader that did not wait for this stream reads the old bytes.
    nwgf::emu::impl::flush(stream);
    std::vector<Op> staged = ops;
    auto held = std::make_shared<std::vector<std::vector<char>>>();
    held->reserve(staged.size());
    for (Op& op : staged) {
      if (op.kind == Op::send || op.bytes == 0) continue;
      held->emplace_back(op.bytes);
      op.recv_buf = held->back().data();
    }
    if (!run_group(staged, comm, failed)) return error;
    nwgf::emu::submit(stream, [ops, staged, held] {
      for (std::size_t k = 0; k < ops.size(); ++k) {
        const Op& op = ops[k];
        if (op.kind == Op::send || op.bytes == 0 || op.failed) continue;
        std::memcpy(op.recv_buf, staged[k].recv_buf, op.bytes);
      }
    });
    return error;
  }
  // The whole group runs as one piece of work on the first call's stream.
  nwgf::emu::submit(stream, [ops, comm, failed] { run_group(ops, comm, failed); });
  return error;
}

// The group's work: the agreement with the peers (group_failed), then every call or none (a
// peer's error: ncclRemoteError). Whether the bytes moved.
bool run_group(const std::vector<Op>& ops, ncclComm* comm, int failed) {
  if (comm->aborted) return false;
  if (group_failed(ops, comm, failed)) {
    if (!failed) {
      comm->async = ncclRemoteError;
      comm->last_error = "a peer's call of the same group failed";
    }
    return false;
  }
  std::vector<MPI_Request> req;
  req.reserve(ops.size());
  for (const Op& op : ops) {
    if (op.comm->aborted || op.failed || op.bytes == 0) continue;
    MPI_Request r = MPI_REQUEST_NULL;
    const int n = int(op.bytes);
    switch (op.kind) {
      case Op::broadcast:
        if (op.peer == op.comm->rank && op.send_buf != op.recv_buf) {
          std::memmove(op.recv_buf, op.send_buf, op.bytes);
        }
        MPI_Ibcast(op.recv_buf, n, MPI_BYTE, op.peer, op.comm->mpi, &r);
        break;
      case Op::send:
        MPI_Isend(op.send_buf, n, MPI_BYTE, op.peer, 0, op.comm->mpi, &r);
        break;
      case Op::recv:
        MPI_Irecv(op.recv_buf, n, MPI_BYTE, op.peer, 0, op.comm->mpi, &r);
        break;
    }
    req.push_back(r);
  }
  std::vector<MPI_Status> st(req.size());
  const int rc = MPI_Waitall(int(req.size()), req.data(), st.data());
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    for (const Op& op : ops) {
      op.comm->async = ncclRemoteError;
      op.comm->last_error = "MPI: " + std::string(text, std::size_t(len));
    }
    return false;
  }
  // A recv must get exactly what it asked for (NCCL requires matching counts).
  bool ok = true;
  for (std::size_t k = 0, q = 0; k < ops.size(); ++k) {
    const Op& op = ops[k];
    if (op.comm->aborted || op.failed || op.bytes == 0) continue;
    const MPI_Status& s = st[q++];
    if (op.kind != Op::recv) continue;
    int got = 0;
    MPI_Get_count(&s, MPI_BYTE, &got);
    if (std::size_t(got) != op.bytes) {
      op.comm->async = ncclRemoteError;
      op.comm->last_error = "ncclRecv: " + std::to_string(op.bytes) + " bytes expected, " +
                            std::to_string(got) + " sent";
      ok = false;
    }
  }
  return ok;
}

}  // namespace

ncclResult_t ncclGetVersion(int* version) {
  if (!version) return fail(nullptr, ncclInvalidArgument, "ncclGetVersion: version is null");
  *version = NCCL_VERSION_CODE;
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error";
    case ncclSystemError: return "unhandled system error";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    case ncclRemoteError: return "remote process exited or there was a network error";
    case ncclInProgress: return "NCCL operation in progress";
    default: return "unknown result code";
  }
}

const char* ncclGetLastError(ncclComm_t comm) {
  return (comm ? comm->last_error : g_last_error).c_str();
}

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (!id) return fail(nullptr, ncclInvalidArgument, "ncclGetUniqueId: uniqueId is null");
  std::memset(id->internal, 0, sizeof(id->internal));
  std::memcpy(id->internal, kMagic, sizeof(kMagic));
  const std::int64_t stamp[2] = {
      std::int64_t(getpid()),
      std::int64_t(std::chrono::steady_clock::now().time_since_epoch().count())};
  std::memcpy(id->internal + sizeof(kMagic), stamp, sizeof(stamp));
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  if (!comm) return fail(nullptr, ncclInvalidArgument, "ncclCommInitRank: comm is null");
  *comm = nullptr;
  if (!mpi_running()) {
    return fail(nullptr, ncclSystemError,
                "ncclCommInitRank: the emulator's NCCL runs over MPI, which is not initialised");
  }
  if (nranks < 1 || rank < 0 || rank >= nranks) {
    return fail(nullptr, ncclInvalidArgument, "ncclCommInitRank: rank or nranks out of range");
  }
  auto* c = new ncclComm;
  MPI_Comm_split(MPI_COMM_WORLD, 0, rank, &c->mpi);
  MPI_Comm_set_errhandler(c->mpi, MPI_ERRORS_RETURN);
  MPI_Comm_rank(c->mpi, &c->rank);
  MPI_Comm_size(c->mpi, &c->size);
  // Every rank must hold rank 0's id (the bootstrap broadcast) and a distinct rank in range.
  ncclUniqueId root = id;
  MPI_Bcast(root.internal, NCCL_UNIQUE_ID_BYTES, MPI_BYTE, 0, c->mpi);
  int bad = std::memcmp(root.internal, id.internal, NCCL_UNIQUE_ID_BYTES) != 0 ||
                    std::memcmp(id.internal, kMagic, sizeof(kMagic)) != 0
                ? 1
                : 0;
  if (c->size != nranks || c->rank != rank) bad |= 2;
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_BOR, c->mpi);
  if (any != 0) {
    MPI_Comm_free(&c->mpi);
    delete c;
    return fail(nullptr, ncclInvalidUsage,
                (any & 1) ? "ncclCommInitRank: the ranks passed different unique ids"
                          : "ncclCommInitRank: ranks not 0..nranks-1 of the MPI world");
  }
  *comm = c;
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (!comm) return fail(nullptr, ncclInvalidArgument, "ncclCommDestroy: comm is null");
  if (comm->mpi != MPI_COMM_NULL && mpi_running()) MPI_Comm_free(&comm->mpi);
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclCommAbort(ncclComm_t comm) {
  // Local, as NCCL's: nothing pending remains (the stand-in's work ran at submission), so the
  // MPI communicator is dropped without a collective free.
  if (!comm) return ncclSuccess;
  std::erase_if(g_ops, [comm](const Op& op) { return op.comm == comm; });
  if (g_group_comm == comm) g_group_comm = nullptr;
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* asyncError) {
  if (!comm || !asyncError) return fail(comm, ncclInvalidArgument, "ncclCommGetAsyncError");
  *asyncError = comm->async;
  return ncclSuccess;
}

ncclResult_t ncclCommCount(const ncclComm_t comm, int* count) {
  if (!comm || !count) return fail(comm, ncclInvalidArgument, "ncclCommCount");
  *count = comm->size;
  return ncclSuccess;
}

ncclResult_t ncclCommUserRank(const ncclComm_t comm, int* rank) {
  if (!comm || !rank) return fail(comm, ncclInvalidArgument, "ncclCommUserRank");
  *rank = comm->rank;
  return ncclSuccess;
}

ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count,
                           ncclDataType_t datatype, int root, ncclComm_t comm,
                           cudaStream_t stream) {
  return enqueue("ncclBroadcast", {Op::broadcast, sendbuff, recvbuff, 0, root, comm, stream},
                 count, datatype);
}

ncclResult_t ncclSend(const void* sendbuff, size_t count, ncclDataType_t datatype, int peer,
                      ncclComm_t comm, cudaStream_t stream) {
  return enqueue("ncclSend", {Op::send, sendbuff, nullptr, 0, peer, comm, stream}, count,
                 datatype);
}

ncclResult_t ncclRecv(void* recvbuff, size_t count, ncclDataType_t datatype, int peer,
                      ncclComm_t comm, cudaStream_t stream) {
  return enqueue("ncclRecv", {Op::recv, nullptr, recvbuff, 0, peer, comm, stream}, count,
                 datatype);
}

ncclResult_t ncclGroupStart() {
  ++g_depth;
  return ncclSuccess;
}

ncclResult_t ncclGroupEnd() {
  if (g_depth == 0) return fail(nullptr, ncclInvalidUsage, "ncclGroupEnd without ncclGroupStart");
  return --g_depth == 0 ? issue_group() : ncclSuccess;
}
