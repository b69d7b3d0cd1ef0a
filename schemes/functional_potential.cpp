#include "nwgf/schemes/functional_potential.hpp"

#include "nwgf/engine/error.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/scheme_ops.hpp"
#include "nwgf/schemes/variational/gamma.hpp"

namespace nwgf {

GaussianMixture target_density(const MeasureConfig& target, index_t d, const std::string& key) {
  if (target.kind == MeasureKind::mixture) return mixture_of(target, key);
  if (target.kind != MeasureKind::gaussian) {
    throw_bad_input(key + ".kind: a density is kind = \"gaussian\" or \"mixture\"");
  }
  const GaussianMoments g = kl_target(target, d);
  return GaussianMixture(d, {g.mean}, {g.cov}, {1.0}, key + ".cov");
}

PackedPotential::PackedPotential(const Context& ctx, const GaussianMixture& q, index_t max_rows)
    : components_(q.components()), d_(q.dim()), max_rows_(max_rows) {
  std::vector<double> packed;
  for (const std::vector<double>& v : {q.means(), q.chols(), q.log_weights(), q.half_logdets()}) {
    packed.insert(packed.end(), v.begin(), v.end());
  }
  packed_ = Buffer<double>(ctx, index_t(packed.size()));
  copy_from_host(ctx, packed_, packed.data(), index_t(packed.size()));
  scratch_ = Buffer<double>(ctx, max_rows * 3 * d_);
}

namespace {

template <class T>
class Potential final : public Functional<T> {
 public:
  Potential(const Context& ctx, const MeasureConfig& target, index_t d, index_t max_rows)
      : v_(ctx, target_density(target, d, "target"), max_rows), gradient_rows_(ctx, max_rows) {}

  double batch_value(const Context&, ConstPointsView<T>, T, PointsView<T>) override {
    throw_bad_input("functional.kind: potential runs with flow.scheme = \"particle\" or "
                    "\"variational\"");
  }
  double batch_directional(const Context&, ConstPointsView<T>, ConstPointsView<T>, T,
                           PointsView<T>) override {
    throw_bad_input("functional.kind: potential runs with flow.scheme = \"particle\" or "
                    "\"variational\"");
  }

  double value(const Context& ctx, ConstPointsView<T> x) override {
    return reduce_rows(ctx, PotentialRow<T>{v_.rows(), x.data, nullptr, x.cols,
                                            1.0 / double(x.rows), 0.0, false},
                       rows_of(x));
  }

  void particle_gradient(const Context& ctx, ConstPointsView<T> x, T scale,
                         PointsView<T> grad) override {
    // The rows write grad; their sum (the energy) is not needed here.
    gradient_rows_.run(ctx,
                       PotentialRow<T>{v_.rows(), x.data, grad.data, x.cols, 0.0, double(scale),
                                       false},
                       rows_of(x));
  }

  // Across ranks every rank computes the whole gradient (and value) itself: O(N) work per step
  // with no exchange, the same bits as one process (the row partials do not depend on the ranks).
  bool set_comm(const Comm*) override { return true; }

 private:
  index_t rows_of(ConstPointsView<T> x) const {
    if (x.rows > v_.max_rows()) throw_bad_input("potential: more rows than the functional was built for");
    if (x.ld != x.cols) throw_bad_input("potential: rows must be contiguous");
    return x.rows;
  }
  PackedPotential v_;
  RowPartials gradient_rows_;
};

}  // namespace

template <class T>
std::unique_ptr<Functional<T>> make_potential(const Context& ctx, const MeasureConfig& target,
                                              index_t d, index_t max_rows) {
  return std::make_unique<Potential<T>>(ctx, target, d, max_rows);
}

template std::unique_ptr<Functional<float>> make_potential<float>(const Context&,
                                                                  const MeasureConfig&, index_t,
                                                                  index_t);
template std::unique_ptr<Functional<double>> make_potential<double>(const Context&,
                                                                    const MeasureConfig&, index_t,
                                                                    index_t);

}  // namespace nwgf
