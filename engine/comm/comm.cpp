// The single-process communicator and the agreement helpers of engine/comm/comm.hpp.
#include "nwgf/engine/comm/comm.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>

#include "nwgf/engine/error.hpp"

namespace nwgf {
namespace {

class SingleComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* kind() const override { return "single"; }
  CommStatus agree(const CommStatus& local) const override { return local; }
  void broadcast(void*, std::size_t, int) const override {}
  void allgather(void*, const std::vector<std::size_t>&,
                 const std::vector<std::size_t>&) const override {}
  void send(const void*, std::size_t, int) const override {
    throw_runtime("comm: send on a single-process communicator");
  }
  void recv(void*, std::size_t, int) const override {
    throw_runtime("comm: recv on a single-process communicator");
  }
};

[[noreturn]] void throw_status(const CommStatus& s) {
  throw Error(s.code == 2   ? ErrorKind::bad_input
              : s.code == 3 ? ErrorKind::numerical
                            : ErrorKind::runtime,
              s.message);
}

}  // namespace

void Comm::alltoallv(const void* send, const std::vector<std::size_t>& send_counts,
                     const std::vector<std::size_t>& send_offsets, void* recv,
                     const std::vector<std::size_t>& recv_counts,
                     const std::vector<std::size_t>& recv_offsets) const {
  const int me = rank(), ranks = size();
  const auto* in = static_cast<const char*>(send);
  auto* out = static_cast<char*>(recv);
  const auto self = std::size_t(me);
  if (send_counts[self] != recv_counts[self]) {
    throw_runtime("comm: alltoallv sends this rank a part of another size than it receives");
  }
  if (send_counts[self] > 0) {
    std::memmove(out + recv_offsets[self], in + send_offsets[self], send_counts[self]);
  }
  // Pairs (a, b), a < b, in lexicographic order: a sends, then receives; b the other way round.
  // The first pair not yet done has both its ranks at it, so the exchange always advances.
  for (int a = 0; a < ranks; ++a) {
    for (int b = a + 1; b < ranks; ++b) {
      if (me != a && me != b) continue;
      const int other = me == a ? b : a;
      const auto o = std::size_t(other);
      const auto give = [&] {
        if (send_counts[o] > 0) this->send(in + send_offsets[o], send_counts[o], other);
      };
      const auto take = [&] {
        if (recv_counts[o] > 0) this->recv(out + recv_offsets[o], recv_counts[o], other);
      };
      if (me == a) {
        give();
        take();
      } else {
        take();
        give();
      }
    }
  }
}

// One process (or ranks that share a process, as the tests' threads do): plain pwrite.
void Comm::write_at_all(const std::string& path, const std::vector<FilePart>& parts) const {
  collective(*this, [&] {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw_bad_input("cannot write " + path + ": " + std::strerror(errno));
    const auto fail = [&](int e) {
      ::close(fd);
      throw_bad_input("cannot write " + path + ": " + std::strerror(e));
    };
    for (const FilePart& part : parts) {
      const char* p = static_cast<const char*>(part.data);
      std::size_t done = 0;
      while (done < part.bytes) {
        const ssize_t w = ::pwrite(fd, p + done, part.bytes - done, off_t(part.offset + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) fail(w < 0 ? errno : EIO);
        done += std::size_t(w);
      }
    }
    if (::fsync(fd) != 0) fail(errno);
    if (::close(fd) != 0) throw_bad_input("cannot write " + path + ": " + std::strerror(errno));
  });
}

const Comm& single_process_comm() {
  static const SingleComm comm;
  return comm;
}

void collective(const Comm& comm, const std::function<void()>& f) {
  if (comm.size() == 1) {
    f();
    return;
  }
  CommStatus local;
  try {
    f();
  } catch (const Error& e) {
    local = {e.exit_code(), e.what()};
  } catch (const std::bad_alloc&) {
    local = {1, "out of memory"};
  } catch (const std::exception& e) {
    local = {1, e.what()};
  }
  const CommStatus agreed = comm.agree(local);
  if (agreed.code != 0) throw_status(agreed);
}

void on_root(const Comm& comm, const std::function<void()>& f) {
  collective(comm, [&] {
    if (comm.root()) f();
  });
}

void broadcast_string(const Comm& comm, std::string& s, int root) {
  if (comm.size() == 1) return;
  std::uint64_t len = s.size();
  comm.broadcast(&len, sizeof(len), root);
  s.resize(std::size_t(len));
  if (len > 0) comm.broadcast(s.data(), std::size_t(len), root);
}

void require_same(const Comm& comm, const std::string& what, const std::string& value) {
  if (comm.size() == 1) return;
  std::string ref = value;
  broadcast_string(comm, ref, 0);
  collective(comm, [&] {
    if (ref != value) {
      throw_bad_input(what + " differs between ranks: rank " + std::to_string(comm.rank()) +
                      "'s is not rank 0's (every rank must run the same command)");
    }
  });
}

}  // namespace nwgf
