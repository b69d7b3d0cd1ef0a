#pragma once
// Sort keys that trip sorts up, shared by the CPU sort tests (test_radix_sort, test_vq_sort):
// negatives, -0.0 and +0.0, many duplicates (rounded normals and a repeated -3.5), both
// infinities, denormals of both signs, normals; Mersenne Twister from the seed.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "nwgf/engine/types.hpp"

namespace nwgf::test {

template <class T>
std::vector<T> awkward_keys(nwgf::index_t n, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<T> normal(T(0), T(100));
  std::uniform_int_distribution<int> pick(0, 9);
  std::vector<T> k(static_cast<std::size_t>(n));
  for (auto& v : k) {
    switch (pick(gen)) {
      case 0:
        v = T(-0.0);
        break;
      case 1:
        v = T(0.0);
        break;
      case 2:
        v = T(std::round(normal(gen) / 50));
        break;  // duplicates
      case 3:
        v = T(-3.5);
        break;
      case 4:
        v = pick(gen) < 5 ? std::numeric_limits<T>::infinity()
                          : -std::numeric_limits<T>::infinity();
        break;
      case 5:
        v = std::numeric_limits<T>::denorm_min() * T(pick(gen) - 5);
        break;
      default:
        v = normal(gen);
    }
  }
  return k;
}

}  // namespace nwgf::test
