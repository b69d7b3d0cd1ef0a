// The NCCL device communicator (engine/comm/nccl_comm.hpp). Without NWGF_HAVE_NCCL this file is
// empty and engine/comm/nccl_off.cpp says so instead.
#ifdef NWGF_HAVE_NCCL
#include <nccl.h>
#ifndef NWGF_CUDA_EMULATE
#include <dlfcn.h>
#endif

#include <algorithm>
#include <string>
#include <utility>

#include "nwgf/engine/comm/nccl_comm.hpp"
#include "nwgf/engine/cuda_check.cuh"
#include "nwgf/engine/cuda_context.cuh"
#include "nwgf/engine/device_stream.hpp"
#include "nwgf/engine/error.hpp"

// Every NCCL function this file calls, without its "nccl" prefix.
#define NWGF_NCCL_ENTRIES(X)                                                            \
  X(Broadcast) X(CommAbort) X(CommDestroy) X(CommGetAsyncError) X(CommInitRank)         \
  X(GetErrorString) X(GetLastError) X(GetUniqueId) X(GroupEnd) X(GroupStart) X(Recv)   \
  X(Send)

namespace nwgf {
namespace {

// The NCCL entry points this file calls. The CUDA build loads libnccl.so.2 when a run first
// needs it (dlopen) instead of linking it: a process that never runs across GPUs must not load
// it, e.g. the Python module next to PyTorch, which brings a libnccl.so.2 of its own version
// (with ours loaded first, `import torch` fails on a missing symbol). The emulation build calls
// its stand-in (tools/emulate/include/nccl.h) directly.
struct NcclApi {
#define NWGF_NCCL_ENTRY(name) decltype(&::nccl##name) name = nullptr;
  NWGF_NCCL_ENTRIES(NWGF_NCCL_ENTRY)
#undef NWGF_NCCL_ENTRY
};

NcclApi load_nccl() {
  NcclApi api;
#ifdef NWGF_CUDA_EMULATE
#define NWGF_NCCL_ENTRY(name) api.name = &::nccl##name;
  NWGF_NCCL_ENTRIES(NWGF_NCCL_ENTRY)
#undef NWGF_NCCL_ENTRY
#else
  void* lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    throw_bad_input(std::string("--backend cuda across MPI ranks needs NCCL: cannot load "
                                "libnccl.so.2 (") +
                    (why ? why : "not found") + "); put the CUDA toolkit's lib directory on "
                    "LD_LIBRARY_PATH, or use --backend cpu");
  }
#define NWGF_NCCL_ENTRY(name)                                                            \
  api.name = reinterpret_cast<decltype(api.name)>(dlsym(lib, "nccl" #name));           \
  if (!api.name) throw_bad_input("libnccl.so.2 has no nccl" #name " (NCCL too old)");
  NWGF_NCCL_ENTRIES(NWGF_NCCL_ENTRY)
#undef NWGF_NCCL_ENTRY
#endif
  return api;
}

// Loaded once per process (thread-safe static); throws (bad input) where NCCL cannot be loaded.
const NcclApi& nccl() {
  static const NcclApi api = load_nccl();
  return api;
}


void nccl_check(ncclResult_t r, const char* call, ncclComm_t comm) {
  if (r == ncclSuccess) return;
  const char* last = nccl().GetLastError(comm);
  std::string msg = std::string("NCCL: ") + call + ": " + nccl().GetErrorString(r);
  if (last && *last) msg += std::string(" (") + last + ")";
  throw Error(ErrorKind::runtime, msg);
}

class NcclComm final : public DeviceComm {
 public:
  NcclComm(const Context& ctx, const Comm& host) : ctx_(ctx), host_(host) {
    if (!ctx.is_cuda()) throw_runtime("make_nccl_comm: the Context is not a CUDA one");
    // Bootstrap: rank 0's unique id to every rank over the host communicator, then every rank
    // joins on its Context's device.
    ncclUniqueId id{};
    collective(host_, [&] {
      NWGF_CUDA_CHECK(cudaSetDevice(ctx_.cuda()->device));
      nccl();  // every rank loads NCCL here, so a rank without it fails the agreed call
      if (host_.root()) nccl_check(nccl().GetUniqueId(&id), "ncclGetUniqueId", nullptr);
    });
    host_.broadcast(&id, sizeof(id), 0);
    try {
      collective(host_, [&] {
        nccl_check(nccl().CommInitRank(&comm_, host_.size(), id, host_.rank()), "ncclCommInitRank",
                   nullptr);
      });
    } catch (...) {
      abort_comm();
      throw;
    }
  }

  ~NcclComm() override {
    if (comm_) nccl().CommDestroy(comm_);  // waits for the work still queued
  }
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  const char* kind() const override { return "nccl"; }
  CommStatus agree(const CommStatus& local) const override { return host_.agree(local); }
  void broadcast(void* data, std::size_t bytes, int root) const override {
    host_.broadcast(data, bytes, root);
  }
  void allgather(void* data, const std::vector<std::size_t>& counts,
                 const std::vector<std::size_t>& offsets) const override {
    host_.allgather(data, counts, offsets);
  }
  void send(const void* data, std::size_t bytes, int dest) const override {
    host_.send(data, bytes, dest);
  }
  void recv(void* data, std::size_t bytes, int source) const override {
    host_.recv(data, bytes, source);
  }

  void device_broadcast(void* data, std::size_t bytes, int root) const override {
    broadcast_on(data, bytes, root, stream_of(ctx_), true);
  }
  void device_broadcast(void* data, std::size_t bytes, int root,
                        const DeviceStream& on) const override {
    broadcast_on(data, bytes, root, static_cast<cudaStream_t>(on.handle()), &on.context() == &ctx_);
  }

  void device_allgather(void* data, const std::vector<std::size_t>& counts,
                        const std::vector<std::size_t>& offsets) const override {
    const auto ranks = static_cast<std::size_t>(size());
    run(
        "allgather (grouped ncclBroadcast)",
        [&] {
          if (counts.size() != ranks || offsets.size() != ranks) {
            throw_runtime("DeviceComm::device_allgather: counts/offsets are not one per rank");
          }
          for (std::size_t q = 0; q < ranks; ++q) check_buffer(data, counts[q]);
        },
        [&] {
          // NCCL's allgather wants equal counts: one broadcast per non-empty part, in rank
          // order, fused by the group.
          char* base = static_cast<char*>(data);
          nccl_check(nccl().GroupStart(), "ncclGroupStart", comm_);
          ncclResult_t r = ncclSuccess;
          for (std::size_t q = 0; q < ranks && r == ncclSuccess; ++q) {
            if (counts[q] == 0) continue;
            char* part = base + offsets[q];
            r = nccl().Broadcast(part, part, counts[q], ncclUint8, int(q), comm_, stream_of(ctx_));
          }
          const ncclResult_t end = nccl().GroupEnd();  // the group is closed on every path
          nccl_check(r, "ncclBroadcast", comm_);
          nccl_check(end, "ncclGroupEnd", comm_);
        });
  }

  void device_alltoallv(const void* send, const std::vector<std::size_t>& send_counts,
                        const std::vector<std::size_t>& send_offsets, void* recv,
                        const std::vector<std::size_t>& recv_counts,
                        const std::vector<std::size_t>& recv_offsets) const override {
    const auto ranks = static_cast<std::size_t>(size());
    const auto me = static_cast<std::size_t>(rank());
    run(
        "alltoallv (grouped ncclSend/ncclRecv)",
        [&] {
          if (send_counts.size() != ranks || send_offsets.size() != ranks ||
              recv_counts.size() != ranks || recv_offsets.size() != ranks) {
            throw_runtime("DeviceComm::device_alltoallv: counts/offsets are not one per rank");
          }
          if (send_counts[me] != recv_counts[me]) {
            throw_runtime(
                "DeviceComm::device_alltoallv: this rank's own part differs in size sent and "
                "received");
          }
          for (std::size_t q = 0; q < ranks; ++q) {
            check_buffer(send, send_counts[q]);
            check_buffer(recv, recv_counts[q]);
          }
        },
        [&] {
          const char* from = static_cast<const char*>(send);
          char* to = static_cast<char*>(recv);
          if (send_counts[me] > 0) {
            NWGF_CUDA_CHECK(cudaMemcpyAsync(to + recv_offsets[me], from + send_offsets[me],
                                            send_counts[me], cudaMemcpyDeviceToDevice,
                                            stream_of(ctx_)));
          }
          // Pieces of at most 1 GiB (the stand-in moves at most INT_MAX bytes a call); both
          // sides cut a part alike, so the pieces pair up in order.
          constexpr std::size_t kPiece = std::size_t(1) << 30;
          nccl_check(nccl().GroupStart(), "ncclGroupStart", comm_);
          ncclResult_t r = ncclSuccess;
          for (std::size_t q = 0; q < ranks && r == ncclSuccess; ++q) {
            if (q == me) continue;
            for (std::size_t o = 0; o < send_counts[q] && r == ncclSuccess; o += kPiece) {
              r = nccl().Send(from + send_offsets[q] + o, std::min(kPiece, send_counts[q] - o),
                              ncclUint8, int(q), comm_, stream_of(ctx_));
            }
            for (std::size_t o = 0; o < recv_counts[q] && r == ncclSuccess; o += kPiece) {
              r = nccl().Recv(to + recv_offsets[q] + o, std::min(kPiece, recv_counts[q] - o),
                              ncclUint8, int(q), comm_, stream_of(ctx_));
            }
          }
          const ncclResult_t end = nccl().GroupEnd();  // the group is closed on every path
          nccl_check(r, "ncclSend/ncclRecv", comm_);
          nccl_check(end, "ncclGroupEnd", comm_);
        });
  }

  // Point to point involves two ranks, so nothing is agreed over all of them (the host
  // agreement would make it collective): arguments and NCCL's result are checked here and an
  // error is thrown on this rank, with the communicator aborted.
  void device_send(const void* data, std::size_t bytes, int dest) const override {
    run_local("ncclSend", [&] {
      check_rank(dest, "dest");
      check_buffer(data, bytes);
      nccl_check(nccl().Send(data, bytes, ncclUint8, dest, comm_, stream_of(ctx_)), "ncclSend",
                 comm_);
    });
  }

  void device_recv(void* data, std::size_t bytes, int source) const override {
    run_local("ncclRecv", [&] {
      check_rank(source, "source");
      check_buffer(data, bytes);
      nccl_check(nccl().Recv(data, bytes, ncclUint8, source, comm_, stream_of(ctx_)), "ncclRecv",
                 comm_);
    });
  }

 private:
  // ncclBroadcast on `stream` (ours, or a DeviceStream of our Context: same_context).
  void broadcast_on(void* data, std::size_t bytes, int root, cudaStream_t stream,
                    bool same_context) const {
    run(
        "ncclBroadcast",
        [&] {
          if (!same_context) {
            throw_runtime(
                "DeviceComm::device_broadcast: the stream is not of the Context of the "
                "communicator");
          }
          check_rank(root, "root");
          check_buffer(data, bytes);
        },
        [&] {
          if (bytes == 0) return;
          nccl_check(nccl().Broadcast(data, data, bytes, ncclUint8, root, comm_, stream),
                     "ncclBroadcast", comm_);
        });
  }

  void check_rank(int q, const char* what) const {
    if (q < 0 || q >= size()) {
      throw_runtime(std::string("DeviceComm: ") + what + " " + std::to_string(q) +
                    " is not a rank");
    }
  }
  static void check_buffer(const void* data, std::size_t bytes) {
    if (bytes > 0 && !data) throw_runtime("DeviceComm: a null buffer");
  }

  // The arguments are agreed first (a rank that would not call NCCL must not leave the others
  // waiting in it), then the call's outcome: NCCL's return code and the communicator's
  // asynchronous error. On any rank's failure every rank aborts its communicator (nothing stays
  // queued behind a rank that left) and throws the same error: that of the lowest rank whose own
  // call failed, else (only peers' reports, ncclRemoteError) that of the lowest reporting rank.
  template <class Check, class Call>
  void run(const char* what, Check&& check, Call&& call) const {
    if (!comm_) throw_runtime(std::string("NCCL: ") + what + ": the communicator was aborted");
    try {
      collective(host_, check);
    } catch (...) {
      abort_comm();
      throw;
    }
    CommStatus local, cause;
    try {
      call();
      ncclResult_t async = ncclSuccess;
      nccl_check(nccl().CommGetAsyncError(comm_, &async), "ncclCommGetAsyncError", comm_);
      if (async == ncclRemoteError) {
        local = {1, std::string("NCCL: ") + what + ": " + nccl().GetErrorString(async) + " (" +
                        nccl().GetLastError(comm_) + ")"};
      } else {
        nccl_check(async, what, comm_);
      }
    } catch (const Error& e) {
      local = cause = {e.exit_code(), e.what()};
    } catch (const std::exception& e) {
      local = cause = {1, e.what()};
    }
    const CommStatus agreed = host_.agree(local);
    if (agreed.code == 0) return;
    const CommStatus first_cause = host_.agree(cause);
    abort_comm();
    const CommStatus& s = first_cause.code != 0 ? first_cause : agreed;
    throw Error(s.code == 2   ? ErrorKind::bad_input
                : s.code == 3 ? ErrorKind::numerical
                              : ErrorKind::runtime,
                s.message);
  }

  template <class Call>
  void run_local(const char* what, Call&& call) const {
    if (!comm_) throw_runtime(std::string("NCCL: ") + what + ": the communicator was aborted");
    try {
      call();
      ncclResult_t async = ncclSuccess;
      nccl_check(nccl().CommGetAsyncError(comm_, &async), "ncclCommGetAsyncError", comm_);
      nccl_check(async, what, comm_);
    } catch (...) {
      abort_comm();
      throw;
    }
  }

  void abort_comm() const {
    if (comm_) nccl().CommAbort(std::exchange(comm_, nullptr));
  }

  const Context& ctx_;
  const Comm& host_;
  mutable ncclComm_t comm_ = nullptr;
};

}  // namespace

bool nccl_available() { return true; }

std::unique_ptr<DeviceComm> make_nccl_comm(const Context& ctx, const Comm& host) {
  return std::make_unique<NcclComm>(ctx, host);
}

}  // namespace nwgf
#endif  // NWGF_HAVE_NCCL
