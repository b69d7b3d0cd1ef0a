#include "nwgf/engine/io/npy.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"

namespace nwgf {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw_bad_input(name + ": " + what);
}

// The header is a Python dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }
struct HeaderParser {
  const std::string& s;
  const std::string& name;
  std::size_t i = 0;

  void skip_ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool eat(char c) {
    skip_ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(name, std::string("malformed .npy header (expected '") + c + "')");
  }
  std::string string_lit() {
    skip_ws();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) fail(name, "malformed .npy header (expected a string)");
    const char q = s[i++];
    const std::size_t start = i;
    while (i < s.size() && s[i] != q) ++i;
    if (i >= s.size()) fail(name, "malformed .npy header (unterminated string)");
    return s.substr(start, i++ - start);
  }
  bool bool_lit() {
    skip_ws();
    if (s.compare(i, 4, "True") == 0) { i += 4; return true; }
    if (s.compare(i, 5, "False") == 0) { i += 5; return false; }
    fail(name, "malformed .npy header (fortran_order must be True or False)");
  }
  std::vector<std::int64_t> tuple_lit() {
    expect('(');
    std::vector<std::int64_t> dims;
    while (!eat(')')) {
      skip_ws();
      if (i >= s.size() || s[i] < '0' || s[i] > '9') fail(name, "malformed .npy header (bad shape)");
      std::int64_t v = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (v > (std::numeric_limits<std::int64_t>::max() - 9) / 10) fail(name, "shape too large");
        v = v * 10 + (s[i++] - '0');
      }
      dims.push_back(v);
      if (!eat(',')) {
        expect(')');
        break;
      }
    }
    return dims;
  }
};


}  // namespace

// Rank-generic reading and writing behind the (N, d) and (N,) functions.
template <class T>
HostMatrix<T> parse_npy_rank(const std::string& bytes, const std::string& name, int rank);
template <class T>
std::string encode_npy_shape(const T* data, index_t rows, index_t cols, const std::string& shape);

namespace {

template <class T>
std::string npy_header_shape(const std::string& shape) {
  std::string header = "{'descr': '";
  header.append(sizeof(T) == 4 ? "<f4" : "<f8")
      .append("', 'fortran_order': False, 'shape': ")
      .append(shape)
      .append(", }");
  // Pad with spaces so that magic + lengths + header + '\n' is a multiple of 64 bytes.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(char(header.size() & 0xff));
  out.push_back(char(header.size() >> 8));
  out += header;
  return out;
}

}  // namespace

NpyInfo parse_npy_header(const std::string& bytes, const std::string& name) {
  return parse_npy_header(bytes, name, 2);
}

namespace {
// parse_npy_header of a file of `total` bytes of which `bytes` holds at least the header; the
// data's first byte at *data_offset.
NpyInfo parse_npy_header_sized(const std::string& bytes, std::size_t total, const std::string& name,
                               int rank, std::size_t* data_offset);
// The header of the file at path (only its first bytes read); *data_offset: where the data start.
NpyInfo read_npy_info_at(const std::string& path, std::size_t* data_offset) {
  const std::uint64_t total = file_size(path);
  std::string head = read_file_range(path, 0, std::size_t(std::min<std::uint64_t>(total, 12)));
  std::size_t need = head.size();
  if (head.size() >= 10 && std::memcmp(head.data(), "\x93NUMPY", 6) == 0) {
    const unsigned major = std::uint8_t(head[6]);
    if (major == 1) {
      need = 10 + (std::uint8_t(head[8]) | (std::size_t(std::uint8_t(head[9])) << 8));
    } else if (head.size() >= 12) {
      std::size_t len = 0;
      for (int k = 0; k < 4; ++k) len |= std::size_t(std::uint8_t(head[8 + k])) << (8 * k);
      need = 12 + len;
    }
  }
  need = std::size_t(std::min<std::uint64_t>(total, need));
  if (need > head.size()) head = read_file_range(path, 0, need);
  return parse_npy_header_sized(head, std::size_t(total), path, 2, data_offset);
}
}  // namespace

NpyInfo parse_npy_header(const std::string& bytes, const std::string& name, int rank) {
  return parse_npy_header_sized(bytes, bytes.size(), name, rank, nullptr);
}

namespace {
NpyInfo parse_npy_header_sized(const std::string& bytes, std::size_t total, const std::string& name,
                               int rank, std::size_t* data_offset) {
  static const char magic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::memcmp(bytes.data(), magic, 6) != 0)
    fail(name, "not a .npy file (bad magic string)");
  const unsigned major = std::uint8_t(bytes[6]);
  std::size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = std::uint8_t(bytes[8]) | (std::size_t(std::uint8_t(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(name, "truncated .npy header");
    header_len = 0;
    for (int k = 0; k < 4; ++k) header_len |= std::size_t(std::uint8_t(bytes[8 + k])) << (8 * k);
    header_start = 12;
  } else {
    fail(name, "unsupported .npy format version " + std::to_string(major));
  }
  if (bytes.size() < header_start + header_len) fail(name, "truncated .npy header");
  const std::string header = bytes.substr(header_start, header_len);

  HeaderParser p{header, name};
  std::optional<std::string> descr;
  std::optional<bool> fortran;
  std::optional<std::vector<std::int64_t>> shape;
  p.expect('{');
  while (!p.eat('}')) {
    const std::string key = p.string_lit();
    p.expect(':');
    if (key == "descr") {
      descr = p.string_lit();
    } else if (key == "fortran_order") {
      fortran = p.bool_lit();
    } else if (key == "shape") {
      shape = p.tuple_lit();
    } else {
      fail(name, "unexpected key '" + key + "' in .npy header");
    }
    if (!p.eat(',')) {
      p.expect('}');
      break;
    }
  }
  if (!descr || !fortran || !shape) fail(name, "malformed .npy header (missing descr, fortran_order or shape)");

  NpyInfo info;
  if (*descr == "<f4" || (*descr == "=f4" && std::endian::native == std::endian::little)) {
    info.dtype = DType::f32;
  } else if (*descr == "<f8" || (*descr == "=f8" && std::endian::native == std::endian::little)) {
    info.dtype = DType::f64;
  } else {
    fail(name, "unsupported dtype '" + *descr + "' (expected little-endian float32 '<f4' or float64 '<f8')");
  }
  if (*fortran) fail(name, "Fortran-order arrays are not supported (expected C order)");
  if (rank == 1) {
    if (shape->size() != 1)
      fail(name, "expected a 1-D array of shape (N,), got rank " + std::to_string(shape->size()));
    info.rows = (*shape)[0];
    info.cols = 1;
  } else {
    if (shape->size() != 2)
      fail(name, "expected a 2-D array of shape (N, d), got rank " + std::to_string(shape->size()));
    info.rows = (*shape)[0];
    info.cols = (*shape)[1];
  }
  if (info.rows < 1 || info.cols < 1)
    fail(name, "empty point set: shape (" + std::to_string(info.rows) + ", " + std::to_string(info.cols) + ")");
  if (info.rows > (std::int64_t(1) << 40) / info.cols) fail(name, "shape too large");

  const std::size_t elem = info.dtype == DType::f32 ? 4 : 8;
  const std::size_t need = std::size_t(info.rows) * std::size_t(info.cols) * elem;
  const std::size_t have = total - header_start - header_len;
  if (have < need)
    fail(name, "data too short: shape needs " + std::to_string(need) + " bytes, file has " + std::to_string(have));
  if (have > need)
    fail(name, "trailing bytes after the data (" + std::to_string(have - need) + " extra)");
  if (data_offset) *data_offset = header_start + header_len;
  return info;
}
}  // namespace

NpyInfo read_npy_info(const std::string& path) {
  std::size_t offset = 0;
  return read_npy_info_at(path, &offset);
}

template <class T>
HostMatrix<T> parse_npy(const std::string& bytes, const std::string& name) {
  return parse_npy_rank<T>(bytes, name, 2);
}

template <class T>
HostMatrix<T> parse_npy_rank(const std::string& bytes, const std::string& name, int rank) {
  const NpyInfo info = parse_npy_header(bytes, name, rank);
  const std::size_t n = std::size_t(info.rows) * std::size_t(info.cols);
  const std::size_t elem = info.dtype == DType::f32 ? 4 : 8;
  const char* data = bytes.data() + (bytes.size() - n * elem);
  HostMatrix<T> m;
  m.rows = info.rows;
  m.cols = info.cols;
  m.data.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    double v;
    if (info.dtype == DType::f32) {
      float f;
      std::memcpy(&f, data + 4 * k, 4);
      v = f;
    } else {
      std::memcpy(&v, data + 8 * k, 8);
    }
    if (!std::isfinite(v)) {
      fail(name, std::string(std::isnan(v) ? "NaN" : "Inf") + " value at row " +
                     std::to_string(k / std::size_t(info.cols)) + ", column " +
                     std::to_string(k % std::size_t(info.cols)));
    }
    m.data[k] = T(v);
  }
  return m;
}

template <class T>
HostMatrix<T> read_npy(const std::string& path) {
  return parse_npy<T>(read_file(path), path);
}

template <class T>
HostMatrix<T> read_npy_rows(const std::string& path, index_t first, index_t last) {
  std::size_t offset = 0;
  const NpyInfo info = read_npy_info_at(path, &offset);
  if (first < 0 || last < first || last > info.rows) {
    fail(path, "rows [" + std::to_string(first) + ", " + std::to_string(last) +
                   ") asked of a file of " + std::to_string(info.rows) + " rows");
  }
  const std::size_t elem = info.dtype == DType::f32 ? 4 : 8;
  const std::size_t row_bytes = std::size_t(info.cols) * elem;
  const std::string bytes =
      read_file_range(path, std::uint64_t(offset) + std::uint64_t(first) * row_bytes,
                      std::size_t(last - first) * row_bytes);
  HostMatrix<T> m;
  m.rows = last - first;
  m.cols = info.cols;
  const std::size_t n = std::size_t(m.rows) * std::size_t(m.cols);
  m.data.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    double v;
    if (info.dtype == DType::f32) {
      float f;
      std::memcpy(&f, bytes.data() + 4 * k, 4);
      v = f;
    } else {
      std::memcpy(&v, bytes.data() + 8 * k, 8);
    }
    if (!std::isfinite(v)) {
      fail(path, std::string(std::isnan(v) ? "NaN" : "Inf") + " value at row " +
                     std::to_string(std::size_t(first) + k / std::size_t(info.cols)) + ", column " +
                     std::to_string(k % std::size_t(info.cols)));
    }
    m.data[k] = T(v);
  }
  return m;
}
template HostMatrix<float> read_npy_rows<float>(const std::string&, index_t, index_t);
template HostMatrix<double> read_npy_rows<double>(const std::string&, index_t, index_t);

template <class T>
std::string encode_npy(const T* data, index_t rows, index_t cols) {
  std::string shape = "(";
  shape.append(std::to_string(rows)).append(", ").append(std::to_string(cols)).append(")");
  return encode_npy_shape(data, rows, cols, shape);
}

template <class T>
std::string encode_npy_shape(const T* data, index_t rows, index_t cols, const std::string& shape) {
  std::string out = npy_header_shape<T>(shape);
  out.append(reinterpret_cast<const char*>(data), sizeof(T) * std::size_t(rows * cols));
  return out;
}

template <class T>
std::string npy_header(index_t rows, index_t cols) {
  std::string shape = "(";
  shape.append(std::to_string(rows)).append(", ").append(std::to_string(cols)).append(")");
  return npy_header_shape<T>(shape);
}

template <class T>
std::string npy_vector_header(index_t n) {
  std::string shape = "(";
  shape.append(std::to_string(n)).append(",)");
  return npy_header_shape<T>(shape);
}

template <class T>
void write_npy(const std::string& path, const T* data, index_t rows, index_t cols) {
  write_file_atomic(path, encode_npy(data, rows, cols));
}

template <class T>
std::vector<T> read_npy_vector(const std::string& path) {
  return parse_npy_rank<T>(read_file(path), path, 1).data;
}

template <class T>
void write_npy_vector(const std::string& path, const T* data, index_t n) {
  std::string shape = "(";
  shape.append(std::to_string(n)).append(",)");
  write_file_atomic(path, encode_npy_shape(data, n, 1, shape));
}

template std::vector<float> read_npy_vector<float>(const std::string&);
template std::vector<double> read_npy_vector<double>(const std::string&);
template void write_npy_vector<float>(const std::string&, const float*, index_t);
template void write_npy_vector<double>(const std::string&, const double*, index_t);
template HostMatrix<float> read_npy<float>(const std::string&);
template HostMatrix<double> read_npy<double>(const std::string&);
template HostMatrix<float> parse_npy<float>(const std::string&, const std::string&);
template HostMatrix<double> parse_npy<double>(const std::string&, const std::string&);
template std::string encode_npy<float>(const float*, index_t, index_t);
template std::string encode_npy<double>(const double*, index_t, index_t);
template void write_npy<float>(const std::string&, const float*, index_t, index_t);
template void write_npy<double>(const std::string&, const double*, index_t, index_t);
template std::string npy_header<float>(index_t, index_t);
template std::string npy_header<double>(index_t, index_t);
template std::string npy_vector_header<float>(index_t);
template std::string npy_vector_header<double>(index_t);

}  // namespace nwgf
