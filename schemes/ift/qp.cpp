#include "nwgf/schemes/ift/qp.hpp"

#include <cmath>

#include "nwgf/schemes/ift/weight_step.hpp"

namespace nwgf {
namespace {

// y <- K x.
void matvec(const std::vector<double>& K, const std::vector<double>& x, std::vector<double>& y) {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0;
    const double* row = &K[i * n];
    for (std::size_t j = 0; j < n; ++j) s += row[j] * x[j];
    y[i] = s;
  }
}

// One process: K dense, sums in index order.
struct DenseOps {
  const std::vector<double>& K;
  std::size_t n;
  MassConstraint mass;
  void matvec(const std::vector<double>& x, std::vector<double>& y) const { nwgf::matvec(K, x, y); }
  template <class Term>
  double sum(const Term& term) const {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += term(i);
    return s;
  }
  void project(std::vector<double>& b) const { project_mass(b, mass); }
};

}  // namespace

double spectral_radius(const std::vector<double>& K, index_t n, int iterations) {
  return qp_detail::power_iteration(DenseOps{K, std::size_t(n), MassConstraint::simplex},
                                    std::size_t(n), 0, iterations);
}

QpResult solve_weight_qp(const std::vector<double>& K, double eta, const std::vector<double>& c,
                         const std::vector<double>& start, index_t iterations,
                         MassConstraint mass) {
  return qp_detail::fista(DenseOps{K, start.size(), mass}, 0, eta, c, start, iterations);
}

}  // namespace nwgf
