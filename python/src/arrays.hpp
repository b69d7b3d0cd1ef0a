#pragma once
// Array arguments of the Python module: any DLPack/buffer-protocol array (numpy, torch, cupy,
// jax) as a read-only nb::ndarray, checked and viewed as row-major points without a copy when it
// already is C-contiguous with the compute dtype, else gathered once into a contiguous buffer
// (Fortran order, strided views, the other float dtype). Every failure is a Python TypeError or
// ValueError whose message starts with the argument's name.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf::py {

namespace nb = nanobind;
using AnyArray = nb::ndarray<nb::ro>;

// `obj` as an array (TypeError naming `name` when it is none).
AnyArray as_array(nb::handle obj, const char* name);

// True when the array holds float64 (false: float32); TypeError naming `name` for other dtypes.
bool is_f64(const AnyArray& a, const char* name);

// Where the data lives: only host memory is read here (ValueError naming `name` otherwise).
void require_cpu(const AnyArray& a, const char* name);

// A host point set (rows, cols) of T: a view of the caller's memory or of `copy`.
template <class T>
struct HostPoints {
  const T* data = nullptr;
  index_t rows = 0, cols = 0;
  std::vector<T> copy;
  ConstPointsView<T> view() const { return ConstPointsView<T>(data, rows, cols); }
};

// A 2-D float32/float64 array on the host with finite values and at least one row and column.
template <class T>
HostPoints<T> points_arg(const AnyArray& a, const char* name);

// A 1-D float32/float64 array of `n` finite values (weights), as T.
template <class T>
std::vector<T> vector_arg(const AnyArray& a, index_t n, const char* name);

// A fresh numpy array owning `values` (rows, cols) or (rows,) when cols < 0.
template <class T>
nb::object numpy_owning(std::vector<T>&& values, index_t rows, index_t cols);

// The Riesz exponent r in (0, 2) (ValueError naming "r").
void check_r(double r);

}  // namespace nwgf::py
