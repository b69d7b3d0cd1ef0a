#include "nwgf/schemes/functional_sum.hpp"

#include "nwgf/engine/error.hpp"
#include "nwgf/schemes/scheme_ops.hpp"

namespace nwgf {
namespace {

template <class T>
class SumFunctional final : public Functional<T> {
 public:
  using Terms = std::vector<std::pair<double, std::unique_ptr<Functional<T>>>>;
  SumFunctional(const Context& ctx, Terms terms, index_t d, index_t max_rows)
      : terms_(std::move(terms)), scratch_(ctx, max_rows * d), max_rows_(max_rows) {}

  double batch_value(const Context&, ConstPointsView<T>, T, PointsView<T>) override {
    throw_bad_input("functional.kind: sum runs with flow.scheme = \"particle\" or \"variational\"");
  }
  double batch_directional(const Context&, ConstPointsView<T>, ConstPointsView<T>, T,
                           PointsView<T>) override {
    throw_bad_input("functional.kind: sum runs with flow.scheme = \"particle\" or \"variational\"");
  }

  double value(const Context& ctx, ConstPointsView<T> x) override {
    double f = 0;
    for (auto& [w, term] : terms_) f += w * term->value(ctx, x);
    return f;
  }

  // The terms' values deferred (capturable where every term's is), summed as value() sums them.
  DeferredValue value_deferred(const Context& ctx, ConstPointsView<T> x) override {
    std::vector<std::pair<double, DeferredValue>> parts;
    for (auto& [w, term] : terms_) parts.emplace_back(w, term->value_deferred(ctx, x));
    return [parts = std::move(parts)](const Context& c) {
      double f = 0;
      for (const auto& [w, v] : parts) f += w * v(c);
      return f;
    };
  }

  // grad <- scale sum_i w_i (N grad F_i,N): the first term writes, the others add through a
  // scratch buffer.
  void particle_gradient(const Context& ctx, ConstPointsView<T> x, T scale,
                         PointsView<T> grad) override {
    if (x.rows > max_rows_) throw_bad_input("sum: more rows than the functional was built for");
    const index_t count = x.rows * x.cols;
    PointsView<T> s(scratch_.data(), x.rows, x.cols, scratch_.device());
    bool first = true;
    for (auto& [w, term] : terms_) {
      if (first) {
        term->particle_gradient(ctx, x, T(double(scale) * w), grad);
        first = false;
        continue;
      }
      term->particle_gradient(ctx, x, T(double(scale) * w), s);
      axpby(ctx, count, T(1), scratch_.data(), T(1), grad.data);
    }
  }

  // Across ranks when every term's particle gradient is: each term then gives the whole gradient
  // on every rank (bit for bit one process's), and the weighted sum is replicated.
  bool set_comm(const Comm* comm) override {
    bool ok = true;
    for (auto& [w, term] : terms_) ok = term->set_comm(comm) && ok;
    return ok;
  }

 private:
  Terms terms_;
  Buffer<T> scratch_;
  index_t max_rows_;
};

}  // namespace

template <class T>
std::unique_ptr<Functional<T>> make_sum(const Context& ctx,
                                        std::vector<std::pair<double, std::unique_ptr<Functional<T>>>> terms,
                                        index_t d, index_t max_rows) {
  return std::make_unique<SumFunctional<T>>(ctx, std::move(terms), d, max_rows);
}

template std::unique_ptr<Functional<float>> make_sum<float>(
    const Context&, std::vector<std::pair<double, std::unique_ptr<Functional<float>>>>, index_t,
    index_t);
template std::unique_ptr<Functional<double>> make_sum<double>(
    const Context&, std::vector<std::pair<double, std::unique_ptr<Functional<double>>>>, index_t,
    index_t);

}  // namespace nwgf
