#include "nwgf/schemes/scheme_ops.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/parallel.hpp"
#include "nwgf/schemes/potential_rows.hpp"
#include "nwgf/schemes/variational/critic_rows.hpp"

namespace nwgf {

template <class T>
void network_input(const Context& ctx, const T* x, index_t n, index_t d, index_t l,
                   const BatchRows& rows, index_t batch, T* in, T* xb) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_network_input(ctx, x, n, d, l, rows, batch, in, xb);
#endif
  (void)ctx;
  // A row: d copies and l normals (32 light operations each, engine/parallel.hpp).
#pragma omp parallel for schedule(static) if (worth_a_team(batch * (d + 32 * l)))
  for (index_t k = 0; k < batch; ++k) {
    for (index_t j = 0; j < d; ++j) network_input_element(x, n, d, l, rows, k, j, in, xb);
    // The noise columns: network_input_element's normals, each Philox block computed once
    // (rng_fill_block, as rng_normal fills buffers; Z itself, 0 + 1 Z), not once per element.
    const std::uint64_t offset = rows.z_counter + std::uint64_t(k * l);
    std::uint64_t first = 0, count = 0;
    detail::rng_block_range<T, true>(offset, l, first, count);
    for (std::uint64_t blk = first; blk < first + count; ++blk) {
      detail::rng_fill_block<T, true>(rows.seed, rows.z_stream, offset, in + k * (d + l) + d, l,
                                      blk, T(0), T(1));
    }
  }
}

template <class T>
double transport_cost(const Context& ctx, const T* x, const T* t, index_t count, T coef, T* g) {
  return reduce_rows(ctx, TransportRow<T>{x, t, coef, g}, count);
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
#pragma omp parallel for schedule(static) if (worth_a_team(count))
  for (index_t i = 0; i < count; ++i) y[i] = axpby_element(a, x[i], b, y[i]);
}

template <class T>
void axpby_device(const Context& ctx, index_t count, const double* c, const T* x, T* y) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_axpby_device(ctx, count, c, x, y);
#endif
  // The host's loop: axpby with the two scalars (the same bits).
  axpby(ctx, count, T(c[0]), x, T(c[1]), y);
}

void forward_loss_device(const Context& ctx, const ForwardLossArgs& args) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_forward_loss_device(ctx, args);
#endif
  (void)ctx;
  forward_loss_coefficients(args);
}

template <class T>
void row_scaled_add(const Context& ctx, index_t n, index_t d, T alpha, const T* a, const T* x,
                    T* y) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_row_scaled_add(ctx, n, d, alpha, a, x, y);
#endif
  (void)ctx;
#pragma omp parallel for schedule(static) if (worth_a_team(n * d))
  for (index_t e = 0; e < n * d; ++e) y[e] = row_scaled_add_element(alpha, a, x, y, d, e);
}

template <class Row>
double reduce_rows(const Context& ctx, const Row& row, index_t n) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    Buffer<double> dev(ctx, chunks_of(n));
    detail::cuda_row_partials(ctx, row, n, dev.data());
    const std::vector<double> partial = download(ctx, dev);
    return sum_in_order(partial.data(), index_t(partial.size()));
  }
#endif
  (void)ctx;
  return chunked_sum(n, row);
}

template <class Row>
void row_values(const Context& ctx, const Row& row, index_t n, double* values) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_row_values(ctx, row, n, values);
#endif
  (void)ctx;
#pragma omp parallel for schedule(static)
  for (index_t i = 0; i < n; ++i) values[i] = row(i);
}

RowPartials::RowPartials(const Context& ctx, index_t max_rows) : max_rows_(max_rows) {
  if (ctx.is_cuda()) partials_ = Buffer<double>(ctx, std::max<index_t>(chunks_of(max_rows), 1));
}

template <class Row>
void RowPartials::run(const Context& ctx, const Row& row, index_t n) {
  if (n > max_rows_) {
    throw_runtime("row sum of " + std::to_string(n) + " rows, sized for " +
                  std::to_string(max_rows_));
  }
  chunks_ = chunks_of(n);
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_row_partials(ctx, row, n, partials_.data());
#endif
  (void)ctx;
  host_sum_ = chunked_sum(n, row);
}

double RowPartials::sum(const Context& ctx) const {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) {
    std::vector<double> partial(static_cast<std::size_t>(chunks_));
    if (chunks_ > 0) {
      detail::copy_bytes(ctx, partial.data(), Device::cpu, partials_.data(), Device::cuda,
                         sizeof(double) * std::size_t(chunks_));
    }
    return sum_in_order(partial.data(), chunks_);
  }
#endif
  (void)ctx;
  return host_sum_;
}

DeviceTerm RowPartials::term() const {
  DeviceTerm t;
  if (partials_.size() > 0) {
    // CUDA: the partials where run() left them (none: the term is 0).
    t.p = chunks_ > 0 ? partials_.data() : nullptr;
    t.partials = chunks_;
  } else {
    t.p = &host_sum_;
  }
  return t;
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
  template void axpby_device<T>(const Context&, index_t, const double*, const T*, T*);      \
  template void row_scaled_add<T>(const Context&, index_t, index_t, T, const T*, const T*, T*); \
  template bool all_finite<T>(const Context&, const T*, index_t);                           \
  template double reduce_rows<Energy33Row<T>>(const Context&, const Energy33Row<T>&, index_t); \
  template double reduce_rows<DotRow<T>>(const Context&, const DotRow<T>&, index_t);        \
  template double reduce_rows<TransportRow<T>>(const Context&, const TransportRow<T>&, index_t); \
  template double reduce_rows<CriticRow<T>>(const Context&, const CriticRow<T>&, index_t);  \
  template double reduce_rows<MapRow<T>>(const Context&, const MapRow<T>&, index_t);        \
  template double reduce_rows<RatioRow<T>>(const Context&, const RatioRow<T>&, index_t);      \
  template double reduce_rows<PotentialRow<T>>(const Context&, const PotentialRow<T>&, index_t); \
  template void row_values<Energy33Row<T>>(const Context&, const Energy33Row<T>&, index_t, double*); \
  template void row_values<PotentialRow<T>>(const Context&, const PotentialRow<T>&, index_t, double*); \
  template void RowPartials::run<Energy33Row<T>>(const Context&, const Energy33Row<T>&, index_t); \
  template void RowPartials::run<DotRow<T>>(const Context&, const DotRow<T>&, index_t);        \
  template void RowPartials::run<TransportRow<T>>(const Context&, const TransportRow<T>&, index_t); \
  template void RowPartials::run<PotentialRow<T>>(const Context&, const PotentialRow<T>&, index_t); \
  template void RowPartials::run<CriticRow<T>>(const Context&, const CriticRow<T>&, index_t);  \
  template void RowPartials::run<MapRow<T>>(const Context&, const MapRow<T>&, index_t);      \
  template void RowPartials::run<IdentityFitRow<T>>(const Context&, const IdentityFitRow<T>&, index_t);
NWGF_INSTANTIATE(float)
NWGF_INSTANTIATE(double)
#undef NWGF_INSTANTIATE

}  // namespace nwgf
