#pragma once
// Communicators: the processes (ranks) of one run. A Comm is single-process (rank 0 of 1: every
// collective is a no-op or a copy) or MPI (engine/comm/mpi_comm.cpp, MPI_COMM_WORLD, built with
// NWGF_MPI and started by an MPI launcher); the device communicator over NCCL extends it
// (engine/comm/nccl_comm.hpp). Collectives must be called by every rank in the same order; byte
// counts are 64-bit (over MPI, longer messages than INT_MAX bytes go in pieces).
//
// Errors and collectives: a rank that throws while the others wait in a collective would hang
// the job. Work that may fail on some ranks only (files, memory, anything not computed the same
// way on every rank) runs inside collective() (or on_root()), which agrees on the outcome: an
// error on any rank is thrown on every rank as the same nwgf::Error (that of the lowest failing
// rank), so every rank leaves through the same path. With one rank both just call f.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nwgf {

// An outcome as the ranks agree on it: code 0 none, else the CLI's exit code (2 bad input,
// 3 numerical, 1 other) and the error's message.
struct CommStatus {
  int code = 0;
  std::string message;
};

// Part of a file that one rank writes: `bytes` bytes from `data` at byte `offset` of the file.
struct FilePart {
  std::uint64_t offset = 0;
  const void* data = nullptr;
  std::size_t bytes = 0;
};

// A nonblocking operation in flight (Comm::ibroadcast). test() advances it without blocking
// (MPI moves a nonblocking collective only inside MPI calls, so a rank that computes meanwhile
// calls test() now and then) and says whether it is complete; wait() completes it. An empty
// request is complete. Destroying a pending request waits for it: every rank posts the same
// operations in the same order, so it completes.
class CommRequest {
 public:
  CommRequest() = default;
  CommRequest(std::function<bool()> test, std::function<void()> wait)
      : test_(std::move(test)), wait_(std::move(wait)) {}
  CommRequest(CommRequest&& o) noexcept
      : test_(std::move(o.test_)), wait_(std::move(o.wait_)) {
    o.test_ = nullptr;
    o.wait_ = nullptr;
  }
  CommRequest& operator=(CommRequest&& o) noexcept {
    if (this != &o) {
      finish();
      test_ = std::move(o.test_);
      wait_ = std::move(o.wait_);
      o.test_ = nullptr;
      o.wait_ = nullptr;
    }
    return *this;
  }
  CommRequest(const CommRequest&) = delete;
  CommRequest& operator=(const CommRequest&) = delete;
  ~CommRequest() { finish(); }
  bool test() {
    if (!wait_) return true;
    if (!test_) {  // nothing to poll with: complete it
      finish();
      return true;
    }
    if (!test_()) return false;
    wait_ = nullptr;
    test_ = nullptr;
    return true;
  }
  void wait() { finish(); }

 private:
  void finish() noexcept {
    if (!wait_) return;
    auto w = std::move(wait_);
    wait_ = nullptr;
    test_ = nullptr;
    w();
  }
  std::function<bool()> test_;
  std::function<void()> wait_;
};

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "single" or "mpi".
  virtual const char* kind() const = 0;
  bool root() const { return rank() == 0; }

  // Every rank gives its status; all return that of the lowest failing rank (code 0: none).
  virtual CommStatus agree(const CommStatus& local) const = 0;
  // bytes at data from root to every rank.
  virtual void broadcast(void* data, std::size_t bytes, int root) const = 0;
  // broadcast without blocking: posted by every rank in the same order as the other collectives;
  // data must stay untouched (and, off the root, unread) until the request completes. Over MPI
  // one MPI_Ibcast per piece of at most INT_MAX bytes. The default broadcasts at once and
  // returns a completed request (one process: nothing moves).
  virtual CommRequest ibroadcast(void* data, std::size_t bytes, int root) const {
    broadcast(data, bytes, root);
    return {};
  }
  // In place: rank q's part is bytes [offsets[q], offsets[q] + counts[q]) of data; afterwards
  // every rank holds every part.
  virtual void allgather(void* data, const std::vector<std::size_t>& counts,
                         const std::vector<std::size_t>& offsets) const = 0;
  // Blocking point to point.
  virtual void send(const void* data, std::size_t bytes, int dest) const = 0;
  virtual void recv(void* data, std::size_t bytes, int source) const = 0;
  // All to all: this rank's bytes [send_offsets[r], + send_counts[r]) of send go to rank r, and
  // rank r's bytes for this rank arrive at [recv_offsets[r], + recv_counts[r]) of recv (so
  // recv_counts[r] is what rank r sends here). 64-bit counts; over MPI no message exceeds INT_MAX
  // bytes (larger ones go in pieces). The default moves the bytes with send/recv, the pairs of
  // ranks in one global order (deadlock-free with blocking sends), this rank's own part copied.
  virtual void alltoallv(const void* send, const std::vector<std::size_t>& send_counts,
                         const std::vector<std::size_t>& send_offsets, void* recv,
                         const std::vector<std::size_t>& recv_counts,
                         const std::vector<std::size_t>& recv_offsets) const;
  // Collective file write: every rank writes its parts (disjoint from every other rank's) into
  // the file `path` (created when missing, never truncated), synced and closed on every rank
  // when it returns. 64-bit offsets; over MPI one MPI_File_write_at_all per piece of at most
  // INT_MAX bytes (every rank makes the same number of calls). The outcome is agreed: a failure
  // on any rank is thrown on every rank as the same Error (bad input naming `path`). The
  // default (one process) writes with pwrite. See write_file_atomic_all for whole files.
  virtual void write_at_all(const std::string& path, const std::vector<FilePart>& parts) const;
};

// The single-process communicator (rank 0 of 1).
const Comm& single_process_comm();

// Runs f on this rank, then (more than one rank) agrees: an nwgf::Error, std::bad_alloc or other
// std::exception on any rank is thrown on every rank as one nwgf::Error.
void collective(const Comm& comm, const std::function<void()>& f);
// f on rank 0 only, agreed the same way.
void on_root(const Comm& comm, const std::function<void()>& f);
// Bad input unless `value` (what: its name in the message) is the same on every rank.
void require_same(const Comm& comm, const std::string& what, const std::string& value);
// write_file_atomic (engine/io/file_io.hpp) by every rank together: rank 0 creates the
// temporary name PATH.tmp.PID (its pid, as a one-process write names it, so RunDirectory::prepare
// removes what a killed job left), every rank checks that it can open it (a directory that is
// not on a file system all ranks share is bad input naming the rank), write_at_all writes every
// rank's parts, and only once every rank's writes have succeeded rank 0 renames it into place
// (and syncs the directory); on any failure rank 0 removes it and every rank throws the same
// Error. So a failure on any rank leaves no half-written file under `path`.
void write_file_atomic_all(const Comm& comm, const std::string& path,
                           const std::vector<FilePart>& parts);
// A string from root to every rank.
void broadcast_string(const Comm& comm, std::string& s, int root);

// The process's communicator for a command-line tool: MPI (MPI_Init_thread on construction,
// MPI_Finalize on destruction) when nwgf is built with MPI and this process was started by an
// MPI launcher (mpirun/mpiexec/srun: OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK or PMI_SIZE in
// the environment), else the single-process one; MPI is not touched at all then.
class CommSession {
 public:
  CommSession();
  ~CommSession();
  CommSession(const CommSession&) = delete;
  CommSession& operator=(const CommSession&) = delete;
  const Comm& comm() const { return *comm_; }
  // Non-empty when this process cannot take part: a build without MPI started as one of several
  // ranks by a launcher. launcher_rank: the rank the launcher gave (0 when none).
  const std::string& problem() const { return problem_; }
  int launcher_rank() const { return launcher_rank_; }

 private:
  std::unique_ptr<Comm> owned_;
  std::string problem_;
  int launcher_rank_ = 0;
  const Comm* comm_;
};

// Whether this build has the MPI communicator.
bool mpi_available();

}  // namespace nwgf
