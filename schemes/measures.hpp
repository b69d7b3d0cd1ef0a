#pragma once
// Point clouds of the initial and target measures (MeasureConfig), drawn on the host from Philox
// streams, so a (seed, stream) gives the same points on every backend and thread count.
#include <cstdint>

#include "engine/npy.hpp"
#include "schemes/config.hpp"

namespace nwgf {

// n x d points (n and d from the file for kind "npy"). `key` names the config table in messages.
HostMatrix<double> sample_measure(const MeasureConfig& m, std::uint64_t seed, std::uint64_t stream,
                                  const std::string& key);

// True when some two rows coincide exactly (the empirical measure has an atom of mass > 1/n).
bool has_atoms(const HostMatrix<double>& x);

}  // namespace nwgf
