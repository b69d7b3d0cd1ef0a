#pragma once
// RAII typed buffers on a backend (host memory for cpu, device memory for cuda), copies between
// them, and matrix views whose layout is part of their type.
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

class Context;

// Raw allocation and copies per device, ordered on ctx's stream; only Buffer and the engine's
// own copies call these (math code uses Buffer<T>). copy_bytes returns when the data is usable
// by the host if the destination is the host.
namespace detail {
void* allocate_bytes(const Context& ctx, std::size_t bytes);
void free_bytes(Device device, void* p) noexcept;
void copy_bytes(const Context& ctx, void* dst, Device dst_device, const void* src, Device src_device,
                std::size_t bytes);
void fill_zero_bytes(const Context& ctx, void* p, Device device, std::size_t bytes);
}  // namespace detail

template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Context& ctx, index_t n) : device_(ctx.device()), size_(n) {
    if (n > 0) data_ = static_cast<T*>(detail::allocate_bytes(ctx, sizeof(T) * std::size_t(n)));
  }
  ~Buffer() { reset(); }
  Buffer(Buffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), device_(o.device_), size_(std::exchange(o.size_, 0)) {}
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = std::exchange(o.data_, nullptr);
      device_ = o.device_;
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  index_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Device device() const { return device_; }
  std::size_t bytes() const { return sizeof(T) * std::size_t(size_); }

  void reset() noexcept {
    if (data_) detail::free_bytes(device_, data_);
    data_ = nullptr;
    size_ = 0;
  }

 private:
  T* data_ = nullptr;
  Device device_ = Device::cpu;
  index_t size_ = 0;
};

// dst <- src (same size), any devices.
template <class T>
void copy(const Context& ctx, Buffer<T>& dst, const Buffer<T>& src) {
  if (dst.size() != src.size()) throw_runtime("copy: buffer sizes differ");
  detail::copy_bytes(ctx, dst.data(), dst.device(), src.data(), src.device(), src.bytes());
}
template <class T>
void copy_from_host(const Context& ctx, Buffer<T>& dst, const T* src, index_t n) {
  if (dst.size() != n) throw_runtime("copy_from_host: size mismatch");
  detail::copy_bytes(ctx, dst.data(), dst.device(), src, Device::cpu, sizeof(T) * std::size_t(n));
}
template <class T>
void copy_to_host(const Context& ctx, T* dst, const Buffer<T>& src) {
  detail::copy_bytes(ctx, dst, Device::cpu, src.data(), src.device(), src.bytes());
}
template <class T>
Buffer<T> upload(const Context& ctx, const std::vector<T>& host) {
  Buffer<T> b(ctx, index_t(host.size()));
  copy_from_host(ctx, b, host.data(), index_t(host.size()));
  return b;
}
template <class T>
std::vector<T> download(const Context& ctx, const Buffer<T>& b) {
  std::vector<T> host(std::size_t(b.size()));
  copy_to_host(ctx, host.data(), b);
  return host;
}
template <class T>
void fill_zero(const Context& ctx, Buffer<T>& b) {
  detail::fill_zero_bytes(ctx, b.data(), b.device(), b.bytes());
}

// ---- matrix views ----------------------------------------------------------------------------
struct RowMajor {};
struct ColMajor {};

// A non-owning rows x cols view with leading dimension ld. The layout is a type, not a comment:
// a function that needs row-major points takes PointsView and cannot be handed a ColMajor view.
template <class T, class Layout = RowMajor>
struct MatrixView {
  T* data = nullptr;
  index_t rows = 0, cols = 0, ld = 0;
  Device device = Device::cpu;

  MatrixView() = default;
  MatrixView(T* p, index_t r, index_t c, Device dev = Device::cpu)
      : data(p), rows(r), cols(c), ld(std::is_same_v<Layout, RowMajor> ? c : r), device(dev) {}
  MatrixView(T* p, index_t r, index_t c, index_t ld_, Device dev)
      : data(p), rows(r), cols(c), ld(ld_), device(dev) {}
  // A view of const T from a view of T.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
  MatrixView(const MatrixView<U, Layout>& o)  // NOLINT(google-explicit-constructor)
      : data(o.data), rows(o.rows), cols(o.cols), ld(o.ld), device(o.device) {}

  NWGF_HD T& operator()(index_t i, index_t j) const {
    if constexpr (std::is_same_v<Layout, RowMajor>) {
      return data[i * ld + j];
    } else {
      return data[j * ld + i];
    }
  }
  index_t size() const { return rows * cols; }
};

// N points in R^d, one per row (N x d, row-major).
template <class T>
using PointsView = MatrixView<T, RowMajor>;
template <class T>
using ConstPointsView = MatrixView<const T, RowMajor>;

// An owning point set: a buffer and its shape.
template <class T>
class Points {
 public:
  Points() = default;
  Points(const Context& ctx, index_t n, index_t d) : buf_(ctx, n * d), n_(n), d_(d) {}
  index_t n() const { return n_; }
  index_t d() const { return d_; }
  Device device() const { return buf_.device(); }
  T* data() { return buf_.data(); }
  const T* data() const { return buf_.data(); }
  Buffer<T>& buffer() { return buf_; }
  const Buffer<T>& buffer() const { return buf_; }
  PointsView<T> view() { return PointsView<T>(buf_.data(), n_, d_, buf_.device()); }
  ConstPointsView<T> view() const { return ConstPointsView<T>(buf_.data(), n_, d_, buf_.device()); }

 private:
  Buffer<T> buf_;
  index_t n_ = 0, d_ = 0;
};

}  // namespace nwgf
