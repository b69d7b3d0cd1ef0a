#include "nwgf/nn/icnn.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/parallel.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/nn/icnn_cuda.hpp"
#include "nwgf/nn/icnn_math.hpp"
#include "nwgf/nn/mlp_cuda.hpp"

// The double backprop, by hand. With layers l = 0..L-1, the graph of T(x) is
//   forward:  p_l = x A_l,  q_l = sum_s p_{l,s}^2 + x W_l^T + b_l,  u_0 = q_0, z_0 = u_0,
//             u_l = z_{l-1} V_l^T + q_l, z_l = celu(u_l)                          (l >= 1)
//   reverse:  g_{L-1} = 1 w^T, delta_l = g_l ⊙ celu'(u_l) (delta_0 = g_0), g_{l-1} = delta_l V_l,
//             e_l = 2 delta_l ⊙ p_l,  T = eps x + sum_l (delta_l W_l + e_l A_l^T).
// Its reverse pass, given c = dL/dT (bars are adjoints), runs the graph backwards:
//   from T:        Wbar_l = delta_l^T c,  Abar_l = c^T e_l,
//                  deltabar_l = c W_l^T + sum_s 2 p_{l,s} ⊙ (c A_l)_s,  pbar_l = 2 delta_l ⊙ (c A_l);
//   the first reverse pass, backwards (l = 0 up to L-1):
//                  deltabar_l += gbar_{l-1} V_l^T,  Vbar_l = delta_l^T gbar_{l-1}      (l >= 1)
//                  gbar_l = deltabar_l ⊙ celu'(u_l),  ubar_l = deltabar_l ⊙ g_l ⊙ celu''(u_l)
//                  (gbar_0 = deltabar_0, ubar_0 = 0),  wbar = 1^T gbar_{L-1};
//   the forward pass, backwards (l = L-1 down to 0):
//                  Vbar_l += ubar_l^T z_{l-1},  ubar_{l-1} += (ubar_l V_l) ⊙ celu'(u_{l-1})
//                  (ubar_0 += ubar_1 V_1: z_0 = u_0),
//                  qbar_l = ubar_l:  pbar_l += 2 qbar_l ⊙ p_l,  Wbar_l += qbar_l^T x,
//                  bbar_l = 1^T qbar_l,  Abar_l += x^T pbar_l.
// (x is data, so xbar is not formed.) tests/nn/test_icnn.cpp checks every parameter's gradient
// against central differences of sum_i <c_i, T(x_i)>.
//
// Both backends run this same sequence: the GEMMs through engine/blas (cuBLAS on CUDA), the
// elementwise steps below through the NWGF_HD functions of nn/icnn_math.hpp (the CPU loops here,
// the kernels of nn/icnn.cu), the column sums (dL/db, dL/dw) in order on the CPU and by nn/mlp.cu's
// deterministic two-pass column sum on CUDA. Every buffer is allocated by the constructor.
namespace nwgf {
namespace {

// An elementwise pass runs on one thread below engine/parallel.hpp's grain.

using detail::icnn_celu;
using detail::icnn_celu_d1;
using detail::icnn_celu_d2;

// out[j] (= or +=) sum over rows of m (rows, cols); CUDA: partial is (mlp_colsum_chunks, cols)
// scratch.
template <class T>
void column_sums(const Context& ctx, const T* m, index_t rows, index_t cols, T* out,
                 bool accumulate, T* partial) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda())
    return detail::cuda_bias_grad(ctx, m, static_cast<const T*>(nullptr), static_cast<T*>(nullptr),
                                  rows, cols, partial, out, accumulate);
#endif
  (void)ctx;
  (void)partial;
  for (index_t j = 0; j < cols; ++j) {
    T s = accumulate ? out[j] : T(0);
    for (index_t i = 0; i < rows; ++i) s += m[i * cols + j];
    out[j] = s;
  }
}

// u, z (B, h) <- the quadratic skips and the activation (detail::icnn_unit_forward).
template <class T>
void forward_units(const Context& ctx, T* u, T* z, const T* p, const T* b, index_t B, index_t h,
                   index_t r, bool first) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_icnn_forward_units(ctx, u, z, p, b, B, h, r, first);
#endif
  const index_t rh = r * h;
#pragma omp parallel for schedule(static) num_threads(ctx.threads()) if (worth_a_team(B * rh))
  for (index_t i = 0; i < B; ++i)
    for (index_t k = 0; k < h; ++k)
      detail::icnn_unit_forward(&u[i * h + k], &z[i * h + k], p + i * rh + k, b[k], r, h, first);
}

// g <- 1 w^T if w (the last layer), delta and e (detail::icnn_unit_delta).
template <class T>
void deltas(const Context& ctx, T* g, T* delta, T* e, const T* u, const T* p, const T* w,
            index_t B, index_t h, index_t r, bool first) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_icnn_delta(ctx, g, delta, e, u, p, w, B, h, r, first);
#endif
  const index_t rh = r * h;
  if (w)
    for (index_t i = 0; i < B; ++i) std::copy(w, w + h, g + i * h);
#pragma omp parallel for schedule(static) num_threads(ctx.threads()) if (worth_a_team(B * rh))
  for (index_t i = 0; i < B; ++i)
    for (index_t k = 0; k < h; ++k)
      delta[i * h + k] = detail::icnn_unit_delta(g[i * h + k], u[i * h + k], p + i * rh + k,
                                                 e + i * rh + k, r, h, first);
}

// db <- deltabar, pb <- pbar from T (detail::icnn_unit_from_t).
template <class T>
void from_t(const Context& ctx, T* db, T* pb, const T* delta, const T* p, const T* ca, index_t B,
            index_t h, index_t r) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_icnn_from_t(ctx, db, pb, delta, p, ca, B, h, r);
#endif
  const index_t rh = r * h;
#pragma omp parallel for schedule(static) num_threads(ctx.threads()) if (worth_a_team(B * rh))
  for (index_t i = 0; i < B; ++i)
    for (index_t k = 0; k < h; ++k)
      db[i * h + k] = detail::icnn_unit_from_t(db[i * h + k], delta[i * h + k], p + i * rh + k,
                                               ca + i * rh + k, pb + i * rh + k, r, h);
}

// ub, db over count elements (detail::icnn_gbar).
template <class T>
void gbars(const Context& ctx, T* db, T* ub, const T* g, const T* u, index_t count) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_icnn_gbar(ctx, db, ub, g, u, count);
#endif
#pragma omp parallel for schedule(static) num_threads(ctx.threads()) if (worth_a_team(count))
  for (index_t i = 0; i < count; ++i) detail::icnn_gbar(&db[i], &ub[i], g[i], u[i]);
}

// ub_prev += zbar's share (detail::icnn_zbar_to_ubar).
template <class T>
void zbars(const Context& ctx, T* ub_prev, const T* zb, const T* u_prev, index_t count,
           bool first) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_icnn_zbar(ctx, ub_prev, zb, u_prev, count, first);
#endif
  (void)ctx;
  for (index_t i = 0; i < count; ++i) ub_prev[i] += detail::icnn_zbar_to_ubar(zb[i], u_prev[i], first);
}

// pb += 2 ub p (detail::icnn_pbar_quadratic).
template <class T>
void pbars(const Context& ctx, T* pb, const T* ub, const T* p, index_t B, index_t h, index_t r) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_icnn_pbar(ctx, pb, ub, p, B, h, r);
#endif
  const index_t rh = r * h;
#pragma omp parallel for schedule(static) num_threads(ctx.threads()) if (worth_a_team(B * rh))
  for (index_t i = 0; i < B; ++i)
    for (index_t s = 0; s < r; ++s)
      for (index_t k = 0; k < h; ++k) {
        const index_t at = i * rh + s * h + k;
        pb[at] += detail::icnn_pbar_quadratic(ub[i * h + k], p[at]);
      }
}

void check_view(const char* what, index_t rows, index_t cols, index_t ld, Device dev,
                index_t want_rows, index_t want_cols, Device want_dev) {
  if (rows != want_rows || cols != want_cols || ld != cols || dev != want_dev) {
    throw_runtime(std::string("Icnn: ") + what + " is (" + std::to_string(rows) + ", " +
                  std::to_string(cols) + ", ld " + std::to_string(ld) + ") on " + to_string(dev) +
                  ", expected contiguous (" + std::to_string(want_rows) + ", " +
                  std::to_string(want_cols) + ") on " + to_string(want_dev));
  }
}

}  // namespace

template <class T>
Icnn<T>::Icnn(const Context& ctx, index_t d, std::vector<index_t> hidden, index_t max_batch,
              const IcnnOptions& options)
    : d_(d), hidden_(std::move(hidden)), max_batch_(max_batch), options_(options) {
  if (d_ < 1) throw_bad_input("Icnn: the dimension must be positive");
  if (hidden_.empty()) throw_bad_input("Icnn: need at least one hidden width");
  for (index_t w : hidden_)
    if (w < 1) throw_bad_input("Icnn: hidden width " + std::to_string(w) + " must be positive");
  if (options_.rank < 1) throw_bad_input("Icnn: the rank must be positive");
  if (!(options_.strong_convexity >= 0))
    throw_bad_input("Icnn: the strong convexity must be >= 0");
  if (max_batch_ < 1) throw_bad_input("Icnn: max_batch must be positive");
  const index_t L = layers(), r = options_.rank;
  index_t n = 0, max_h = 1;
  for (index_t l = 0; l < L; ++l) {
    const index_t h = hidden_[std::size_t(l)];
    layer_.push_back(n);
    n += d_ * r * h + h * d_ + h;
    max_h = std::max(max_h, h);
  }
  convex_ = n;
  v_.push_back(0);
  for (index_t l = 1; l < L; ++l) {
    v_.push_back(n);
    n += hidden_[std::size_t(l)] * hidden_[std::size_t(l) - 1];
  }
  final_ = n;
  n += hidden_.back();
  params_ = Buffer<T>(ctx, n);
  grads_ = Buffer<T>(ctx, n);
  fill_zero(ctx, params_);
  fill_zero(ctx, grads_);
  x_ = Buffer<T>(ctx, max_batch_ * d_);
  for (index_t l = 0; l < L; ++l) {
    const index_t h = hidden_[std::size_t(l)];
    for (auto* v : {&p_, &e_, &p_bar_, &ca_}) v->emplace_back(ctx, max_batch_ * r * h);
    for (auto* v : {&u_, &z_, &g_, &delta_, &delta_bar_, &u_bar_}) v->emplace_back(ctx, max_batch_ * h);
  }
  g_bar_ = Buffer<T>(ctx, max_batch_ * max_h);
  if (ctx.is_cuda()) partial_ = Buffer<T>(ctx, detail::mlp_colsum_chunks * max_h);
}

template <class T>
void Icnn<T>::init(const Context& ctx, std::uint64_t seed, std::uint64_t stream) {
  const index_t L = layers(), r = options_.rank;
  T* p = params_.data();
  for (index_t l = 0; l < L; ++l) {
    const index_t h = hidden_[std::size_t(l)];
    // A_l then W_l: consecutive standard normals (torch.randn); b_l = 0.
    rng_normal<T>(ctx, seed, stream, std::uint64_t(a_offset(l)), p + a_offset(l), d_ * r * h + h * d_);
    detail::fill_zero_bytes(ctx, p + b_offset(l), ctx.device(), sizeof(T) * std::size_t(h));
  }
  for (index_t l = 1; l <= L; ++l) {  // V_l (fan-in h_{l-1}), then w (fan-in h_{L-1})
    const index_t fan_in = hidden_[std::size_t(l) - 1];
    const index_t at = l < L ? v_offset(l) : final_offset();
    const index_t count = l < L ? hidden_[std::size_t(l)] * fan_in : fan_in;
    const T bound = T(1.0 / std::sqrt(double(fan_in)));
    rng_uniform<T>(ctx, seed, stream, std::uint64_t(at), p + at, count, -bound, bound);
  }
  clamp_convex(ctx);
}

template <class T>
void Icnn<T>::clamp_convex(const Context& ctx) {
  T* p = params_.data();
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_icnn_clamp(ctx, p + convex_, params_.size() - convex_);
#endif
  (void)ctx;
  for (index_t i = convex_; i < params_.size(); ++i) p[i] = detail::icnn_convex_clamp(p[i]);
}

template <class T>
void Icnn<T>::run_forward(const Context& ctx, index_t B) {
  const index_t L = layers(), r = options_.rank, d = d_;
  const T* P = params_.data();
  const T* x = x_.data();
  for (index_t l = 0; l < L; ++l) {
    const index_t h = hidden_[std::size_t(l)], rh = r * h;
    T* p = p_[std::size_t(l)].data();
    T* u = u_[std::size_t(l)].data();
    T* z = z_[std::size_t(l)].data();
    gemm<T>(ctx, Op::N, Op::N, B, rh, d, T(1), x, d, P + a_offset(l), rh, T(0), p, rh);  // x A_l
    gemm<T>(ctx, Op::N, Op::T, B, h, d, T(1), x, d, P + w_offset(l), d, T(0), u, h);     // x W_l^T
    if (l > 0) {
      const index_t hp = hidden_[std::size_t(l) - 1];
      gemm<T>(ctx, Op::N, Op::T, B, h, hp, T(1), z_[std::size_t(l) - 1].data(), hp,
              P + v_offset(l), hp, T(1), u, h);  // + z_{l-1} V_l^T
    }
    forward_units<T>(ctx, u, z, p, P + b_offset(l), B, h, r, l == 0);
  }
  // The first reverse pass: g, delta, e.
  const T* w = P + final_offset();
  for (index_t l = L - 1; l >= 0; --l) {
    const index_t h = hidden_[std::size_t(l)];
    T* delta = delta_[std::size_t(l)].data();
    deltas<T>(ctx, g_[std::size_t(l)].data(), delta, e_[std::size_t(l)].data(),
              u_[std::size_t(l)].data(), p_[std::size_t(l)].data(), l == L - 1 ? w : nullptr, B,
              h, r, l == 0);
    if (l > 0) {
      const index_t hp = hidden_[std::size_t(l) - 1];
      gemm<T>(ctx, Op::N, Op::N, B, hp, h, T(1), delta, h, P + v_offset(l), hp, T(0),
              g_[std::size_t(l) - 1].data(), hp);  // g_{l-1} = delta_l V_l
    }
  }
}

template <class T>
void Icnn<T>::forward(const Context& ctx, ConstPointsView<T> in, PointsView<T> out) {
  TraceSpan span(Phase::network_forward);
  const index_t B = in.rows, L = layers(), r = options_.rank, d = d_;
  if (B < 1 || B > max_batch_)
    throw_runtime("Icnn::forward: batch " + std::to_string(B) + " outside [1, max_batch " +
                  std::to_string(max_batch_) + "]");
  check_view("forward input", in.rows, in.cols, in.ld, in.device, B, d, ctx.device());
  check_view("forward output", out.rows, out.cols, out.ld, out.device, B, d, ctx.device());
  batch_ = B;
  detail::copy_bytes(ctx, x_.data(), ctx.device(), in.data, ctx.device(),
                     sizeof(T) * std::size_t(B * d));
  run_forward(ctx, B);
  const T* P = params_.data();
  const T eps = T(options_.strong_convexity);
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    detail::cuda_icnn_scale(ctx, out.data, x_.data(), eps, B * d);
  } else
#endif
  {
    for (index_t i = 0; i < B * d; ++i) out.data[i] = eps * x_.data()[i];
  }
  for (index_t l = 0; l < L; ++l) {
    const index_t h = hidden_[std::size_t(l)], rh = r * h;
    gemm<T>(ctx, Op::N, Op::N, B, d, h, T(1), delta_[std::size_t(l)].data(), h, P + w_offset(l), d,
            T(1), out.data, d);  // + delta_l W_l
    gemm<T>(ctx, Op::N, Op::T, B, d, rh, T(1), e_[std::size_t(l)].data(), rh, P + a_offset(l), rh,
            T(1), out.data, d);  // + e_l A_l^T
  }
}

template <class T>
void Icnn<T>::potential(const Context& ctx, ConstPointsView<T> in, T* phi) {
  const index_t B = in.rows, d = d_;
  if (B < 1 || B > max_batch_) throw_runtime("Icnn::potential: batch outside [1, max_batch]");
  check_view("potential input", in.rows, in.cols, in.ld, in.device, B, d, ctx.device());
  batch_ = B;
  detail::copy_bytes(ctx, x_.data(), ctx.device(), in.data, ctx.device(),
                     sizeof(T) * std::size_t(B * d));
  run_forward(ctx, B);
  const index_t h = hidden_.back();
  const T* w = params_.data() + final_offset();
  const T* z = z_.back().data();
  const T* x = x_.data();
  const T half_eps = T(0.5 * options_.strong_convexity);
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_icnn_potential(ctx, phi, w, z, h, x, d, half_eps, B);
#endif
  for (index_t i = 0; i < B; ++i)
    phi[i] = detail::icnn_potential_row(w, z + i * h, h, x + i * d, d, half_eps);
}

template <class T>
void Icnn<T>::backward(const Context& ctx, ConstPointsView<T> dout, bool accumulate) {
  TraceSpan span(Phase::network_backward);
  const index_t B = batch_, L = layers(), r = options_.rank, d = d_;
  if (B == 0) throw_runtime("Icnn::backward called before forward");
  check_view("backward dout", dout.rows, dout.cols, dout.ld, dout.device, B, d, ctx.device());
  const T beta = accumulate ? T(1) : T(0);
  const T* P = params_.data();
  T* G = grads_.data();
  const T* c = dout.data;
  const T* x = x_.data();
  // From T: Wbar_l, Abar_l, deltabar_l, pbar_l.
  for (index_t l = 0; l < L; ++l) {
    const index_t h = hidden_[std::size_t(l)], rh = r * h;
    const T* delta = delta_[std::size_t(l)].data();
    const T* p = p_[std::size_t(l)].data();
    T* ca = ca_[std::size_t(l)].data();
    T* db = delta_bar_[std::size_t(l)].data();
    T* pb = p_bar_[std::size_t(l)].data();
    gemm<T>(ctx, Op::T, Op::N, h, d, B, T(1), delta, h, c, d, beta, G + w_offset(l), d);
    gemm<T>(ctx, Op::T, Op::N, d, rh, B, T(1), c, d, e_[std::size_t(l)].data(), rh, beta,
            G + a_offset(l), rh);
    gemm<T>(ctx, Op::N, Op::N, B, rh, d, T(1), c, d, P + a_offset(l), rh, T(0), ca, rh);  // c A_l
    gemm<T>(ctx, Op::N, Op::T, B, h, d, T(1), c, d, P + w_offset(l), d, T(0), db, h);     // c W_l^T
    from_t<T>(ctx, db, pb, delta, p, ca, B, h, r);
  }
  // The first reverse pass, backwards: deltabar_l becomes gbar_l once used.
  for (index_t l = 0; l < L; ++l) {
    const index_t h = hidden_[std::size_t(l)];
    T* db = delta_bar_[std::size_t(l)].data();
    T* ub = u_bar_[std::size_t(l)].data();
    if (l == 0) {
      detail::fill_zero_bytes(ctx, ub, ctx.device(), sizeof(T) * std::size_t(B * h));
      continue;
    }
    const index_t hp = hidden_[std::size_t(l) - 1];
    const T* gb_prev = delta_bar_[std::size_t(l) - 1].data();
    gemm<T>(ctx, Op::N, Op::T, B, h, hp, T(1), gb_prev, hp, P + v_offset(l), hp, T(1), db, h);
    gemm<T>(ctx, Op::T, Op::N, h, hp, B, T(1), delta_[std::size_t(l)].data(), h, gb_prev, hp, beta,
            G + v_offset(l), hp);
    gbars<T>(ctx, db, ub, g_[std::size_t(l)].data(), u_[std::size_t(l)].data(), B * h);
  }
  column_sums<T>(ctx, delta_bar_.back().data(), B, hidden_.back(), G + final_offset(), accumulate,
                 partial_.data());
  // The forward pass, backwards.
  for (index_t l = L - 1; l >= 0; --l) {
    const index_t h = hidden_[std::size_t(l)], rh = r * h;
    const T* ub = u_bar_[std::size_t(l)].data();
    if (l > 0) {
      const index_t hp = hidden_[std::size_t(l) - 1];
      gemm<T>(ctx, Op::T, Op::N, h, hp, B, T(1), ub, h, z_[std::size_t(l) - 1].data(), hp, T(1),
              G + v_offset(l), hp);
      T* zb = g_bar_.data();
      gemm<T>(ctx, Op::N, Op::N, B, hp, h, T(1), ub, h, P + v_offset(l), hp, T(0), zb, hp);
      zbars<T>(ctx, u_bar_[std::size_t(l) - 1].data(), zb, u_[std::size_t(l) - 1].data(), B * hp,
               l - 1 == 0);
    }
    T* pb = p_bar_[std::size_t(l)].data();
    pbars<T>(ctx, pb, ub, p_[std::size_t(l)].data(), B, h, r);
    gemm<T>(ctx, Op::T, Op::N, h, d, B, T(1), ub, h, x, d, T(1), G + w_offset(l), d);
    column_sums<T>(ctx, ub, B, h, G + b_offset(l), accumulate, partial_.data());
    gemm<T>(ctx, Op::T, Op::N, d, rh, B, T(1), x, d, pb, rh, T(1), G + a_offset(l), rh);
  }
}

// Forward-mode tangents of T along each input coordinate j (xdot = e_j):
//   pdot_l = A_l[j], qdot_l = 2 sum_s p_{l,s} ⊙ A_l[j, s] + W_l[:, j], udot_0 = qdot_0,
//   zdot_0 = udot_0, udot_l = zdot_{l-1} V_l^T + qdot_l, zdot_l = celu'(u_l) udot_l;
//   gdot_{L-1} = 0, deltadot_l = gdot_l celu'(u_l) + g_l celu''(u_l) udot_l (deltadot_0 = gdot_0),
//   gdot_{l-1} = deltadot_l V_l, edot_l = 2 (deltadot_l p_l + delta_l pdot_l),
//   Tdot = eps e_j + sum_l (deltadot_l W_l + edot_l A_l^T) = column j of grad^2 phi.
template <class T>
void Icnn<T>::hessian(const Context& ctx, ConstPointsView<T> in, T* hess) {
  const index_t B = in.rows, L = layers(), r = options_.rank, d = d_;
  if (ctx.device() != Device::cpu)
    throw_runtime("Icnn::hessian is a host computation (nwgf density): use a CPU context");
  if (B < 1 || B > max_batch_) throw_runtime("Icnn::hessian: batch outside [1, max_batch]");
  check_view("hessian input", in.rows, in.cols, in.ld, in.device, B, d, Device::cpu);
  batch_ = B;
  std::copy(in.data, in.data + B * d, x_.data());
  run_forward(ctx, B);
  const T* P = params_.data();
  const T eps = T(options_.strong_convexity);
  std::vector<std::vector<T>> udot(static_cast<std::size_t>(L)), gdot(static_cast<std::size_t>(L));
  for (index_t l = 0; l < L; ++l) {
    udot[std::size_t(l)].resize(std::size_t(hidden_[std::size_t(l)]));
    gdot[std::size_t(l)].resize(std::size_t(hidden_[std::size_t(l)]));
  }
  for (index_t i = 0; i < B; ++i) {
    for (index_t j = 0; j < d; ++j) {
      // Forward tangents.
      for (index_t l = 0; l < L; ++l) {
        const index_t h = hidden_[std::size_t(l)], rh = r * h;
        const T* A = P + a_offset(l);
        const T* W = P + w_offset(l);
        const T* p = p_[std::size_t(l)].data() + i * rh;
        std::vector<T>& ud = udot[std::size_t(l)];
        for (index_t k = 0; k < h; ++k) {
          T q = W[k * d + j];
          for (index_t s = 0; s < r; ++s) q += T(2) * p[s * h + k] * A[j * rh + s * h + k];
          if (l > 0) {
            const index_t hp = hidden_[std::size_t(l) - 1];
            const T* V = P + v_offset(l) + k * hp;
            const std::vector<T>& up = udot[std::size_t(l) - 1];
            const T* u_prev = u_[std::size_t(l) - 1].data() + i * hp;
            for (index_t m = 0; m < hp; ++m)
              q += V[m] * (l - 1 == 0 ? up[std::size_t(m)] : icnn_celu_d1(u_prev[m]) * up[std::size_t(m)]);
          }
          ud[std::size_t(k)] = q;
        }
      }
      // Reverse tangents and Tdot.
      T* col = hess + i * d * d;  // column j: hess[i][a][j]
      for (index_t a = 0; a < d; ++a) col[a * d + j] = a == j ? eps : T(0);
      for (index_t l = L - 1; l >= 0; --l) {
        const index_t h = hidden_[std::size_t(l)], rh = r * h;
        const T* A = P + a_offset(l);
        const T* W = P + w_offset(l);
        const T* p = p_[std::size_t(l)].data() + i * rh;
        const T* u = u_[std::size_t(l)].data() + i * h;
        const T* g = g_[std::size_t(l)].data() + i * h;
        const T* delta = delta_[std::size_t(l)].data() + i * h;
        std::vector<T>& gd = gdot[std::size_t(l)];
        if (l == L - 1) std::fill(gd.begin(), gd.end(), T(0));
        std::vector<T> dd(static_cast<std::size_t>(h));
        for (index_t k = 0; k < h; ++k) {
          dd[std::size_t(k)] = l == 0 ? gd[std::size_t(k)]
                                      : gd[std::size_t(k)] * icnn_celu_d1(u[k]) +
                                            g[k] * icnn_celu_d2(u[k]) * udot[std::size_t(l)][std::size_t(k)];
        }
        if (l > 0) {
          const index_t hp = hidden_[std::size_t(l) - 1];
          std::vector<T>& gp = gdot[std::size_t(l) - 1];
          std::fill(gp.begin(), gp.end(), T(0));
          for (index_t k = 0; k < h; ++k)
            for (index_t m = 0; m < hp; ++m)
              gp[std::size_t(m)] += dd[std::size_t(k)] * P[v_offset(l) + k * hp + m];
        }
        for (index_t a = 0; a < d; ++a) {
          T t = T(0);
          for (index_t k = 0; k < h; ++k) {
            t += dd[std::size_t(k)] * W[k * d + a];
            for (index_t s = 0; s < r; ++s) {
              const T edot = T(2) * (dd[std::size_t(k)] * p[s * h + k] + delta[k] * A[j * rh + s * h + k]);
              t += edot * A[a * rh + s * h + k];
            }
          }
          col[a * d + j] += t;
        }
      }
    }
  }
}

template class Icnn<float>;
template class Icnn<double>;

}  // namespace nwgf
