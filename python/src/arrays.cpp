// Array arguments of the Python module (arrays.hpp).
#include "python/src/arrays.hpp"

#include <cmath>
#include <string>
#include <utility>

namespace nwgf::py {
namespace {

// Element (i, j) of a 2-D array (i only for 1-D) converted to T; strides in elements.
template <class T, class S>
void gather(const AnyArray& a, T* out) {
  const S* base = static_cast<const S*>(a.data());
  if (a.ndim() == 1) {
    const index_t n = index_t(a.shape(0)), s0 = a.stride(0);
    for (index_t i = 0; i < n; ++i) out[i] = T(base[i * s0]);
    return;
  }
  const index_t rows = index_t(a.shape(0)), cols = index_t(a.shape(1));
  const index_t s0 = a.stride(0), s1 = a.stride(1);
  for (index_t i = 0; i < rows; ++i) {
    for (index_t j = 0; j < cols; ++j) out[i * cols + j] = T(base[i * s0 + j * s1]);
  }
}

template <class T>
void check_finite(const T* v, index_t count, index_t cols, const char* name) {
  for (index_t k = 0; k < count; ++k) {
    if (!std::isfinite(v[k])) {
      std::string where = cols > 0 ? "row " + std::to_string(k / cols) + ", column " +
                                         std::to_string(k % cols)
                                   : "entry " + std::to_string(k);
      throw nb::value_error((std::string(name) + ": contains NaN or Inf (first at " + where +
                             ")").c_str());
    }
  }
}

template <class T>
void read_into(const AnyArray& a, bool f64, T* out) {
  if (f64) {
    gather<T, double>(a, out);
  } else {
    gather<T, float>(a, out);
  }
}

}  // namespace

AnyArray as_array(nb::handle obj, const char* name) {
  AnyArray a;
  if (obj.is_none() || !nb::try_cast(obj, a, false)) {
    throw nb::type_error((std::string(name) +
                          ": expected an array (numpy, torch, cupy, jax, ...), got " +
                          nb::type_name(obj.type()).c_str())
                             .c_str());
  }
  return a;
}

bool is_f64(const AnyArray& a, const char* name) {
  if (a.dtype() == nb::dtype<double>()) return true;
  if (a.dtype() == nb::dtype<float>()) return false;
  const nb::dlpack::dtype t = a.dtype();
  throw nb::type_error((std::string(name) + ": expected float32 or float64 values, got dtype code " +
                        std::to_string(int(t.code)) + " with " + std::to_string(int(t.bits)) +
                        " bits")
                           .c_str());
}

void require_cpu(const AnyArray& a, const char* name) {
  if (a.device_type() != nb::device::cpu::value) {
    throw nb::value_error((std::string(name) + ": the array lives on a device (DLPack device type " +
                           std::to_string(a.device_type()) +
                           "); this function reads host memory: move it to the CPU first")
                              .c_str());
  }
}

template <class T>
HostPoints<T> points_arg(const AnyArray& a, const char* name) {
  require_cpu(a, name);
  const bool f64 = is_f64(a, name);
  if (a.ndim() != 2) {
    throw nb::value_error((std::string(name) + ": expected a 2-D array of shape (N, d), got " +
                           std::to_string(a.ndim()) + " dimension(s)")
                              .c_str());
  }
  HostPoints<T> p;
  p.rows = index_t(a.shape(0));
  p.cols = index_t(a.shape(1));
  if (p.rows < 1 || p.cols < 1) {
    throw nb::value_error((std::string(name) + ": expected at least one point and one coordinate, "
                           "got shape (" + std::to_string(p.rows) + ", " + std::to_string(p.cols) +
                           ")")
                              .c_str());
  }
  const bool c_order = a.stride(1) == 1 && (p.rows == 1 || a.stride(0) == p.cols);
  if (c_order && f64 == std::is_same_v<T, double>) {
    p.data = static_cast<const T*>(a.data());
  } else {
    p.copy.resize(std::size_t(p.rows * p.cols));
    read_into(a, f64, p.copy.data());
    p.data = p.copy.data();
  }
  check_finite(p.data, p.rows * p.cols, p.cols, name);
  return p;
}

template <class T>
std::vector<T> vector_arg(const AnyArray& a, index_t n, const char* name) {
  require_cpu(a, name);
  const bool f64 = is_f64(a, name);
  if (a.ndim() != 1 || index_t(a.shape(0)) != n) {
    std::string got = "(";
    for (std::size_t i = 0; i < a.ndim(); ++i) got += (i ? ", " : "") + std::to_string(a.shape(i));
    throw nb::value_error((std::string(name) + ": expected shape (" + std::to_string(n) +
                           ",), one weight per point, got " + got + (a.ndim() == 1 ? ",)" : ")"))
                              .c_str());
  }
  std::vector<T> v(static_cast<std::size_t>(n));
  read_into(a, f64, v.data());
  check_finite(v.data(), n, 0, name);
  return v;
}

template <class T>
nb::object numpy_owning(std::vector<T>&& values, index_t rows, index_t cols) {
  auto* owned = new std::vector<T>(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  const std::size_t shape[2] = {std::size_t(rows), std::size_t(cols < 0 ? 0 : cols)};
  return nb::ndarray<nb::numpy, T>(owned->data(), cols < 0 ? 1 : 2, shape, owner).cast();
}

void check_r(double r) {
  if (!(r > 0.0 && r < 2.0)) {
    throw nb::value_error(
        ("r: the Riesz exponent must lie in (0, 2), got " + std::to_string(r)).c_str());
  }
}

template HostPoints<float> points_arg<float>(const AnyArray&, const char*);
template HostPoints<double> points_arg<double>(const AnyArray&, const char*);
template std::vector<float> vector_arg<float>(const AnyArray&, index_t, const char*);
template std::vector<double> vector_arg<double>(const AnyArray&, index_t, const char*);
template nb::object numpy_owning<float>(std::vector<float>&&, index_t, index_t);
template nb::object numpy_owning<double>(std::vector<double>&&, index_t, index_t);

}  // namespace nwgf::py
