// Files written by all ranks together (engine/comm/comm.hpp): write_file_atomic_all, the
// temporary name and the rename around Comm::write_at_all (comm.cpp: pwrite; mpi_comm.cpp:
// MPI-IO).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"

namespace nwgf {

void write_file_atomic_all(const Comm& comm, const std::string& path,
                           const std::vector<FilePart>& parts) {
  // Rank 0's pid names the temporary file on every rank.
  std::int64_t pid = ::getpid();
  comm.broadcast(&pid, sizeof(pid), 0);
  const std::string tmp = path + ".tmp." + std::to_string(pid);
  try {
    on_root(comm, [&] {
      const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || ::close(fd) != 0) {
        throw_bad_input("cannot write " + path + ": " + std::strerror(errno));
      }
    });
    // MPI_File_open is collective: a rank that cannot open the file while the others can would
    // leave them holding a handle they cannot close, so every rank tries plain open(2) first.
    collective(comm, [&] {
      if (comm.root()) return;
      const int fd = ::open(tmp.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::close(fd) != 0) {
        throw_bad_input("cannot write " + path + " on rank " + std::to_string(comm.rank()) + ": " +
                        std::strerror(errno) +
                        " (the output directory must be on a file system that every rank shares)");
      }
    });
    try {
      comm.write_at_all(tmp, parts);
    } catch (const Error& e) {
      // The message names the file, not its temporary name (the same rewrite on every rank).
      std::string m = e.what();
      const auto at = m.find(tmp);
      if (at != std::string::npos) m.replace(at, tmp.size(), path);
      throw Error(e.kind(), m);
    }
    // The file must end where the last part ends (a write that no call reported as failed but
    // that left the file short).
    std::uint64_t end = 0;
    for (const FilePart& p : parts) {
      if (p.bytes > 0) end = std::max<std::uint64_t>(end, p.offset + p.bytes);
    }
    std::vector<std::uint64_t> ends(std::size_t(comm.size()));
    std::vector<std::size_t> counts(ends.size(), sizeof(std::uint64_t)), offsets(ends.size());
    for (std::size_t q = 0; q < ends.size(); ++q) offsets[q] = q * sizeof(std::uint64_t);
    ends[std::size_t(comm.rank())] = end;
    comm.allgather(ends.data(), counts, offsets);
    on_root(comm, [&] {
      struct stat st;
      if (::stat(tmp.c_str(), &st) != 0) {
        throw_bad_input("cannot write " + path + ": " + std::strerror(errno));
      }
      const std::uint64_t want = *std::max_element(ends.begin(), ends.end());
      if (std::uint64_t(st.st_size) != want) {
        throw_bad_input("cannot write " + path + ": the file has " +
                        std::to_string(std::uint64_t(st.st_size)) + " bytes after the writes, " +
                        std::to_string(want) + " expected");
      }
      rename_into_place(tmp, path);
    });
  } catch (const Error&) {
    // Every rank is here with the same agreed error; rank 0 removes what is left (best effort).
    if (comm.root()) ::unlink(tmp.c_str());
    throw;
  }
}

}  // namespace nwgf
