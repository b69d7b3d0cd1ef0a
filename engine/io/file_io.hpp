#pragma once
// Files are never half-written: write to a temporary name in the same directory, fsync, rename,
// fsync the directory. A failure is a bad-input error naming the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nwgf {

void write_file_atomic(const std::string& path, const void* data, std::size_t bytes);
// The last step of such a write: renames the written and synced temporary file `tmp` to `path`
// (a failure removes tmp and is a bad-input error naming path), then fsyncs path's directory.
void rename_into_place(const std::string& tmp, const std::string& path);
inline void write_file_atomic(const std::string& path, std::string_view text) {
  write_file_atomic(path, text.data(), text.size());
}
// Whole file into memory; a missing or unreadable file is a bad-input error naming it.
std::string read_file(const std::string& path);
// The file's size in bytes, and `bytes` bytes of it from byte `offset` (the sharded runs read
// their own rows only); missing, unreadable or too short: a bad-input error naming it.
std::uint64_t file_size(const std::string& path);
std::string read_file_range(const std::string& path, std::uint64_t offset, std::size_t bytes);

}  // namespace nwgf
