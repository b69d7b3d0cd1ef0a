#pragma once
// The potential energy F(P) = ∫ V dP, V = -ln Q with Q the normalised density of [target]
// (kind = "gaussian": N(points[0], cov or radius^2 Id); kind = "mixture": its components), for
// the particle scheme (value, particle gradient) and the variational scheme (TargetPotential rows,
// schemes/potential_rows.hpp):
//   F(mu_N) = 1/N sum_i V(x_i),   N grad_{x_i} F_N = grad V(x_i).
// The neural schemes' batch estimates are refused (config validation).
#include <memory>

#include "nwgf/analytic/gaussian_mixture.hpp"
#include "nwgf/schemes/functional.hpp"
#include "nwgf/schemes/potential_rows.hpp"

namespace nwgf {

// Q of [target] as a mixture (a Gaussian: one component); bad input naming `key` otherwise.
GaussianMixture target_density(const MeasureConfig& target, index_t d, const std::string& key);

// Q's packed arrays on ctx's device, with a row scratch for up to max_rows rows.
class PackedPotential {
 public:
  PackedPotential(const Context& ctx, const GaussianMixture& q, index_t max_rows);
  TargetPotential rows() { return {packed_.data(), components_, d_, scratch_.data()}; }
  index_t dim() const { return d_; }
  index_t max_rows() const { return max_rows_; }

 private:
  index_t components_, d_, max_rows_;
  Buffer<double> packed_, scratch_;
};

template <class T>
std::unique_ptr<Functional<T>> make_potential(const Context& ctx, const MeasureConfig& target,
                                              index_t d, index_t max_rows);

}  // namespace nwgf
