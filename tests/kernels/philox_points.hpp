#pragma once
// Points for the tests of the passes across ranks (pairwise and sliced, replicated and sharded):
// n points in [-0.5, 0.5)^d, row-major, from Philox (key, stream) by index, so every test and
// every simulated rank draws the same values. With `ties`, points 3..6 repeat points 0..3 (ties
// in every direction of the sliced sums).
#include <cstdint>
#include <vector>

#include "nwgf/engine/philox.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf::test {

template <class T>
std::vector<T> philox_points(std::uint64_t key, index_t n, index_t d, std::uint64_t stream,
                             bool ties = false) {
  std::vector<T> v(static_cast<std::size_t>(n * d));
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = T(philox_uniform<double>(key, stream, i) - 0.5);
  }
  if (ties) {
    for (std::size_t i = 0; i + 3 * std::size_t(d) < v.size() && i < 4 * std::size_t(d); ++i) {
      v[i + 3 * std::size_t(d)] = v[i];
    }
  }
  return v;
}

// k values lo + (hi - lo) u_i, u_i the Philox uniform (key, stream) of index i.
template <class T>
std::vector<T> philox_uniforms(std::uint64_t key, index_t k, std::uint64_t stream, double lo,
                               double hi) {
  std::vector<T> v(static_cast<std::size_t>(k));
  for (index_t i = 0; i < k; ++i) {
    v[std::size_t(i)] = T(lo + (hi - lo) * philox_uniform<double>(key, stream, std::uint64_t(i)));
  }
  return v;
}

}  // namespace nwgf::test
