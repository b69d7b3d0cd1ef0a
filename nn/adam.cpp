#include "nwgf/nn/adam.hpp"

#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/parallel.hpp"
#include "nwgf/engine/trace.hpp"
#include "nwgf/nn/mlp_cuda.hpp"
#include "nwgf/nn/mlp_math.hpp"

namespace nwgf {

template <class T>
Adam<T>::Adam(const Context& ctx, index_t n, double beta1, double beta2, double eps)
    : n_(n), beta1_(beta1), beta2_(beta2), eps_(eps), moments_(ctx, 2 * n), counter_(ctx, 2) {
  if (n < 1) throw_bad_input("Adam: parameter count " + std::to_string(n) + " must be positive");
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
    throw_bad_input("Adam: betas must lie in [0, 1)");
  if (!(eps > 0)) throw_bad_input("Adam: eps must be positive");
  fill_zero(ctx, moments_);
  fill_zero(ctx, counter_);
}

template <class T>
void Adam<T>::reset(const Context& ctx) {
  fill_zero(ctx, moments_);
  fill_zero(ctx, counter_);
  steps_ = 0;
}

template <class T>
std::int64_t Adam<T>::device_steps(const Context& ctx) const {
  return download(ctx, counter_)[0];
}

template <class T>
void Adam<T>::set_steps(const Context& ctx, std::int64_t t) {
  const std::vector<long long> c = {t, 0};
  copy_from_host(ctx, counter_, c.data(), 2);
  steps_ = t;
}

template <class T>
void Adam<T>::step(const Context& ctx, T* params, const T* grads, double lr) {
  TraceSpan span(Phase::adam);
  ++steps_;
  T* m = moments_.data();
  T* v = m + n_;
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda())
    return detail::cuda_adam_step(ctx, params, m, v, grads, n_, beta1_, beta2_, eps_, lr,
                                  counter_.data());
#endif
  const long long t = ++counter_.data()[0];
  const auto s = detail::adam_scalars<T>(beta1_, beta2_, eps_, lr, t);
  const index_t n = n_;
  // The if clause names parallel (unnamed, it would also bind simd: no vector loop where it
  // fails).
#pragma omp parallel for simd schedule(static) num_threads(ctx.threads()) \
    if (parallel : worth_a_team(n))
  for (index_t i = 0; i < n; ++i) detail::adam_update(params[i], m[i], v[i], grads[i], s);
}

template class Adam<float>;
template class Adam<double>;

}  // namespace nwgf
