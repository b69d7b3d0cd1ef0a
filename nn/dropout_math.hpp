#pragma once
// Inverted dropout (training forward passes only): element e of a draw is kept with probability
// 1 - p and then scaled by 1/(1 - p), else set to 0, so E[out] = in. The reverse pass multiplies
// by the same factor. The keep bit of element e is word e % 4 of the Philox block
// (seed, stream, block e / 4) compared with threshold = floor((1 - p) 2^32): integer math only,
// so the mask is the same on every backend, for float and double, and for any thread count.
// Written once for the CPU loop (nn/dropout.cpp) and the CUDA kernel (nn/dropout.cu).
#include <cstdint>

#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/philox.hpp"

namespace nwgf::detail {

// One dropout layer of one training forward: its Philox address and its two constants.
template <class T>
struct DropoutLayer {
  std::uint64_t seed = 0, stream = 0;
  std::uint64_t offset = 0;     // element index of the layer's element 0 in the stream
  std::uint64_t threshold = 0;  // keep iff the 32-bit word < threshold
  T scale = T(1);               // 1 / (1 - p)
};

// floor((1 - p) 2^32), capped at 2^32 (every word is below it: nothing dropped).
inline std::uint64_t dropout_threshold(double p) {
  const double t = (1.0 - p) * 4294967296.0;
  return t >= 4294967296.0 ? std::uint64_t(4294967296ull) : std::uint64_t(t);
}

NWGF_HD bool dropout_keep(std::uint64_t seed, std::uint64_t stream, std::uint64_t e,
                          std::uint64_t threshold) {
  const PhiloxBlock b = philox_block(seed, stream, e / 4);
  return std::uint64_t(b.v[e % 4]) < threshold;
}

// v * (keep ? 1/(1-p) : 0) for element i of the layer: the forward and the reverse factor.
template <class T>
NWGF_HD T dropout_element(const DropoutLayer<T>& d, std::uint64_t i, T v) {
  return dropout_keep(d.seed, d.stream, d.offset + i, d.threshold) ? v * d.scale : T(0);
}

}  // namespace nwgf::detail
