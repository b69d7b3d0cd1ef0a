#include "nwgf/nn/mlp.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "nwgf/engine/blas.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/parallel.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/nn/dropout.hpp"
#include "nwgf/nn/mlp_cuda.hpp"
#include "nwgf/nn/mlp_math.hpp"

namespace nwgf {
namespace {

// The elementwise passes run on one thread below engine/parallel.hpp's grain (the d-wide output
// layer, Adam on a small network, the variational scheme's 512 x 64 critic layers under passive
// waits).

// z (rows, cols) <- relu(z + b) or z + b, rows split over threads.
template <class T>
void cpu_bias_activation(int threads, T* z, const T* b, index_t rows, index_t cols, bool relu) {
#pragma omp parallel for schedule(static) \
    num_threads(threads) if (worth_a_team(rows * cols))
  for (index_t i = 0; i < rows; ++i) {
    T* zi = z + i * cols;
    if (relu) {
#pragma omp simd
      for (index_t j = 0; j < cols; ++j) zi[j] = detail::bias_relu(zi[j], b[j]);
    } else {
#pragma omp simd
      for (index_t j = 0; j < cols; ++j) zi[j] = zi[j] + b[j];
    }
  }
}

// If h: g = dh ⊙ 1[h > 0] (g may alias dh), db = [db +] 1^T g; else db = [db +] 1^T dh.
// One pass: each thread sums its rows into its own row of partial (threads, cols), then the rows
// of partial are added in thread order (deterministic for a given thread count).
template <class T>
void cpu_bias_grad(int threads, const T* dh, const T* h, T* g, index_t rows, index_t cols,
                   T* partial, T* db, bool accumulate) {
  int used = 1;
#pragma omp parallel num_threads(threads) if (worth_a_team(rows * cols))
  {
    const int nt = omp_get_num_threads(), tid = omp_get_thread_num();
    if (tid == 0) used = nt;
    T* acc = partial + index_t(tid) * cols;
    std::fill(acc, acc + cols, T(0));
    const index_t lo = rows * tid / nt, hi = rows * (tid + 1) / nt;
    for (index_t i = lo; i < hi; ++i) {
      const T* dhi = dh + i * cols;
      if (h) {
        const T* hi_row = h + i * cols;
        T* gi = g + i * cols;
#pragma omp simd
        for (index_t j = 0; j < cols; ++j) {
          const T gij = detail::relu_backward(dhi[j], hi_row[j]);
          gi[j] = gij;
          acc[j] += gij;
        }
      } else {
#pragma omp simd
        for (index_t j = 0; j < cols; ++j) acc[j] += dhi[j];
      }
    }
  }
  for (index_t j = 0; j < cols; ++j) {
    T s = accumulate ? db[j] : T(0);
    for (int t = 0; t < used; ++t) s += partial[index_t(t) * cols + j];
    db[j] = s;
  }
}

// PReLU layer: z (rows, cols) <- z + b (kept for reverse), h <- prelu(z) with slope *a.
template <class T>
void cpu_bias_prelu(int threads, T* z, const T* b, const T* a, T* h, index_t rows, index_t cols) {
  const T slope = *a;
  // Row by row, so that the bias needs no i % cols and the columns vectorise.
#pragma omp parallel for schedule(static) \
    num_threads(threads) if (worth_a_team(rows * cols))
  for (index_t i = 0; i < rows; ++i) {
    T* zi = z + i * cols;
    T* hi = h + i * cols;
#pragma omp simd
    for (index_t j = 0; j < cols; ++j) hi[j] = detail::bias_prelu(zi[j], b[j], slope, &zi[j]);
  }
}

// PReLU reverse: g = dh (z > 0) or a dh (g may alias dh), s = dh min(z, 0).
template <class T>
void cpu_prelu_backward(int threads, const T* dh, const T* z, const T* a, T* g, T* s, index_t count) {
  const T slope = *a;
  // omp simd: each element reads dh[i] before it writes g[i] (g may be dh), no other overlap.
  // The if clause names parallel: an unnamed one also binds the simd part, and a false one
  // runs the loop one element at a time (GCC emits the vector loop only when it holds).
#pragma omp parallel for simd schedule(static) num_threads(threads) \
    if (parallel : worth_a_team(count))
  for (index_t i = 0; i < count; ++i) g[i] = detail::prelu_backward(dh[i], z[i], slope, &s[i]);
}

template <class T>
void bias_prelu(const Context& ctx, T* z, const T* b, const T* a, T* h, index_t rows, index_t cols) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_bias_prelu(ctx, z, b, a, h, rows, cols);
#endif
  cpu_bias_prelu(ctx.threads(), z, b, a, h, rows, cols);
}

template <class T>
void prelu_backward(const Context& ctx, const T* dh, const T* z, const T* a, T* g, T* s,
                    index_t count) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_prelu_backward(ctx, dh, z, a, g, s, count);
#endif
  cpu_prelu_backward(ctx.threads(), dh, z, a, g, s, count);
}

template <class T>
void bias_activation(const Context& ctx, T* z, const T* b, index_t rows, index_t cols, bool relu) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_bias_activation(ctx, z, b, rows, cols, relu);
#endif
  cpu_bias_activation(ctx.threads(), z, b, rows, cols, relu);
}

template <class T>
void bias_grad(const Context& ctx, const T* dh, const T* h, T* g, index_t rows, index_t cols,
               T* partial, T* db, bool accumulate) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda())
    return detail::cuda_bias_grad(ctx, dh, h, g, rows, cols, partial, db, accumulate);
#endif
  cpu_bias_grad(ctx.threads(), dh, h, g, rows, cols, partial, db, accumulate);
}

// The mask of h_l (l >= 2) in draw: its elements follow those of h_2..h_{l-1} (max_batch rows
// each), so the address does not depend on the batch.
template <class T>
detail::DropoutLayer<T> dropout_layer(const DropoutDraw& draw, double p,
                                      const std::vector<index_t>& widths, index_t max_batch,
                                      index_t l) {
  detail::DropoutLayer<T> d;
  d.seed = draw.seed;
  d.stream = draw.stream;
  d.offset = draw.offset;
  for (index_t k = 2; k < l; ++k) d.offset += std::uint64_t(max_batch * widths[std::size_t(k)]);
  d.threshold = detail::dropout_threshold(p);
  d.scale = T(1.0 / (1.0 - p));
  return d;
}

void check_view(const char* what, index_t rows, index_t cols, index_t ld, Device dev,
                index_t want_rows, index_t want_cols, Device want_dev) {
  if (rows != want_rows || cols != want_cols || ld != cols || dev != want_dev) {
    throw_runtime(std::string("Mlp: ") + what + " is (" + std::to_string(rows) + ", " +
                  std::to_string(cols) + ", ld " + std::to_string(ld) + ") on " + to_string(dev) +
                  ", expected contiguous (" + std::to_string(want_rows) + ", " +
                  std::to_string(want_cols) + ") on " + to_string(want_dev));
  }
}

}  // namespace

template <class T>
Mlp<T>::Mlp(const Context& ctx, std::vector<index_t> widths, index_t max_batch,
            const MlpOptions& options)
    : widths_(std::move(widths)), max_batch_(max_batch), options_(options) {
  if (widths_.size() < 2) throw_bad_input("Mlp: need at least input and output widths");
  for (index_t w : widths_)
    if (w < 1) throw_bad_input("Mlp: layer width " + std::to_string(w) + " must be positive");
  if (max_batch_ < 1) throw_bad_input("Mlp: max_batch must be positive");
  if (!(options_.dropout >= 0 && options_.dropout < 1))
    throw_bad_input("Mlp: dropout " + std::to_string(options_.dropout) + " must lie in [0, 1)");
  if (options_.residual && widths_.front() != widths_.back())
    throw_bad_input("Mlp: a residual network needs equal input and output widths");
  const index_t L = num_layers();
  index_t n = 0, max_hidden = 1, max_width = 1;
  for (index_t l = 0; l < L; ++l) {
    offsets_.push_back(n);
    n += widths_[l + 1] * (widths_[l] + 1);
  }
  for (index_t l = 0; l <= L; ++l) {
    max_width = std::max(max_width, widths_[l]);
    if (l > 0 && l < L) max_hidden = std::max(max_hidden, widths_[l]);
  }
  const bool prelu = options_.activation == Activation::prelu;
  slopes_ = n;
  if (prelu) n += L - 1;
  params_ = Buffer<T>(ctx, n);
  grads_ = Buffer<T>(ctx, n);
  fill_zero(ctx, params_);
  fill_zero(ctx, grads_);
  input_ = Buffer<T>(ctx, max_batch_ * widths_[0]);
  for (index_t l = 1; l < L; ++l) acts_.emplace_back(ctx, max_batch_ * widths_[l]);
  if (prelu && L > 1) {
    for (index_t l = 1; l < L; ++l) pre_.emplace_back(ctx, max_batch_ * widths_[l]);
    slope_terms_ = Buffer<T>(ctx, max_batch_ * max_hidden);
    colsum_ = Buffer<T>(ctx, max_hidden);
    const std::vector<T> ones(std::size_t(max_hidden), T(1));
    ones_ = Buffer<T>(ctx, max_hidden);
    copy_from_host(ctx, ones_, ones.data(), max_hidden);
  }
  if (L > 1)
    for (auto& s : scratch_) s = Buffer<T>(ctx, max_batch_ * max_hidden);
  const index_t chunks = std::max<index_t>(detail::mlp_colsum_chunks, ctx.threads());
  partial_ = Buffer<T>(ctx, chunks * max_width);
}

template <class T>
std::uint64_t Mlp<T>::dropout_elements() const {
  if (!(options_.dropout > 0)) return 0;
  return dropout_layer<T>(DropoutDraw{}, options_.dropout, widths_, max_batch_, num_layers())
      .offset;
}

template <class T>
void Mlp<T>::init(const Context& ctx, std::uint64_t seed, std::uint64_t stream) {
  // Consecutive stream offsets per layer: W_l then b_l, like PyTorch's per-tensor uniform_.
  for (index_t l = 0; l < num_layers(); ++l) {
    const T bound = T(1.0 / std::sqrt(double(widths_[l])));
    const index_t count = widths_[l + 1] * (widths_[l] + 1);
    rng_uniform<T>(ctx, seed, stream, std::uint64_t(offsets_[l]), params_.data() + offsets_[l],
                   count, -bound, bound);
  }
  if (options_.activation == Activation::prelu && num_layers() > 1) {
    const std::vector<T> a(std::size_t(num_layers() - 1), T(options_.prelu_init));
    detail::copy_bytes(ctx, params_.data() + slopes_, ctx.device(), a.data(), Device::cpu,
                       sizeof(T) * a.size());
  }
}

template <class T>
void Mlp<T>::forward(const Context& ctx, ConstPointsView<T> in, PointsView<T> out,
                     const DropoutDraw* train) {
  TraceSpan span(Phase::network_forward);
  const index_t B = in.rows, L = num_layers();
  if (B < 1 || B > max_batch_)
    throw_runtime("Mlp::forward: batch " + std::to_string(B) + " outside [1, max_batch " +
                  std::to_string(max_batch_) + "]");
  check_view("forward input", in.rows, in.cols, in.ld, in.device, B, widths_[0], ctx.device());
  check_view("forward output", out.rows, out.cols, out.ld, out.device, B, widths_[L], ctx.device());
  batch_ = B;
  dropped_ = train && options_.dropout > 0;
  if (dropped_) draw_ = *train;
  detail::copy_bytes(ctx, input_.data(), ctx.device(), in.data, ctx.device(),
                     sizeof(T) * std::size_t(B * widths_[0]));
  const T* h = input_.data();
  for (index_t l = 0; l < L; ++l) {
    const index_t k = widths_[l], n = widths_[l + 1];
    const bool last = l == L - 1;
    const Activation act = options_.activation;
    T* z = last ? out.data : (act == Activation::prelu ? pre_[l].data() : acts_[l].data());
    const T* W = params_.data() + weight_offset(l);
    T beta = T(0);
    if (last && options_.residual) {  // out = in + net(in)
      detail::copy_bytes(ctx, z, ctx.device(), input_.data(), ctx.device(),
                         sizeof(T) * std::size_t(B * n));
      beta = T(1);
    }
    gemm<T>(ctx, Op::N, Op::T, B, n, k, T(1), h, k, W, k, beta, z, n);  // (B, n) = h W^T
    if (!last && act == Activation::prelu) {
      bias_prelu<T>(ctx, z, params_.data() + bias_offset(l), params_.data() + slope_offset(l + 1),
                    acts_[l].data(), B, n);
    } else {
      bias_activation<T>(ctx, z, params_.data() + bias_offset(l), B, n,
                         !last && act == Activation::relu);
    }
    if (dropped_ && l >= 1 && !last) {  // h_{l+1} <- h_{l+1} ⊙ m_{l+1} / (1 - p)
      detail::apply_dropout(ctx,
                            dropout_layer<T>(draw_, options_.dropout, widths_, max_batch_, l + 1),
                            acts_[l].data(), B * n);
    }
    h = last ? z : acts_[l].data();
  }
}

template <class T>
void Mlp<T>::backward(const Context& ctx, ConstPointsView<T> dout, PointsView<T> din,
                      bool accumulate) {
  TraceSpan span(Phase::network_backward);
  const index_t B = batch_, L = num_layers();
  if (B == 0) throw_runtime("Mlp::backward called before forward");
  check_view("backward dout", dout.rows, dout.cols, dout.ld, dout.device, B, widths_[L],
             ctx.device());
  if (din.data)
    check_view("backward din", din.rows, din.cols, din.ld, din.device, B, widths_[0], ctx.device());
  const T beta = accumulate ? T(1) : T(0);
  // g = dL/dz_{l+1} (B, w_{l+1}); for the linear output layer it is dout itself.
  const T* g = dout.data;
  bias_grad<T>(ctx, g, nullptr, nullptr, B, widths_[L], partial_.data(),
               grads_.data() + bias_offset(L - 1), accumulate);
  for (index_t l = L - 1; l >= 0; --l) {
    const index_t k = widths_[l], n = widths_[l + 1];
    const T* h = l == 0 ? input_.data() : acts_[l - 1].data();  // (B, k)
    const T* W = params_.data() + weight_offset(l);             // (n, k)
    gemm<T>(ctx, Op::T, Op::N, n, k, B, T(1), g, n, h, k, beta, grads_.data() + weight_offset(l),
            k);  // dW_l (n, k) = g^T h
    if (l == 0) {
      if (din.data) {
        T beta_in = T(0);
        if (options_.residual) {  // dL/din = dout + g_0 W_0
          detail::copy_bytes(ctx, din.data, ctx.device(), dout.data, ctx.device(),
                             sizeof(T) * std::size_t(B * k));
          beta_in = T(1);
        }
        gemm<T>(ctx, Op::N, Op::N, B, k, n, T(1), g, n, W, k, beta_in, din.data, k);
      }
      break;
    }
    T* next = scratch_[l % 2].data();
    gemm<T>(ctx, Op::N, Op::N, B, k, n, T(1), g, n, W, k, T(0), next, k);  // (B, k) = g W
    if (dropped_ && l >= 2) {  // dL/dh_l ⊙ m_l / (1 - p)
      detail::apply_dropout(ctx, dropout_layer<T>(draw_, options_.dropout, widths_, max_batch_, l),
                            next, B * k);
    }
    T* db = grads_.data() + bias_offset(l - 1);
    switch (options_.activation) {
      case Activation::relu:  // g_l = (g W) ⊙ 1[h_l > 0], db_{l-1} = 1^T g_l
        bias_grad<T>(ctx, next, h, next, B, k, partial_.data(), db, accumulate);
        break;
      case Activation::linear:
        bias_grad<T>(ctx, next, nullptr, next, B, k, partial_.data(), db, accumulate);
        break;
      case Activation::prelu: {  // g_l = (g W) ⊙ prelu'(z_l), da_l = 1^T (s 1), s = (g W) min(z_l, 0)
        prelu_backward<T>(ctx, next, pre_[l - 1].data(), params_.data() + slope_offset(l), next,
                          slope_terms_.data(), B * k);
        bias_grad<T>(ctx, next, nullptr, next, B, k, partial_.data(), db, accumulate);
        bias_grad<T>(ctx, slope_terms_.data(), nullptr, nullptr, B, k, partial_.data(),
                     colsum_.data(), false);
        gemm<T>(ctx, Op::N, Op::N, 1, 1, k, T(1), ones_.data(), k, colsum_.data(), 1, beta,
                grads_.data() + slope_offset(l), 1);
        break;
      }
    }
    g = next;
  }
}

template class Mlp<float>;
template class Mlp<double>;

}  // namespace nwgf
