#pragma once
// NumPy .npy point sets (CONTRACT.md): little-endian float32 or float64, C order, shape (N, d).
// Anything else (other dtypes, big-endian, Fortran order, rank != 2, empty, short or long data,
// NaN/Inf values, a broken header) is a bad-input error naming the file and the problem.
#include <string>
#include <vector>

#include "nwgf/engine/types.hpp"

namespace nwgf {

template <class T>
struct HostMatrix {
  std::vector<T> data;  // rows x cols, row-major
  index_t rows = 0, cols = 0;
};

struct NpyInfo {
  DType dtype = DType::f64;
  index_t rows = 0, cols = 0;
};

// Reads and validates; values are converted to T.
template <class T>
HostMatrix<T> read_npy(const std::string& path);
// Parses an in-memory file (for tests and fuzzing); `name` is used in messages.
template <class T>
HostMatrix<T> parse_npy(const std::string& bytes, const std::string& name);
NpyInfo parse_npy_header(const std::string& bytes, const std::string& name);
// rank 1: shape (N,), reported as rows = N, cols = 1; rank 2: as above.
NpyInfo parse_npy_header(const std::string& bytes, const std::string& name, int rank);

// The header of a point-set file (read without its data; the data's length is checked against
// the file's size), and rows [first, last) of it (only those bytes read, values converted to T
// and checked as read_npy checks them): for the sharded runs, each rank its own rows.
NpyInfo read_npy_info(const std::string& path);
template <class T>
HostMatrix<T> read_npy_rows(const std::string& path, index_t first, index_t last);

// 1-D arrays of shape (N,) (e.g. the weights of a weighted point set), validated like the point
// sets (finite values, float32 or float64).
template <class T>
std::vector<T> read_npy_vector(const std::string& path);
template <class T>
void write_npy_vector(const std::string& path, const T* data, index_t n);

// Writes rows x cols row-major values atomically (temporary name + rename).
template <class T>
void write_npy(const std::string& path, const T* data, index_t rows, index_t cols);
template <class T>
std::string encode_npy(const T* data, index_t rows, index_t cols);
// The header (magic, lengths, padded dict) that write_npy / write_npy_vector put before the
// data, for writers that place the rows themselves (the ranks' collective snapshots).
template <class T>
std::string npy_header(index_t rows, index_t cols);
template <class T>
std::string npy_vector_header(index_t n);

}  // namespace nwgf
