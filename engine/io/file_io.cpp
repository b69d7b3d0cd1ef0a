#include "nwgf/engine/io/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nwgf/engine/error.hpp"

namespace nwgf {
namespace {
std::string dir_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

void write_file_atomic(const std::string& path, const void* data, std::size_t bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_bad_input("cannot write " + path + ": " + std::strerror(errno));
  const char* p = static_cast<const char*>(data);
  std::size_t left = bytes;
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw_bad_input("cannot write " + path + ": " + std::strerror(e));
    }
    p += w;
    left -= std::size_t(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw_bad_input("cannot write " + path + ": " + std::strerror(e));
  }
  rename_into_place(tmp, path);
}

void rename_into_place(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw_bad_input("cannot write " + path + ": " + std::strerror(e));
  }
  const int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("cannot read " + path + ": " + std::strerror(errno));
  // A directory opens as a stream on Linux and reads as empty.
  if (std::filesystem::is_directory(path))
    throw_bad_input("cannot read " + path + ": is a directory");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw_bad_input("cannot read " + path);
  return ss.str();
}

std::uint64_t file_size(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw_bad_input("cannot read " + path + ": is a directory");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw_bad_input("cannot read " + path + ": " + ec.message());
  return std::uint64_t(size);
}

std::string read_file_range(const std::string& path, std::uint64_t offset, std::size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("cannot read " + path + ": " + std::strerror(errno));
  std::string out(bytes, '\0');
  in.seekg(std::streamoff(offset));
  if (bytes > 0) in.read(out.data(), std::streamsize(bytes));
  if (!in || std::size_t(in.gcount()) != bytes) {
    throw_bad_input("cannot read " + path + ": " + std::to_string(bytes) + " bytes at " +
                    std::to_string(offset) + " are past its end (truncated?)");
  }
  return out;
}

}  // namespace nwgf
