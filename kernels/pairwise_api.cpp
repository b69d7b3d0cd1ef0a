// The front end of the fused pairwise sums (kernels/pairwise.hpp): argument checks, then the
// CPU backend (kernels/pairwise.cpp) or the CUDA one (kernels/pairwise.cu).
#include <algorithm>
#include <cmath>
#include <string>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/kernels/mmd_sums.hpp"
#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {

void PairwiseWorkspace::reserve(const Context& ctx, index_t partials) {
  if (partials_.size() < partials || partials_.device() != ctx.device()) {
    partials_ = Buffer<double>(ctx, std::max<index_t>(partials, 1));
  }
  if (count_.size() < 1 || count_.device() != ctx.device()) count_ = Buffer<index_t>(ctx, 1);
}

namespace detail {
namespace {

void check_param(PairFamily family, double param) {
  if (family == PairFamily::gaussian) {
    if (!(param > 0.0 && std::isfinite(param))) {
      throw_bad_input("Gaussian kernel width sigma = " + std::to_string(param) + " is not > 0");
    }
  } else if (family != PairFamily::riesz) {
    return;  // the interaction kernels have no parameter
  } else if (!(param > 0.0 && param < 2.0)) {
    throw_bad_input("Riesz exponent r = " + std::to_string(param) + " is outside (0, 2)");
  }
}

template <class T>
void check_points(const Context& ctx, ConstPointsView<T> p, const char* name) {
  if (p.rows < 0 || p.cols < 1 || p.ld < p.cols || (p.rows > 0 && p.data == nullptr)) {
    throw_runtime(std::string("pairwise: bad view ") + name);
  }
  if (p.device != ctx.device()) {
    throw_runtime(std::string("pairwise: ") + name + " is not on the context's device");
  }
}

template <class T>
void check_pair(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> y, double r,
                PairFamily family = PairFamily::riesz) {
  check_param(family, r);
  check_points(ctx, x, "x");
  check_points(ctx, y, "y");
  if (x.cols != y.cols) {
    throw_bad_input("pairwise: dimension mismatch, x has d = " + std::to_string(x.cols) +
                    ", y has d = " + std::to_string(y.cols));
  }
}

template <class T>
void check_same_shape(const Context& ctx, ConstPointsView<T> p, ConstPointsView<T> ref,
                      const char* name) {
  check_points(ctx, p, name);
  if (p.rows != ref.rows || p.cols != ref.cols) {
    throw_runtime(std::string("pairwise: ") + name + " has the wrong shape");
  }
}

}  // namespace
}  // namespace detail

using detail::PairwisePass;
using detail::RowPassArgs;

namespace {

// One pass on ctx's backend: the CUDA row pass writes `out` (device) and `coincident` (host) itself;
// the CPU pass returns them. Null `out` / `coincident`: not wanted. device_count (ctx's device, or
// null): the coincident-pair count added to it where it lives, nothing brought back.
template <class T>
void row_pass(const Context& ctx, PairwisePass pass, const RowPassArgs<T>& p, double* out,
              index_t* coincident, PairwiseWorkspace* ws, index_t* device_count = nullptr) {
  TraceSpan span(Phase::pairwise);
  trace_count(Counter::pairs, double(p.x.rows) * double(p.y.rows));
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    PairwiseWorkspace tmp;
    detail::cuda_row_pass(ctx, pass, p, out, coincident, ws ? *ws : tmp, device_count);
    return;
  }
#endif
  (void)ws;
  const detail::PassResult res = detail::cpu_row_pass<T>(pass, p, ctx.threads());
  if (out) *out = res.value;
  if (coincident) *coincident = res.coincident;
  if (device_count) *device_count += res.coincident;
}

// riesz_directional's two passes, the count brought to the host (coincident) or left on the
// device (device_count).
template <class T>
void directional_passes(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> v,
                        const T* a, ConstPointsView<T> y, ConstPointsView<T> w, const T* b,
                        double r, double* out, PointsView<T> grad_v, PointsView<T> grad_w, T scale,
                        bool accumulate, index_t* coincident, index_t* device_count,
                        PairwiseWorkspace* ws) {
  detail::check_pair(ctx, x, y, r);
  detail::check_same_shape(ctx, v, x, "v");
  detail::check_same_shape(ctx, w, y, "w");
  if (grad_v.data) detail::check_same_shape<T>(ctx, grad_v, x, "grad_v");
  if (grad_w.data) detail::check_same_shape<T>(ctx, grad_w, y, "grad_w");
  if (grad_v.data && grad_v.data == grad_w.data && !accumulate) {
    throw_runtime("riesz_directional: grad_v and grad_w alias without accumulate");
  }
  const auto [p, q] =
      detail::directional_pass_args(x, v, a, y, w, b, r, grad_v, grad_w, scale, accumulate);
  PairwiseWorkspace tmp;  // both passes share one workspace
  PairwiseWorkspace* wsp = ws ? ws : &tmp;
  row_pass(ctx, PairwisePass::directional, p, out, coincident, wsp, device_count);
  if (grad_w.data) row_pass(ctx, PairwisePass::directional, q, nullptr, nullptr, wsp);
}

}  // namespace

// The energy and gradient passes of any family.
template <class T>
void pair_energy(const Context& ctx, PairFamily family, double param, ConstPointsView<T> x,
                 const T* a, ConstPointsView<T> y, const T* b, double* out, PairwiseWorkspace* ws) {
  detail::check_pair(ctx, x, y, param, family);
  RowPassArgs<T> p = detail::pair_pass_args(family, param, x, a, y, b);
  row_pass(ctx, PairwisePass::energy, p, out, nullptr, ws);
}

template <class T>
void pair_gradient(const Context& ctx, PairFamily family, double param, ConstPointsView<T> x,
                   const T* a, ConstPointsView<T> y, const T* b, T scale, PointsView<T> grad,
                   bool accumulate, PairwiseWorkspace* ws) {
  detail::check_pair(ctx, x, y, param, family);
  detail::check_same_shape<T>(ctx, grad, x, "grad");
  RowPassArgs<T> p = detail::pair_pass_args(family, param, x, a, y, b);
  p.g = grad;
  p.scale = scale;
  p.accumulate = accumulate;
  row_pass(ctx, PairwisePass::gradient, p, nullptr, nullptr, ws);
}

template <class T>
void pair_row_sums(const Context& ctx, PairFamily family, double param, ConstPointsView<T> x,
                   const T* a, ConstPointsView<T> y, const T* b, T scale, T* values,
                   bool accumulate, PairwiseWorkspace* ws) {
  detail::check_pair(ctx, x, y, param, family);
  if (x.rows > 0 && !values) throw_runtime("pair_row_sums: values is null");
  RowPassArgs<T> p = detail::pair_pass_args(family, param, x, a, y, b);
  p.values = values;
  p.scale = scale;
  p.accumulate = accumulate;
  row_pass(ctx, PairwisePass::energy, p, nullptr, nullptr, ws);
}

template <class T>
void pair_row_sums_gradient(const Context& ctx, PairFamily family, double param,
                            ConstPointsView<T> x, const T* a, ConstPointsView<T> y, const T* b,
                            T scale, T* values, PointsView<T> grad, bool accumulate,
                            PairwiseWorkspace* ws) {
  detail::check_pair(ctx, x, y, param, family);
  detail::check_same_shape<T>(ctx, grad, x, "grad");
  if (x.rows > 0 && !values) throw_runtime("pair_row_sums_gradient: values is null");
  RowPassArgs<T> p = detail::pair_pass_args(family, param, x, a, y, b);
  p.values = values;
  p.g = grad;
  p.scale = scale;
  p.accumulate = accumulate;
  row_pass(ctx, PairwisePass::value_gradient, p, nullptr, nullptr, ws);
}

template <class T>
void riesz_energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                  const T* b, double r, double* out, PairwiseWorkspace* ws) {
  pair_energy(ctx, PairFamily::riesz, r, x, a, y, b, out, ws);
}

template <class T>
void riesz_gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                    const T* b, double r, T scale, PointsView<T> grad, bool accumulate,
                    PairwiseWorkspace* ws) {
  pair_gradient(ctx, PairFamily::riesz, r, x, a, y, b, scale, grad, accumulate, ws);
}

template <class T>
void gaussian_energy(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                     const T* b, double sigma, double* out, PairwiseWorkspace* ws) {
  pair_energy(ctx, PairFamily::gaussian, sigma, x, a, y, b, out, ws);
}

template <class T>
void gaussian_gradient(const Context& ctx, ConstPointsView<T> x, const T* a, ConstPointsView<T> y,
                       const T* b, double sigma, T scale, PointsView<T> grad, bool accumulate,
                       PairwiseWorkspace* ws) {
  pair_gradient(ctx, PairFamily::gaussian, sigma, x, a, y, b, scale, grad, accumulate, ws);
}

template <class T>
void riesz_directional(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> v,
                       const T* a, ConstPointsView<T> y, ConstPointsView<T> w, const T* b,
                       double r, double* out, PointsView<T> grad_v, PointsView<T> grad_w, T scale,
                       bool accumulate, index_t* coincident, PairwiseWorkspace* ws) {
  directional_passes(ctx, x, v, a, y, w, b, r, out, grad_v, grad_w, scale, accumulate, coincident,
                     nullptr, ws);
}

template <class T>
void riesz_directional_device_count(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> v,
                                    const T* a, ConstPointsView<T> y, ConstPointsView<T> w,
                                    const T* b, double r, double* out, PointsView<T> grad_v,
                                    PointsView<T> grad_w, T scale, bool accumulate,
                                    index_t* device_count, PairwiseWorkspace* ws) {
  directional_passes(ctx, x, v, a, y, w, b, r, out, grad_v, grad_w, scale, accumulate, nullptr,
                     device_count, ws);
}

template <class T>
double riesz_energy_value(const Context& ctx, ConstPointsView<T> x, const T* a,
                          ConstPointsView<T> y, const T* b, double r) {
  if (!ctx.is_cuda()) {
    double out = 0;
    riesz_energy(ctx, x, a, y, b, r, &out);
    return out;
  }
  Buffer<double> dev(ctx, 1);
  riesz_energy(ctx, x, a, y, b, r, dev.data());
  double out = 0;
  copy_to_host(ctx, &out, dev);
  ctx.synchronize();
  return out;
}

template <class T>
double mmd2(const Context& ctx, ConstPointsView<T> x, ConstPointsView<T> y, double r) {
  detail::check_pair(ctx, x, y, r);
  if (x.rows < 1 || y.rows < 1) throw_bad_input("mmd2: empty point set");
  const double xy = riesz_energy_value<T>(ctx, x, nullptr, y, nullptr, r);
  const double xx = riesz_energy_value<T>(ctx, x, nullptr, x, nullptr, r);
  const double yy = riesz_energy_value<T>(ctx, y, nullptr, y, nullptr, r);
  return mmd2_from_sums(xy, xx, yy, double(x.rows), double(y.rows), MmdStatistic::v);
}

#define NWGF_PAIRWISE_INSTANTIATE(T)                                                             \
  template void riesz_energy<T>(const Context&, ConstPointsView<T>, const T*, ConstPointsView<T>, \
                                const T*, double, double*, PairwiseWorkspace*);                  \
  template void riesz_gradient<T>(const Context&, ConstPointsView<T>, const T*,                  \
                                  ConstPointsView<T>, const T*, double, T, PointsView<T>, bool,  \
                                  PairwiseWorkspace*);                                           \
  template void riesz_directional<T>(const Context&, ConstPointsView<T>, ConstPointsView<T>,     \
                                     const T*, ConstPointsView<T>, ConstPointsView<T>, const T*, \
                                     double, double*, PointsView<T>, PointsView<T>, T, bool,     \
                                     index_t*, PairwiseWorkspace*);                              \
  template void riesz_directional_device_count<T>(                                               \
      const Context&, ConstPointsView<T>, ConstPointsView<T>, const T*, ConstPointsView<T>,      \
      ConstPointsView<T>, const T*, double, double*, PointsView<T>, PointsView<T>, T, bool,      \
      index_t*, PairwiseWorkspace*);                                                             \
  template void gaussian_energy<T>(const Context&, ConstPointsView<T>, const T*,                 \
                                   ConstPointsView<T>, const T*, double, double*,                \
                                   PairwiseWorkspace*);                                          \
  template void gaussian_gradient<T>(const Context&, ConstPointsView<T>, const T*,               \
                                     ConstPointsView<T>, const T*, double, T, PointsView<T>,     \
                                     bool, PairwiseWorkspace*);                                  \
  template void pair_energy<T>(const Context&, PairFamily, double, ConstPointsView<T>, const T*,  \
                               ConstPointsView<T>, const T*, double*, PairwiseWorkspace*);      \
  template void pair_gradient<T>(const Context&, PairFamily, double, ConstPointsView<T>,         \
                                 const T*, ConstPointsView<T>, const T*, T, PointsView<T>, bool, \
                                 PairwiseWorkspace*);                                            \
  template void pair_row_sums<T>(const Context&, PairFamily, double, ConstPointsView<T>, const T*, \
                                 ConstPointsView<T>, const T*, T, T*, bool, PairwiseWorkspace*); \
  template void pair_row_sums_gradient<T>(const Context&, PairFamily, double, ConstPointsView<T>, \
                                          const T*, ConstPointsView<T>, const T*, T, T*,           \
                                          PointsView<T>, bool, PairwiseWorkspace*);                \
  template double riesz_energy_value<T>(const Context&, ConstPointsView<T>, const T*,            \
                                        ConstPointsView<T>, const T*, double);                   \
  template double mmd2<T>(const Context&, ConstPointsView<T>, ConstPointsView<T>, double);

NWGF_PAIRWISE_INSTANTIATE(float)
NWGF_PAIRWISE_INSTANTIATE(double)
#undef NWGF_PAIRWISE_INSTANTIATE

}  // namespace nwgf
