// CUDA arrays in the kernel functions (device_arrays.hpp): the sums run on the array's GPU
// without a copy. Inputs must be C-contiguous with one float dtype (no conversion on the
// device); the result of riesz_gradient is a fresh CUDA array (a DLPack capsule the Python side
// hands to the input's framework). Without the CUDA backend every CUDA array is refused with
// the reason, naming the argument.
#include "python/src/device_arrays.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/schemes/scheme_ops.hpp"

namespace nwgf::py {

bool on_cuda(const AnyArray& a) { return a.device_type() == nb::device::cuda::value; }

#ifdef NWGF_HAVE_CUDA
namespace {

[[noreturn]] void bad(const char* name, const std::string& what) {
  throw nb::value_error((std::string(name) + ": " + what).c_str());
}

// One context per thread and device (a CUDA context holds a stream and the cuBLAS handles).
const Context& cuda_context(int device, int threads) {
  thread_local std::vector<std::unique_ptr<Context>> contexts;
  if (device < 0) bad("x", "invalid CUDA device " + std::to_string(device));
  if (contexts.size() <= std::size_t(device)) contexts.resize(std::size_t(device) + 1);
  if (!contexts[std::size_t(device)])
    contexts[std::size_t(device)] = std::make_unique<Context>(Device::cuda, threads, device);
  return *contexts[std::size_t(device)];
}

// A view of a C-contiguous CUDA array of T on `device` with finite values.
template <class T>
ConstPointsView<T> cuda_points(const Context& ctx, const AnyArray& a, int device, const char* name) {
  if (!on_cuda(a) || a.device_id() != device) bad(name, "must be on x's CUDA device");
  if (a.dtype() != nb::dtype<T>()) bad(name, "CUDA arrays must share x's dtype (no conversion on the GPU)");
  if (a.ndim() != 2) bad(name, "expected a 2-D array of shape (N, d)");
  const index_t rows = index_t(a.shape(0)), cols = index_t(a.shape(1));
  if (rows < 1 || cols < 1) bad(name, "expected at least one point and one coordinate");
  if (!(a.stride(1) == 1 && (rows == 1 || a.stride(0) == cols)))
    bad(name, "CUDA arrays must be C-contiguous (make a contiguous copy first)");
  const T* p = static_cast<const T*>(a.data());
  if (!all_finite(ctx, p, rows * cols)) bad(name, "contains NaN or Inf");
  return ConstPointsView<T>(p, rows, cols, Device::cuda);
}

template <class T>
const T* cuda_weights(const Context& ctx, nb::handle obj, index_t n, int device, const char* name) {
  if (obj.is_none()) return nullptr;
  const AnyArray a = as_array(obj, name);
  if (!on_cuda(a) || a.device_id() != device) bad(name, "must be on x's CUDA device");
  if (a.dtype() != nb::dtype<T>()) bad(name, "CUDA arrays must share x's dtype");
  if (a.ndim() != 1 || index_t(a.shape(0)) != n || (n > 1 && a.stride(0) != 1))
    bad(name, "expected a contiguous array of shape (" + std::to_string(n) + ",)");
  const T* p = static_cast<const T*>(a.data());
  if (!all_finite(ctx, p, n)) bad(name, "contains NaN or Inf");
  return p;
}

template <class T>
nb::object cuda_pair(const AnyArray& x, const std::optional<AnyArray>& y, double r, nb::handle wx,
                     nb::handle wy, int threads, bool gradient) {
  const int device = x.device_id();
  const Context& ctx = cuda_context(device, threads);
  const ConstPointsView<T> xv = cuda_points<T>(ctx, x, device, "x");
  const ConstPointsView<T> yv = y ? cuda_points<T>(ctx, *y, device, "y") : xv;
  if (yv.cols != xv.cols) bad("y", "dimension differs from x's");
  if (!y && !wy.is_none()) bad("weights_y", "given without y (y = x uses weights_x)");
  const T* a = cuda_weights<T>(ctx, wx, xv.rows, device, "weights_x");
  const T* b = y ? cuda_weights<T>(ctx, wy, yv.rows, device, "weights_y") : a;
  if (!gradient) {
    double value = 0;
    {
      // The Python float is made after the GIL is back (making it without the GIL crashed on an
      // H200).
      nb::gil_scoped_release release;
      value = riesz_energy_value<T>(ctx, xv, a, yv, b, r);
    }
    return nb::float_(value);
  }
  auto g = std::make_unique<Buffer<T>>(ctx, xv.rows * xv.cols);
  {
    nb::gil_scoped_release release;
    riesz_gradient<T>(ctx, xv, a, yv, b, r, T(1), PointsView<T>(g->data(), xv.rows, xv.cols, Device::cuda),
                      false);
    ctx.synchronize();
  }
  T* data = g->data();
  nb::capsule owner(g.release(), [](void* p) noexcept { delete static_cast<Buffer<T>*>(p); });
  const std::size_t shape[2] = {std::size_t(xv.rows), std::size_t(xv.cols)};
  return nb::ndarray<T, nb::c_contig>(data, 2, shape, owner, nullptr, nb::dtype<T>(),
                                      nb::device::cuda::value, device)
      .cast();
}

}  // namespace

nb::object cuda_riesz(const AnyArray& x, const std::optional<AnyArray>& y, double r, nb::handle wx,
                      nb::handle wy, int threads, bool gradient) {
  if (x.dtype() == nb::dtype<double>())
    return cuda_pair<double>(x, y, r, wx, wy, threads, gradient);
  if (x.dtype() == nb::dtype<float>()) return cuda_pair<float>(x, y, r, wx, wy, threads, gradient);
  throw nb::type_error("x: expected float32 or float64 values");
}

double cuda_mmd2(const AnyArray& x, const AnyArray& y, double r, int threads) {
  const int device = x.device_id();
  const Context& ctx = cuda_context(device, threads);
  if (x.dtype() == nb::dtype<double>()) {
    const auto xv = cuda_points<double>(ctx, x, device, "x");
    const auto yv = cuda_points<double>(ctx, y, device, "y");
    if (yv.cols != xv.cols) bad("y", "dimension differs from x's");
    nb::gil_scoped_release release;
    return mmd2<double>(ctx, xv, yv, r);
  }
  if (x.dtype() != nb::dtype<float>()) throw nb::type_error("x: expected float32 or float64 values");
  const auto xv = cuda_points<float>(ctx, x, device, "x");
  const auto yv = cuda_points<float>(ctx, y, device, "y");
  if (yv.cols != xv.cols) bad("y", "dimension differs from x's");
  nb::gil_scoped_release release;
  return mmd2<float>(ctx, xv, yv, r);
}

#else

[[noreturn]] static void no_cuda() {
  throw nb::value_error(
      "x: a CUDA array, but this build has no CUDA backend (move it to the CPU first)");
}
nb::object cuda_riesz(const AnyArray&, const std::optional<AnyArray>&, double, nb::handle,
                      nb::handle, int, bool) {
  no_cuda();
}
double cuda_mmd2(const AnyArray&, const AnyArray&, double, int) { no_cuda(); }

#endif

}  // namespace nwgf::py
