#pragma once
// Elementwise work of the schemes, written once as NWGF_HD math and run by the CPU loops
// (scheme_ops.cpp) and the CUDA kernels (scheme_ops.cu):
//   - network input [x_i, z] for a batch of rows drawn uniformly from the samples, z ~ N(0, Id)
//     (Philox, so the batch depends only on (seed, stream, counter), not on backend or threads);
//   - the transport cost sum_k |x_k - T_k|^2 and its gradient coef (T - x);
//   - sums of squares, y <- a x + b y, and a finite check;
//   - the forward loss (14) from values left on the device (DeviceSum), one thread's kernel.
// Reductions are the fixed-order partials of kernels/reduce.hpp: fixed chunks, per-chunk partial
// sums in double added in order (the same for any thread count).
#include <cmath>
#include <cstdint>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/engine/rng_math.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/kernels/reduce.hpp"
#include "nwgf/schemes/device_sum.hpp"

namespace nwgf {

// Row of the samples that batch row k uses: uniform on {0..n-1}, drawn with replacement.
NWGF_HD index_t batch_row(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter,
                          index_t k, index_t n) {
  const double u = philox_uniform<double>(seed, stream, counter + std::uint64_t(k));
  const index_t i = index_t(u * double(n));
  return i < n ? i : n - 1;
}

// Where the rows of a batch come from.
struct BatchRows {
  index_t first = 0;           // sequential rows first, first + 1, ... when random = false
  bool random = false;         // else drawn by batch_row(seed, stream, counter, k, n)
  std::uint64_t seed = 0, stream = 0, counter = 0;
  std::uint64_t z_stream = 0, z_counter = 0;  // latent normals: element k * l + j
  // The network sees the standardised samples (x - centre) / scale (centre: d values on the
  // device, or null for 0); xb receives the raw x.
  const void* centre = nullptr;
  double inv_scale = 1;
};

NWGF_HD index_t source_row(const BatchRows& b, index_t k, index_t n) {
  return b.random ? batch_row(b.seed, b.stream, b.counter, k, n) : b.first + k;
}

// Element (k, j) of the input (B, d + l): (x[row(k), j] - centre_j) / scale for j < d, else
// z_{k, j - d}.
// xb (B, d) receives the gathered x (may be null).
template <class T>
NWGF_HD void network_input_element(const T* x, index_t n, index_t d, index_t l, const BatchRows& b,
                                   index_t k, index_t j, T* in, T* xb) {
  if (j < d) {
    const T v = x[source_row(b, k, n) * d + j];
    const T c = b.centre ? static_cast<const T*>(b.centre)[j] : T(0);
    in[k * (d + l) + j] = T((v - c) * T(b.inv_scale));
    if (xb) xb[k * d + j] = v;
  } else {
    in[k * (d + l) + j] =
        philox_normal<T>(b.seed, b.z_stream, b.z_counter + std::uint64_t(k * l + (j - d)));
  }
}

// One element of the transport cost |x - T|^2 and its gradient g = coef (T - x).
template <class T>
NWGF_HD double transport_element(const T* x, const T* t, T coef, T* g, index_t i) {
  const T diff = t[i] - x[i];
  if (g) g[i] = coef * diff;
  return double(diff) * double(diff);
}

constexpr index_t reduce_chunk = ReducePolicy::chunk;

// a x + b y; b = 0 overwrites y (BLAS semantics: y's old value, even NaN, is not read).
template <class T>
NWGF_HD T axpby_element(T a, T x, T b, T y) {
  return b == T(0) ? a * x : a * x + b * y;
}

// Element e of the rows (n, d): y_e + alpha a_{e / d} x_e (a: row factors, or null for 1).
template <class T>
NWGF_HD T row_scaled_add_element(T alpha, const T* a, const T* x, const T* y, index_t d,
                                 index_t e) {
  const T f = a ? alpha * a[e / d] : alpha;
  return y[e] + f * x[e];
}

// The value of a DeviceTerm / DeviceSum (device_sum.hpp), read where it lives. The products are
// rounded on their own (add_product_rn), as the host rounds them; a quotient is never contracted.
NWGF_HD double device_term_value(const DeviceTerm& t) {
  if (!t.p) return 0.0;
  if (t.partials == 0) return *t.p;
  double s = 0;
  for (index_t k = 0; k < t.partials; ++k) s += t.p[k];
  return s;
}
NWGF_HD double device_sum_value(const DeviceSum& s) {
  double v = 0.0;
  for (int k = 0; k < s.count; ++k) {
    const DeviceTerm& t = s.terms[k];
    const double x = device_term_value(t);
    if (t.div != 0) {
      v = k == 0 ? x / t.div : v + x / t.div;
    } else {
      v = k == 0 ? t.coef * x : detail::add_product_rn(v, t.coef, x);
    }
  }
  return v;
}

// The forward loss (14), L = D / (||v|| + eps) with ||v||^2 = |v|^2 / rows, and its gradient's
// coefficients: dL/dv = coef[1] dD/dv + coef[0] v, coef[0] = -D / (denom^2 rows ||v||) (0 at
// v = 0), coef[1] = 1 / denom; coef[2] = L.
struct ForwardLossArgs {
  DeviceSum d;        // D
  DeviceTerm norm2;   // |v|^2 (the sum of squares over all rows)
  double rows = 1;
  double eps = 0;
  double* coef = nullptr;  // (3), ctx's device
};
NWGF_HD void forward_loss_coefficients(const ForwardLossArgs& f) {
  const double dv = device_sum_value(f.d);
  const double norm = sqrt(device_term_value(f.norm2) / f.rows);
  const double denom = norm + f.eps;
  f.coef[0] = norm > 0 ? -dv / (denom * denom * f.rows * norm) : 0.0;
  f.coef[1] = 1 / denom;
  f.coef[2] = dv / denom;
}

// Energy (33) of Appendix H, Example 3, per sample (x, y) in R^2: the potential
//   p(x, y) = 1{x < 0} |y| - x,
// its gradient scale (-1, 1{x < 0} sign(y)) and the mask a = 1{x >= 0} of the interaction term.
// With `v` (the velocity of the sample) it is the right derivative along v instead:
//   D_v p = 1{x < 0} (sign(y) v_y, or |v_y| at y = 0) - v_x, gradient in v alike.
template <class T>
struct Energy33Row {
  const T* xy;  // (n, 2)
  const T* v;   // (n, 2) or null
  T scale;
  T* grad;  // (n, 2) or null, overwritten
  T* mask;  // (n) or null
  NWGF_HD double operator()(index_t i) const {
    const T x = xy[2 * i], y = xy[2 * i + 1];
    const bool left = x < T(0);
    if (mask) mask[i] = left ? T(0) : T(1);
    if (!v) {
      if (grad) {
        grad[2 * i] = -scale;
        grad[2 * i + 1] = left ? scale * (y > T(0) ? T(1) : (y < T(0) ? T(-1) : T(0))) : T(0);
      }
      return (left ? double(y < T(0) ? -y : y) : 0.0) - double(x);
    }
    const T vx = v[2 * i], vy = v[2 * i + 1];
    T sy = y > T(0) ? T(1) : (y < T(0) ? T(-1) : T(0));
    T rate_y = sy * vy;
    if (y == T(0)) {
      rate_y = vy < T(0) ? -vy : vy;
      sy = vy > T(0) ? T(1) : (vy < T(0) ? T(-1) : T(0));
    }
    if (grad) {
      grad[2 * i] = -scale;
      grad[2 * i + 1] = left ? scale * sy : T(0);
    }
    return (left ? double(rate_y) : 0.0) - double(vx);
  }
};

// in (B, d + l), xb (B, d) or null; x (n, d) the samples.
template <class T>
void network_input(const Context& ctx, const T* x, index_t n, index_t d, index_t l,
                   const BatchRows& rows, index_t batch, T* in, T* xb);
// Returns sum_i |x_i - t_i|^2 over count elements; g (or null) <- coef (t - x).
template <class T>
double transport_cost(const Context& ctx, const T* x, const T* t, index_t count, T coef, T* g);
template <class T>
double sum_squares(const Context& ctx, const T* v, index_t count);
// y <- a x + b y (b = 0: y <- a x, whatever y held).
template <class T>
void axpby(const Context& ctx, index_t count, T a, const T* x, T b, T* y);
// y <- T(c[0]) x + T(c[1]) y with c (2 doubles) on ctx's device (axpby's arithmetic, the
// coefficients read where a kernel left them).
template <class T>
void axpby_device(const Context& ctx, index_t count, const double* c, const T* x, T* y);
// forward_loss_coefficients on ctx's device (one thread).
void forward_loss_device(const Context& ctx, const ForwardLossArgs& args);
// y_i <- y_i + alpha a_i x_i for the rows of (n, d) arrays (a: (n) or null for 1).
template <class T>
void row_scaled_add(const Context& ctx, index_t n, index_t d, T alpha, const T* a, const T* x,
                    T* y);
// The transport cost's terms as rows: |x_i - t_i|^2, writing g_i (if g) = coef (t_i - x_i).
template <class T>
struct TransportRow {
  const T* x;
  const T* t;
  T coef;
  T* g;
  NWGF_HD double operator()(index_t i) const { return transport_element(x, t, coef, g, i); }
};
// <a, b> over count elements, one term per "row".
template <class T>
struct DotRow {
  const T* a;
  const T* b;
  NWGF_HD double operator()(index_t i) const { return double(a[i]) * double(b[i]); }
};

// sum_i row(i) over n rows (deterministic chunks); row may write outputs as a side effect.
// Row is Energy33Row<T>, DotRow<T>, TransportRow<T> or a variational row (CriticRow<T>,
// MapRow<T>, RatioRow<T> of schemes/variational/critic_rows.hpp) or PotentialRow<T>
// (schemes/potential_rows.hpp).
template <class Row>
double reduce_rows(const Context& ctx, const Row& row, index_t n);
// values[i] <- row(i) for i < n (values on ctx's device; the rows' side effects as in
// reduce_rows): the terms for a caller that sums them in an order of its own (the sharded
// runner on CUDA: rank to rank in row order, as reduce_rows' chunks). Row is Energy33Row<T> or
// PotentialRow<T>.
template <class Row>
void row_values(const Context& ctx, const Row& row, index_t n, double* values);
// The same row sum with its partials kept where they were computed: run() neither allocates
// (the partials are sized for max_rows at construction) nor downloads nor synchronises, so a
// CUDA graph can capture it; sum() reads the partials on demand and adds them in order (the
// value reduce_rows returns, bit for bit). CPU: run() computes the sum itself.
class RowPartials {
 public:
  RowPartials() = default;
  RowPartials(const Context& ctx, index_t max_rows);
  template <class Row>
  void run(const Context& ctx, const Row& row, index_t n);
  double sum(const Context& ctx) const;
  // The sum as a term of a DeviceSum (where run() left it; coef 1), for a later kernel to read.
  DeviceTerm term() const;

 private:
  Buffer<double> partials_;  // (chunks_of(max_rows)) on the CUDA device; empty on the CPU
  index_t max_rows_ = 0, chunks_ = 0;
  double host_sum_ = 0;
};
// True when every value is finite.
template <class T>
bool all_finite(const Context& ctx, const T* v, index_t count);

#ifdef NWGF_HAVE_CUDA
namespace detail {
template <class T>
void cuda_network_input(const Context& ctx, const T* x, index_t n, index_t d, index_t l,
                        const BatchRows& rows, index_t batch, T* in, T* xb);
template <class T>
void cuda_axpby(const Context& ctx, index_t count, T a, const T* x, T b, T* y);
template <class T>
void cuda_axpby_device(const Context& ctx, index_t count, const double* c, const T* x, T* y);
void cuda_forward_loss_device(const Context& ctx, const ForwardLossArgs& args);
template <class T>
void cuda_row_scaled_add(const Context& ctx, index_t n, index_t d, T alpha, const T* a,
                         const T* x, T* y);
// Partial sums per chunk of reduce_chunk rows into partials (device, chunks_of(n) doubles).
template <class Row>
void cuda_row_partials(const Context& ctx, const Row& row, index_t n, double* partials);
// values[i] <- row(i), one thread per row.
template <class Row>
void cuda_row_values(const Context& ctx, const Row& row, index_t n, double* values);
}  // namespace detail
#endif

}  // namespace nwgf
