#include "schemes/scheme_ops.hpp"

#include <vector>

namespace nwgf {

template <class T>
void network_input(const Context& ctx, const T* x, index_t n, index_t d, index_t l,
                   const BatchRows& rows, index_t batch, T* in, T* xb) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_network_input(ctx, x, n, d, l, rows, batch, in, xb);
#endif
  (void)ctx;
#pragma omp parallel for schedule(static)
  for (index_t k = 0; k < batch; ++k) {
    for (index_t j = 0; j < d + l; ++j) network_input_element(x, n, d, l, rows, k, j, in, xb);
  }
}

namespace {
// Sum of f(i) over [0, count) in fixed chunks, partials added in chunk order (deterministic for
// any thread count); on CUDA the same chunks are summed by a kernel.
template <class T>
double chunked_transport(const Context& ctx, const T* x, const T* t, index_t count, T coef, T* g) {
  const index_t chunks = (count + reduce_chunk - 1) / reduce_chunk;
  std::vector<double> partial(std::size_t(chunks), 0.0);
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    Buffer<double> dev(ctx, chunks);
    detail::cuda_transport_partials(ctx, x, t, count, coef, g, dev.data());
    partial = download(ctx, dev);
  } else
#endif
  {
    (void)ctx;
#pragma omp parallel for schedule(static)
    for (index_t c = 0; c < chunks; ++c) {
      double s = 0;
      const index_t hi = std::min(count, (c + 1) * reduce_chunk);
      for (index_t i = c * reduce_chunk; i < hi; ++i) s += transport_element(x, t, coef, g, i);
      partial[std::size_t(c)] = s;
    }
  }
  double s = 0;
  for (double p : partial) s += p;
  return s;
}
}  // namespace

template <class T>
double transport_cost(const Context& ctx, const T* x, const T* t, index_t count, T coef, T* g) {
  return chunked_transport(ctx, x, t, count, coef, g);
}

template <class T>
double sum_squares(const Context& ctx, const T* v, index_t count) {
  // <v, v> by the same chunked reduction as every row sum (no scratch buffer).
  return reduce_rows(ctx, DotRow<T>{v, v}, count);
}

template <class T>
void axpby(const Context& ctx, index_t count, T a, const T* x, T b, T* y) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_axpby(ctx, count, a, x, b, y);
#endif
  (void)ctx;
#pragma omp parallel for schedule(static)
  for (index_t i = 0; i < count; ++i) y[i] = axpby_element(a, x[i], b, y[i]);
}

template <class Row>
double reduce_rows(const Context& ctx, const Row& row, index_t n) {
  const index_t chunks = (n + reduce_chunk - 1) / reduce_chunk;
  std::vector<double> partial(std::size_t(chunks), 0.0);
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    Buffer<double> dev(ctx, chunks);
    detail::cuda_row_partials(ctx, row, n, dev.data());
    partial = download(ctx, dev);
  } else
#endif
  {
    (void)ctx;
#pragma omp parallel for schedule(static)
    for (index_t c = 0; c < chunks; ++c) {
      double s = 0;
      const index_t hi = std::min(n, (c + 1) * reduce_chunk);
      for (index_t i = c * reduce_chunk; i < hi; ++i) s += row(i);
      partial[std::size_t(c)] = s;
    }
  }
  double s = 0;
  for (double p : partial) s += p;
  return s;
}

template <class T>
bool all_finite(const Context& ctx, const T* v, index_t count) {
  // Inf - Inf and NaN propagate into the sum of squares.
  return std::isfinite(sum_squares(ctx, v, count));
}

#define NWGF_INSTANTIATE(T)                                                                  \
  template void network_input<T>(const Context&, const T*, index_t, index_t, index_t,       \
                                 const BatchRows&, index_t, T*, T*);                         \
  template double transport_cost<T>(const Context&, const T*, const T*, index_t, T, T*);    \
  template double sum_squares<T>(const Context&, const T*, index_t);                        \
  template void axpby<T>(const Context&, index_t, T, const T*, T, T*);                      \
  template bool all_finite<T>(const Context&, const T*, index_t);                           \
  template double reduce_rows<Energy33Row<T>>(const Context&, const Energy33Row<T>&, index_t); \
  template double reduce_rows<DotRow<T>>(const Context&, const DotRow<T>&, index_t);
NWGF_INSTANTIATE(float)
NWGF_INSTANTIATE(double)
#undef NWGF_INSTANTIATE

}  // namespace nwgf
