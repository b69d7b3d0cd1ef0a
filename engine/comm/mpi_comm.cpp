// The MPI communicator (MPI_COMM_WORLD) and the tool's CommSession (engine/comm/comm.hpp).
// Without NWGF_HAVE_MPI (NWGF_MPI=OFF or no MPI found) only the single-process session exists.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/error.hpp"

#ifdef NWGF_HAVE_MPI
#include <mpi.h>
#endif

namespace nwgf {

#ifdef NWGF_HAVE_MPI
namespace {

int count_of(std::size_t bytes) {
  if (bytes > std::size_t(INT_MAX)) {
    throw_runtime("comm: a count of " + std::to_string(bytes) + " exceeds MPI's int");
  }
  return int(bytes);
}

// The largest message one MPI call moves: MPI counts are ints, so longer messages go in pieces
// of at most INT_MAX bytes. NWGF_MPI_MAX_MESSAGE (bytes, >= 1) lowers it, so the tests run the
// piecewise paths on small runs (tests/CMakeLists.txt); read once.
std::size_t max_message() {
  static const std::size_t piece = [] {
    std::size_t v = std::size_t(INT_MAX);
    if (const char* e = std::getenv("NWGF_MPI_MAX_MESSAGE")) {
      char* end = nullptr;
      const unsigned long long u = std::strtoull(e, &end, 10);
      if (end != e && *end == '\0' && u >= 1) v = std::min<std::size_t>(v, std::size_t(u));
    }
    return v;
  }();
  return piece;
}

// Calls f(offset, count) for the consecutive pieces of at most max_message() bytes of a message
// of `bytes`; one empty piece for 0 bytes (a zero-length message still matches its receive).
template <class F>
void each_piece(std::size_t bytes, F f) {
  std::size_t b = 0;
  do {
    const std::size_t c = std::min(max_message(), bytes - b);
    f(b, int(c));
    b += c;
  } while (b < bytes);
}

class MpiComm final : public Comm {
 public:
  MpiComm() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* kind() const override { return "mpi"; }

  CommStatus agree(const CommStatus& local) const override {
    int mine = local.code != 0 ? rank_ : size_;
    int first = size_;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == size_) return {};
    CommStatus s = local;
    MPI_Bcast(&s.code, 1, MPI_INT, first, MPI_COMM_WORLD);
    std::uint64_t len = s.message.size();
    MPI_Bcast(&len, 1, MPI_UINT64_T, first, MPI_COMM_WORLD);
    s.message.resize(std::size_t(len));
    if (len > 0) MPI_Bcast(s.message.data(), count_of(len), MPI_CHAR, first, MPI_COMM_WORLD);
    return s;
  }

  void broadcast(void* data, std::size_t bytes, int root) const override {
    if (bytes == 0) return;
    auto* p = static_cast<char*>(data);
    each_piece(bytes, [&](std::size_t b, int c) {
      MPI_Bcast(p + b, c, MPI_BYTE, root, MPI_COMM_WORLD);
    });
  }

  // One MPI_Ibcast per piece; the request tests and waits for all of them.
  CommRequest ibroadcast(void* data, std::size_t bytes, int root) const override {
    if (bytes == 0) return {};
    auto* p = static_cast<char*>(data);
    auto requests = std::make_shared<std::vector<MPI_Request>>();
    each_piece(bytes, [&](std::size_t b, int c) {
      requests->emplace_back();
      MPI_Ibcast(p + b, c, MPI_BYTE, root, MPI_COMM_WORLD, &requests->back());
    });
    return CommRequest(
        [requests] {
          int done = 0;
          MPI_Testall(int(requests->size()), requests->data(), &done, MPI_STATUSES_IGNORE);
          return done != 0;
        },
        [requests] {
          MPI_Waitall(int(requests->size()), requests->data(), MPI_STATUSES_IGNORE);
        });
  }

  void allgather(void* data, const std::vector<std::size_t>& counts,
                 const std::vector<std::size_t>& offsets) const override {
    const auto ranks = static_cast<std::size_t>(size_);
    bool fits = true;
    for (std::size_t q = 0; q < ranks; ++q) {
      fits = fits && counts[q] <= max_message() && offsets[q] <= std::size_t(INT_MAX);
    }
    if (!fits) {
      // Past int counts or offsets: each rank's part broadcast from it, in pieces (the same
      // bytes land in the same places; every rank makes the same calls in the same order).
      for (int q = 0; q < size_; ++q) {
        broadcast(static_cast<char*>(data) + offsets[std::size_t(q)], counts[std::size_t(q)], q);
      }
      return;
    }
    std::vector<int> c(ranks), o(ranks);
    for (std::size_t q = 0; q < ranks; ++q) {
      c[q] = count_of(counts[q]);
      o[q] = count_of(offsets[q]);
    }
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, c.data(), o.data(), MPI_BYTE,
                   MPI_COMM_WORLD);
  }

  // In pieces: messages between two ranks with one tag arrive in the order sent.
  void send(const void* data, std::size_t bytes, int dest) const override {
    const auto* p = static_cast<const char*>(data);
    each_piece(bytes, [&](std::size_t b, int c) {
      MPI_Send(p + b, c, MPI_BYTE, dest, 0, MPI_COMM_WORLD);
    });
  }
  void recv(void* data, std::size_t bytes, int source) const override {
    auto* p = static_cast<char*>(data);
    each_piece(bytes, [&](std::size_t b, int c) {
      MPI_Recv(p + b, c, MPI_BYTE, source, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    });
  }

  // Every message posted at once (MPI_Irecv, MPI_Isend), in pieces of at most max_message():
  // messages between two ranks with one tag arrive in the order sent, so the pieces line up.
  void alltoallv(const void* send, const std::vector<std::size_t>& send_counts,
                 const std::vector<std::size_t>& send_offsets, void* recv,
                 const std::vector<std::size_t>& recv_counts,
                 const std::vector<std::size_t>& recv_offsets) const override {
    const std::size_t kPiece = max_message();
    constexpr int kTag = 1;
    const auto* in = static_cast<const char*>(send);
    auto* out = static_cast<char*>(recv);
    const auto self = std::size_t(rank_);
    if (send_counts[self] != recv_counts[self]) {
      throw_runtime("comm: alltoallv sends this rank a part of another size than it receives");
    }
    if (send_counts[self] > 0) {
      std::memmove(out + recv_offsets[self], in + send_offsets[self], send_counts[self]);
    }
    std::vector<MPI_Request> requests;
    for (int r = 0; r < size_; ++r) {
      const auto q = std::size_t(r);
      for (std::size_t b = 0; r != rank_ && b < recv_counts[q]; b += kPiece) {
        requests.emplace_back();
        MPI_Irecv(out + recv_offsets[q] + b, int(std::min(kPiece, recv_counts[q] - b)), MPI_BYTE, r,
                  kTag, MPI_COMM_WORLD, &requests.back());
      }
    }
    for (int r = 0; r < size_; ++r) {
      const auto q = std::size_t(r);
      for (std::size_t b = 0; r != rank_ && b < send_counts[q]; b += kPiece) {
        requests.emplace_back();
        MPI_Isend(in + send_offsets[q] + b, int(std::min(kPiece, send_counts[q] - b)), MPI_BYTE, r,
                  kTag, MPI_COMM_WORLD, &requests.back());
      }
    }
    MPI_Waitall(int(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
  }

  // MPI-IO: one collective MPI_File_write_at_all per round, a rank's k-th piece (at most
  // max_message() bytes) in round k and an empty write once it has none left, so every rank
  // makes the same calls; the first error of each rank is kept while the collective calls go on
  // (sync and close included), then the outcome is agreed. File errors return (MPI's default
  // error handler for files is MPI_ERRORS_RETURN).
  void write_at_all(const std::string& path, const std::vector<FilePart>& parts) const override {
    struct Piece {
      MPI_Offset at;
      const char* data;
      int count;
    };
    std::vector<Piece> pieces;
    for (const FilePart& part : parts) {
      if (part.bytes == 0) continue;
      each_piece(part.bytes, [&](std::size_t b, int c) {
        pieces.push_back({MPI_Offset(part.offset + b), static_cast<const char*>(part.data) + b, c});
      });
    }
    long long mine = static_cast<long long>(pieces.size()), rounds = 0;
    MPI_Allreduce(&mine, &rounds, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    CommStatus local;
    const auto fail = [&](int rc, const char* what) {
      if (local.code != 0) return;
      char text[MPI_MAX_ERROR_STRING];
      int len = 0;
      MPI_Error_string(rc, text, &len);
      local = {2, "cannot write " + path + " (" + what + " on rank " + std::to_string(rank_) +
                      "): " + std::string(text, std::size_t(len))};
    };
    MPI_File fh = MPI_FILE_NULL;
    int rc = MPI_File_open(MPI_COMM_WORLD, path.c_str(), MPI_MODE_WRONLY | MPI_MODE_CREATE,
                           MPI_INFO_NULL, &fh);
    if (rc != MPI_SUCCESS) fail(rc, "MPI_File_open");
    // The writes and the close are collective over the ranks that opened the file: stop here
    // on every rank unless all did (a rank that did keeps its handle: closing it would wait for
    // the others; write_file_atomic_all checks beforehand with open(2) that each rank can).
    CommStatus agreed = agree(local);
    if (agreed.code != 0) throw_bad_input(agreed.message);
    for (long long k = 0; k < rounds; ++k) {
      const Piece p = k < mine ? pieces[std::size_t(k)] : Piece{0, nullptr, 0};
      // The status's count is not checked: ROMIO leaves it 0 on some ranks of a collective
      // write; write_file_atomic_all checks the file's size instead.
      rc = MPI_File_write_at_all(fh, p.at, p.data, p.count, MPI_BYTE, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS) fail(rc, "MPI_File_write_at_all");
    }
    rc = MPI_File_sync(fh);
    if (rc != MPI_SUCCESS) fail(rc, "MPI_File_sync");
    rc = MPI_File_close(&fh);
    if (rc != MPI_SUCCESS) fail(rc, "MPI_File_close");
    agreed = agree(local);
    if (agreed.code != 0) throw_bad_input(agreed.message);
  }

 private:
  int rank_ = 0, size_ = 1;
};

// Started by an MPI launcher: Open MPI's mpirun, PMIx (srun --mpi=pmix, prterun), Hydra (MPICH).
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}

}  // namespace

bool mpi_available() { return true; }

CommSession::CommSession() : comm_(&single_process_comm()) {
  if (!launched_by_mpi()) return;
  // OpenMP threads compute; only the main thread calls MPI.
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  owned_ = std::make_unique<MpiComm>();
  comm_ = owned_.get();
}

CommSession::~CommSession() {
  if (!owned_) return;
  owned_.reset();
  MPI_Finalize();
}

#else

bool mpi_available() { return false; }
CommSession::CommSession() : comm_(&single_process_comm()) {
  const auto env_int = [](const char* a, const char* b) {
    const char* v = std::getenv(a);
    if (!v) v = std::getenv(b);
    return v ? std::atoi(v) : -1;
  };
  const int size = env_int("OMPI_COMM_WORLD_SIZE", "PMI_SIZE");
  launcher_rank_ = std::max(env_int("OMPI_COMM_WORLD_RANK", "PMI_RANK"), 0);
  if (size > 1) {
    problem_ =
        "this nwgf was built without MPI (NWGF_MPI=OFF or no MPI found) but started as "
        "one of " +
        std::to_string(size) + " ranks by an MPI launcher";
  }
}
CommSession::~CommSession() = default;

#endif

}  // namespace nwgf
