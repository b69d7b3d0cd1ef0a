#include "nwgf/engine/io/idx.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "nwgf/engine/error.hpp"

namespace nwgf {
namespace {

// At most 2^31 values in a file: MNIST-sized data sets are far below; a header claiming more is
// damaged (and would not fit in memory as doubles anyway).
constexpr index_t max_values = index_t(1) << 31;
// deflate expands by at most 1032:1, so a compressed stream bounds the bytes it can hold.
constexpr index_t max_deflate_ratio = 1032;
// Bytes decoded per read: whole items of every type (multiple of 8).
constexpr index_t chunk_bytes = index_t(1) << 20;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw_bad_input(name + ": " + what);
}

int type_size(std::uint8_t type) {
  switch (type) {
    case 0x08:
    case 0x09:
      return 1;
    case 0x0B:
      return 2;
    case 0x0C:
    case 0x0D:
      return 4;
    case 0x0E:
      return 8;
    default:
      return 0;
  }
}

std::string hex(std::uint8_t b) {
  static const char digits[] = "0123456789abcdef";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

// A byte stream, plain or gzip; read() fills all n bytes or returns how many it had.
class Source {
 public:
  virtual ~Source() = default;
  virtual index_t read(unsigned char* out, index_t n) = 0;
  // Upper bound on the bytes the stream can still deliver (for reserving memory).
  virtual index_t bound() const = 0;
  // Passes over n bytes; returns how many it passed (fewer at the end of the stream).
  virtual index_t skip(index_t n) {
    std::vector<unsigned char> discard(std::size_t(std::min(n, chunk_bytes)));
    index_t done = 0;
    while (done < n) {
      const index_t k = std::min(n - done, chunk_bytes);
      const index_t got = read(discard.data(), k);
      done += got;
      if (got < k) break;
    }
    return done;
  }
};

class MemorySource final : public Source {
 public:
  MemorySource(const std::string& bytes, const std::string& name) : bytes_(bytes), name_(name) {
    gzip_ = bytes.size() >= 2 && std::uint8_t(bytes[0]) == 0x1f && std::uint8_t(bytes[1]) == 0x8b;
    if (!gzip_) return;
    zs_.zalloc = Z_NULL;
    zs_.zfree = Z_NULL;
    zs_.opaque = Z_NULL;
    if (inflateInit2(&zs_, 15 + 32) != Z_OK) throw_runtime(name + ": zlib inflateInit2 failed");
  }
  ~MemorySource() override {
    if (gzip_) inflateEnd(&zs_);
  }

  index_t read(unsigned char* out, index_t n) override {
    if (!gzip_) {
      const index_t k = std::min<index_t>(n, index_t(bytes_.size() - pos_));
      std::memcpy(out, bytes_.data() + pos_, std::size_t(k));
      pos_ += std::size_t(k);
      return k;
    }
    zs_.next_out = out;
    zs_.avail_out = uInt(n);  // n <= chunk_bytes
    while (zs_.avail_out > 0 && !ended_) {
      if (zs_.avail_in == 0 && pos_ < bytes_.size()) {
        const std::size_t k = std::min<std::size_t>(bytes_.size() - pos_, UINT_MAX);
        zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes_.data() + pos_));
        zs_.avail_in = uInt(k);
        pos_ += k;
      }
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // gzip members may be concatenated (as gzread reads them); anything else is ignored.
        const std::size_t next = pos_ - zs_.avail_in;
        if (bytes_.size() - next >= 2 && std::uint8_t(bytes_[next]) == 0x1f &&
            std::uint8_t(bytes_[next + 1]) == 0x8b) {
          inflateReset(&zs_);
        } else {
          ended_ = true;
        }
      } else if (rc == Z_BUF_ERROR) {
        // No progress possible: the input is used up mid-stream.
        fail(name_, "truncated gzip stream");
      } else if (rc == Z_MEM_ERROR) {
        throw_runtime(name_ + ": out of memory inflating");
      } else if (rc != Z_OK) {
        fail(name_,
             std::string("corrupt gzip stream (") + (zs_.msg ? zs_.msg : "zlib error") + ")");
      }
    }
    return n - index_t(zs_.avail_out);
  }

  index_t bound() const override {
    const index_t left = index_t(bytes_.size() - pos_) + (gzip_ ? index_t(zs_.avail_in) : 0);
    return gzip_ ? left * max_deflate_ratio : left;
  }

 private:
  const std::string& bytes_;
  const std::string& name_;
  std::size_t pos_ = 0;
  bool gzip_ = false, ended_ = false;
  z_stream zs_{};
};

// zlib's gz* reads plain files transparently and inflates gzip ones as a stream, so reading
// the first items of a large .gz inflates only what they need.
class FileSource final : public Source {
 public:
  explicit FileSource(const std::string& path) : path_(path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      fail(path, std::string("cannot read: ") + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail(path, "cannot read: is a directory");
    size_ = index_t(st.st_size);
    f_ = gzopen(path.c_str(), "rb");
    if (!f_) fail(path, std::string("cannot read: ") + std::strerror(errno ? errno : ENOMEM));
    gzbuffer(f_, 1 << 17);
  }
  ~FileSource() override { gzclose(f_); }

  index_t read(unsigned char* out, index_t n) override {
    const int got = gzread(f_, out, unsigned(n));  // n <= chunk_bytes
    int err = Z_OK;
    std::string msg = gzerror(f_, &err);
    if (msg.rfind(path_ + ": ", 0) == 0) msg.erase(0, path_.size() + 2);  // gzerror names the file
    if (got < 0 || (err != Z_OK && err != Z_BUF_ERROR)) {
      fail(path_, err == Z_ERRNO ? std::string("read error (") + std::strerror(errno) + ")"
                                 : "corrupt gzip stream (" + msg + ")");
    }
    if (err == Z_BUF_ERROR) fail(path_, "truncated gzip stream");
    consumed_ += got;
    return got;
  }

  index_t bound() const override {
    return gzdirect(f_) ? size_ - consumed_ : size_ * max_deflate_ratio;
  }

  // A plain file seeks (no bytes read); a gzip stream inflates what it passes over.
  index_t skip(index_t n) override {
    if (!gzdirect(f_)) return Source::skip(n);
    const index_t left = std::max<index_t>(size_ - consumed_, 0), k = std::min(n, left);
    if (gzseek(f_, z_off_t(k), SEEK_CUR) < 0) fail(path_, "cannot seek");
    consumed_ += k;
    return k;
  }

 private:
  std::string path_;
  gzFile f_ = nullptr;
  index_t size_ = 0, consumed_ = 0;
};

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

IdxHeader parse_header(Source& src, const std::string& name) {
  std::array<unsigned char, 4> magic{};
  if (src.read(magic.data(), 4) < 4) fail(name, "truncated IDX header (shorter than 4 bytes)");
  if (magic[0] != 0 || magic[1] != 0) {
    fail(name, "not an IDX file (magic starts " + hex(magic[0]) + " " + hex(magic[1]) +
                   ", expected 0x00 0x00)");
  }
  IdxHeader h;
  h.type = magic[2];
  if (type_size(h.type) == 0) fail(name, "unknown IDX item type " + hex(h.type));
  const int ndim = magic[3];
  if (ndim < 1 || ndim > 8) fail(name, "IDX rank " + std::to_string(ndim) + " (must be 1..8)");
  std::array<unsigned char, 32> raw{};
  if (src.read(raw.data(), 4 * ndim) < 4 * ndim) fail(name, "truncated IDX header (dimensions)");
  index_t values = 1;
  for (int k = 0; k < ndim; ++k) {
    const index_t dim = be32(raw.data() + 4 * k);
    if (dim == 0) fail(name, "IDX dimension " + std::to_string(k) + " has size 0");
    // dim < 2^32 and values <= 2^31: the product cannot overflow before the check.
    values *= dim;
    if (values > max_values) fail(name, "IDX dimensions too large (more than 2^31 values)");
    h.dims.push_back(dim);
  }
  return h;
}

template <class Raw>
Raw load_be(const unsigned char* p) {
  using U = std::conditional_t<
      sizeof(Raw) == 1, std::uint8_t,
      std::conditional_t<sizeof(Raw) == 2, std::uint16_t,
                         std::conditional_t<sizeof(Raw) == 4, std::uint32_t, std::uint64_t>>>;
  U u = 0;
  for (std::size_t b = 0; b < sizeof(Raw); ++b) u = U((u << 8) | p[b]);
  return std::bit_cast<Raw>(u);
}

// Converts k big-endian values of type Raw into out; false at a non-finite float (its index
// into `bad`).
template <class Raw>
bool convert(const unsigned char* in, index_t k, double* out, index_t& bad) {
  for (index_t i = 0; i < k; ++i) out[i] = double(load_be<Raw>(in + i * index_t(sizeof(Raw))));
  if constexpr (std::is_floating_point_v<Raw>) {
    for (index_t i = 0; i < k; ++i) {
      if (!std::isfinite(out[i])) {
        bad = i;
        return false;
      }
    }
  }
  return true;
}

// count (0: all) as read_idx counts; the items [first, last) of them (last < 0: count).
index_t checked_count(const IdxHeader& h, const std::string& name, index_t count) {
  if (count < 0) fail(name, "item count " + std::to_string(count) + " is negative");
  if (count > h.items()) {
    fail(name, "asked for " + std::to_string(count) + " items, the file has " +
                   std::to_string(h.items()));
  }
  return count == 0 ? h.items() : count;
}

HostMatrix<double> read_body(Source& src, const IdxHeader& h, const std::string& name,
                             index_t count, index_t first = 0, index_t last = -1) {
  count = checked_count(h, name, count);
  if (last < 0) last = count;
  if (first < 0 || first > last || last > count) {
    fail(name, "items [" + std::to_string(first) + ", " + std::to_string(last) +
                   ") are not among the first " + std::to_string(count));
  }
  const index_t cols = h.item_size(), values = (last - first) * cols, size = type_size(h.type);
  const auto truncated = [&] {
    fail(name, "truncated IDX data (" + std::to_string(count) + " items of " +
                   std::to_string(cols) + " values need " + std::to_string(count * cols * size) +
                   " bytes after the header)");
  };
  if (first > 0 && src.skip(first * cols * size) < first * cols * size) truncated();
  HostMatrix<double> m;
  m.rows = last - first;
  m.cols = cols;
  // Reserve only what the stream could hold: a damaged header cannot make us allocate 16 GB.
  m.data.reserve(std::size_t(std::min(values, std::max<index_t>(src.bound(), 0) / size)));
  static const auto u8_scale = [] {
    std::array<double, 256> t{};
    for (int k = 0; k < 256; ++k) t[std::size_t(k)] = k / 255.0;
    return t;
  }();
  std::vector<unsigned char> buf(std::size_t(std::min(values * size, chunk_bytes)));
  for (index_t done = 0; done < values;) {
    const index_t k = std::min(values - done, chunk_bytes / size);
    if (src.read(buf.data(), k * size) < k * size) truncated();
    m.data.resize(std::size_t(done + k));
    double* out = m.data.data() + done;
    index_t bad = -1;
    bool ok = true;
    switch (h.type) {
      case 0x08:
        for (index_t i = 0; i < k; ++i) out[i] = u8_scale[buf[std::size_t(i)]];
        break;
      case 0x09:
        ok = convert<std::int8_t>(buf.data(), k, out, bad);
        break;
      case 0x0B:
        ok = convert<std::int16_t>(buf.data(), k, out, bad);
        break;
      case 0x0C:
        ok = convert<std::int32_t>(buf.data(), k, out, bad);
        break;
      case 0x0D:
        ok = convert<float>(buf.data(), k, out, bad);
        break;
      default:
        ok = convert<double>(buf.data(), k, out, bad);
        break;
    }
    if (!ok) {
      const index_t at = done + bad;
      fail(name, "non-finite value (item " + std::to_string(first + at / cols) + ", value " +
                     std::to_string(at % cols) + ")");
    }
    done += k;
  }
  return m;
}

}  // namespace

index_t IdxHeader::item_size() const {
  index_t s = 1;
  for (std::size_t k = 1; k < dims.size(); ++k) s *= dims[k];
  return s;
}

IdxHeader read_idx_header(const std::string& path) {
  FileSource src(path);
  return parse_header(src, path);
}

HostMatrix<double> read_idx(const std::string& path, index_t count) {
  FileSource src(path);
  const IdxHeader h = parse_header(src, path);
  return read_body(src, h, path, count);
}

HostMatrix<double> read_idx_rows(const std::string& path, index_t count, index_t first,
                                 index_t last) {
  FileSource src(path);
  const IdxHeader h = parse_header(src, path);
  return read_body(src, h, path, count, first, last);
}

HostMatrix<double> parse_idx(const std::string& bytes, const std::string& name, index_t count) {
  MemorySource src(bytes, name);
  const IdxHeader h = parse_header(src, name);
  return read_body(src, h, name, count);
}

}  // namespace nwgf
