#pragma once
// Helpers of the emulated sharded pass tests (emu_pairwise_sharded, emu_sliced_sharded): points
// in [-0.5, 0.5)^d from Philox (key, stream) by index, so every rank draws the same values, and
// a device buffer downloaded whole.
#include <cstdint>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf::emu_test {

template <class T>
std::vector<T> points(std::uint64_t key, index_t n, index_t d, std::uint64_t stream) {
  std::vector<T> v(static_cast<std::size_t>(n * d));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = T(philox_uniform<double>(key, stream, i) - 0.5);
  return v;
}

template <class T>
std::vector<T> download_all(const Context& ctx, const Buffer<T>& b) {
  std::vector<T> h(static_cast<std::size_t>(b.size()));
  if (!h.empty()) copy_to_host(ctx, h.data(), b);
  ctx.synchronize();
  return h;
}

}  // namespace nwgf::emu_test
