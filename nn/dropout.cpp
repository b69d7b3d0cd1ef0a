#include "nwgf/nn/dropout.hpp"

#include "nwgf/engine/parallel.hpp"

namespace nwgf::detail {

template <class T>
void apply_dropout(const Context& ctx, const DropoutLayer<T>& d, T* v, index_t count) {
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return cuda_apply_dropout(ctx, d, v, count);
#endif
  // Each element draws its own Philox block word: the result does not depend on the split.
#pragma omp parallel for schedule(static) num_threads(ctx.threads()) if (worth_a_team(count))
  for (index_t i = 0; i < count; ++i) v[i] = dropout_element(d, std::uint64_t(i), v[i]);
}

template void apply_dropout<float>(const Context&, const DropoutLayer<float>&, float*, index_t);
template void apply_dropout<double>(const Context&, const DropoutLayer<double>&, double*, index_t);

}  // namespace nwgf::detail
