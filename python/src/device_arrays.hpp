#pragma once
// CUDA arrays (DLPack device type CUDA) in the kernel functions: the sums run on that GPU on the
// array's memory (python/src/device_arrays.cpp). Builds without the CUDA backend refuse them
// with a ValueError naming the argument.
#include <optional>

#include "python/src/arrays.hpp"

namespace nwgf::py {

bool on_cuda(const AnyArray& a);

// riesz_energy (a Python float) or riesz_gradient (a fresh CUDA array) of CUDA arrays.
nb::object cuda_riesz(const AnyArray& x, const std::optional<AnyArray>& y, double r, nb::handle wx,
                      nb::handle wy, int threads, bool gradient);
// Exact MMD^2 (V-statistic) of CUDA arrays.
double cuda_mmd2(const AnyArray& x, const AnyArray& y, double r, int threads);

}  // namespace nwgf::py
