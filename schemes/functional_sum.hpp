#pragma once
// A sum of functionals F = sum_i w_i F_i ([functional] kind = "sum", [[functional.terms]]) for
// the particle scheme: value and particle gradient are the weighted sums of the terms'. The
// neural schemes' batch estimates are refused (config validation).
#include <memory>
#include <utility>
#include <vector>

#include "nwgf/schemes/functional.hpp"

namespace nwgf {

template <class T>
std::unique_ptr<Functional<T>> make_sum(const Context& ctx,
                                        std::vector<std::pair<double, std::unique_ptr<Functional<T>>>> terms,
                                        index_t d, index_t max_rows);

}  // namespace nwgf
