// nwgf._nwgf kernel functions: riesz_energy, riesz_gradient, mmd2 (exact and sliced), and the
// C++-side timing used to measure the binding's overhead (nwgf.bench). The arguments are checked
// with the GIL held; the sums run with it released.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/kernels/mmd_sums.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/kernels/sliced.hpp"
#include "python/src/arrays.hpp"
#include "python/src/device_arrays.hpp"
#include "python/src/module.hpp"

namespace nwgf::py {
namespace {

// The arguments of the pair sums, in the compute dtype T.
template <class T>
struct PairArgs {
  HostPoints<T> x, y;
  bool self = false;     // y is x
  std::vector<T> a, b;   // weights (empty: all 1)
  const T* wa() const { return a.empty() ? nullptr : a.data(); }
  const T* wb() const { return self ? wa() : (b.empty() ? nullptr : b.data()); }
  ConstPointsView<T> yv() const { return self ? x.view() : y.view(); }
};

// T = double when any point set is float64, else float (numpy's promotion of the two).
bool wants_f64(const AnyArray& x, const std::optional<AnyArray>& y) {
  const bool fx = is_f64(x, "x");
  return fx || (y && is_f64(*y, "y"));
}

template <class T>
PairArgs<T> pair_args(const AnyArray& x, const std::optional<AnyArray>& y, nb::handle wx,
                      nb::handle wy) {
  PairArgs<T> p;
  p.x = points_arg<T>(x, "x");
  if (y) {
    p.y = points_arg<T>(*y, "y");
    if (p.y.cols != p.x.cols) {
      throw nb::value_error(("y: dimension d = " + std::to_string(p.y.cols) + " differs from x's d = " +
                             std::to_string(p.x.cols))
                                .c_str());
    }
  } else {
    p.self = true;
    if (!wy.is_none()) throw nb::value_error("weights_y: given without y (y = x uses weights_x)");
  }
  if (!wx.is_none()) p.a = vector_arg<T>(as_array(wx, "weights_x"), p.x.rows, "weights_x");
  if (!wy.is_none()) p.b = vector_arg<T>(as_array(wy, "weights_y"), p.y.rows, "weights_y");
  return p;
}

std::optional<AnyArray> optional_array(nb::handle obj, const char* name) {
  if (obj.is_none()) return std::nullopt;
  return as_array(obj, name);
}

template <class T>
double energy_t(const AnyArray& x, const std::optional<AnyArray>& y, double r, nb::handle wx,
                nb::handle wy, int threads) {
  const PairArgs<T> p = pair_args<T>(x, y, wx, wy);
  nb::gil_scoped_release release;
  Context ctx(Device::cpu, threads);
  return riesz_energy_value<T>(ctx, p.x.view(), p.wa(), p.yv(), p.wb(), r);
}

template <class T>
nb::object gradient_t(const AnyArray& x, const std::optional<AnyArray>& y, double r,
                      nb::handle wx, nb::handle wy, int threads) {
  const PairArgs<T> p = pair_args<T>(x, y, wx, wy);
  std::vector<T> g(std::size_t(p.x.rows * p.x.cols));
  {
    nb::gil_scoped_release release;
    Context ctx(Device::cpu, threads);
    riesz_gradient<T>(ctx, p.x.view(), p.wa(), p.yv(), p.wb(), r, T(1),
                      PointsView<T>(g.data(), p.x.rows, p.x.cols), false);
  }
  return numpy_owning(std::move(g), p.x.rows, p.x.cols);
}

// The sliced sums S_xx, S_xy, S_yy with the directions of sliced_mmd2 (seed, stream 0,
// counter 0), so the V-statistic equals sliced_mmd2's (and `nwgf mmd --sliced`'s).
template <class T>
double sliced_t(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> y, int directions,
                std::uint64_t seed, MmdStatistic stat) {
  SlicedRiesz<T> sliced(ctx, std::max(x.rows, y.rows), y.rows, x.cols, directions);
  sliced.draw_directions(ctx, seed, 0, 0);
  Buffer<double> sums(ctx, 3);
  sliced.evaluate(ctx, x, y, sums.data(), sums.data() + 1, T(0), T(0), PointsView<T>(), false);
  sliced.evaluate(ctx, y, ConstPointsView<T>(), sums.data() + 2, nullptr, T(0), T(0),
                  PointsView<T>(), false);
  const std::vector<double> s = download(ctx, sums);
  return mmd2_from_sums(s[1], s[0], s[2], double(x.rows), double(y.rows), stat);
}

template <class T>
double mmd2_t(const AnyArray& x, const AnyArray& y, double r, bool sliced, int directions,
              bool unbiased, std::uint64_t seed, int threads) {
  const PairArgs<T> p = pair_args<T>(x, y, nb::none(), nb::none());
  if (unbiased && (p.x.rows < 2 || p.y.rows < 2)) {
    throw nb::value_error(
        (std::string(p.x.rows < 2 ? "x" : "y") + ": the unbiased estimate needs at least 2 points")
            .c_str());
  }
  const MmdStatistic stat = unbiased ? MmdStatistic::u : MmdStatistic::v;
  nb::gil_scoped_release release;
  Context ctx(Device::cpu, threads);
  if (sliced) return sliced_t<T>(ctx, p.x.view(), p.y.view(), directions, seed, stat);
  if (!unbiased) return mmd2<T>(ctx, p.x.view(), p.y.view(), r);
  const double sxy = riesz_energy_value<T>(ctx, p.x.view(), nullptr, p.y.view(), nullptr, r);
  const double sxx = riesz_energy_value<T>(ctx, p.x.view(), nullptr, p.x.view(), nullptr, r);
  const double syy = riesz_energy_value<T>(ctx, p.y.view(), nullptr, p.y.view(), nullptr, r);
  return mmd2_from_sums(sxy, sxx, syy, double(p.x.rows), double(p.y.rows), stat);
}

double riesz_energy_py(nb::handle x, nb::handle y, double r, nb::handle wx, nb::handle wy,
                       int threads) {
  check_r(r);
  const AnyArray xa = as_array(x, "x");
  const std::optional<AnyArray> ya = optional_array(y, "y");
  if (on_cuda(xa)) return nb::cast<double>(cuda_riesz(xa, ya, r, wx, wy, threads, false));
  return wants_f64(xa, ya) ? energy_t<double>(xa, ya, r, wx, wy, threads)
                           : energy_t<float>(xa, ya, r, wx, wy, threads);
}

nb::object riesz_gradient_py(nb::handle x, nb::handle y, double r, nb::handle wx, nb::handle wy,
                             int threads) {
  check_r(r);
  const AnyArray xa = as_array(x, "x");
  const std::optional<AnyArray> ya = optional_array(y, "y");
  if (on_cuda(xa)) return cuda_riesz(xa, ya, r, wx, wy, threads, true);
  return wants_f64(xa, ya) ? gradient_t<double>(xa, ya, r, wx, wy, threads)
                           : gradient_t<float>(xa, ya, r, wx, wy, threads);
}

double mmd2_py(nb::handle x, nb::handle y, double r, const std::string& estimator,
               int directions, bool unbiased, std::int64_t seed, int threads) {
  check_r(r);
  if (estimator != "exact" && estimator != "sliced") {
    throw nb::value_error(("estimator: expected 'exact' or 'sliced', got '" + estimator + "'").c_str());
  }
  const bool sliced = estimator == "sliced";
  if (sliced && r != 1.0) {
    throw nb::value_error(
        ("r: the sliced estimate exists for r = 1 only, got " + std::to_string(r)).c_str());
  }
  if (sliced && (directions < 1 || directions > (1 << 20))) {
    throw nb::value_error(
        ("directions: must be in [1, 2^20], got " + std::to_string(directions)).c_str());
  }
  if (seed < 0) throw nb::value_error(("seed: must be >= 0, got " + std::to_string(seed)).c_str());
  const AnyArray xa = as_array(x, "x");
  const AnyArray ya = as_array(y, "y");
  if (on_cuda(xa)) {
    if (sliced || unbiased) {
      throw nb::value_error((std::string(sliced ? "estimator" : "unbiased") +
                             ": CUDA arrays have the exact V-statistic only (move them to the CPU)")
                                .c_str());
    }
    return cuda_mmd2(xa, ya, r, threads);
  }
  const bool f64 = wants_f64(xa, ya);
  return f64 ? mmd2_t<double>(xa, ya, r, sliced, directions, unbiased, std::uint64_t(seed), threads)
             : mmd2_t<float>(xa, ya, r, sliced, directions, unbiased, std::uint64_t(seed), threads);
}

// Seconds of the fastest of `repeats` C++ calls (no Python in the loop) of riesz_energy or
// riesz_gradient on float64 points x against themselves: the reference of the binding's
// overhead (nwgf.bench).
double cpp_seconds(const std::string& function, nb::handle x, double r, int repeats, int threads) {
  check_r(r);
  const HostPoints<double> p = points_arg<double>(as_array(x, "x"), "x");
  if (function != "riesz_energy" && function != "riesz_gradient") {
    throw nb::value_error(("function: expected riesz_energy or riesz_gradient, got " + function).c_str());
  }
  nb::gil_scoped_release release;
  double best = 1e300;
  for (int k = 0; k < std::max(repeats, 1); ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    Context ctx(Device::cpu, threads);
    if (function == "riesz_energy") {
      volatile double v = riesz_energy_value<double>(ctx, p.view(), nullptr, p.view(), nullptr, r);
      (void)v;
    } else {
      std::vector<double> g(std::size_t(p.rows * p.cols));
      riesz_gradient<double>(ctx, p.view(), nullptr, p.view(), nullptr, r, 1.0,
                             PointsView<double>(g.data(), p.rows, p.cols), false);
    }
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    best = std::min(best, dt.count());
  }
  return best;
}

}  // namespace

void bind_kernels(nb::module_& m) {
  using namespace nb::literals;
  m.def("riesz_energy", &riesz_energy_py, "x"_a, "y"_a.none() = nb::none(), "r"_a = 1.0,
        "weights_x"_a.none() = nb::none(), "weights_y"_a.none() = nb::none(), "threads"_a = 0,
        "S(X, Y) = sum_ij a_i b_j |x_i - y_j|^r (y = None: Y = X, b = a).");
  m.def("riesz_gradient", &riesz_gradient_py, "x"_a, "y"_a.none() = nb::none(), "r"_a = 1.0,
        "weights_x"_a.none() = nb::none(), "weights_y"_a.none() = nb::none(), "threads"_a = 0,
        "dS(X, Y)/dx_i, shape (N, d) (y = None: Y = X held fixed).");
  m.def("mmd2", &mmd2_py, "x"_a, "y"_a, "r"_a = 1.0, "estimator"_a = "exact",
        "directions"_a = 256, "unbiased"_a = false, "seed"_a = 0, "threads"_a = 0,
        "MMD^2 of the Riesz kernel between two point sets (CONTRACT.md's V-statistic).");
  m.def("_cpp_seconds", &cpp_seconds, "function"_a, "x"_a, "r"_a = 1.0, "repeats"_a = 10,
        "threads"_a = 0, "Fastest C++-only call of riesz_energy / riesz_gradient (seconds).");
}

}  // namespace nwgf::py
