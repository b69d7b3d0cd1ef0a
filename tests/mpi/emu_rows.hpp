#pragma once
// Helpers of the emulated sharded pass tests (emu_pairwise_sharded, emu_sliced_sharded): a device
// buffer downloaded whole; their points are test::philox_points (tests/kernels/philox_points.hpp).
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf::emu_test {

template <class T>
std::vector<T> download_all(const Context& ctx, const Buffer<T>& b) {
  std::vector<T> h(static_cast<std::size_t>(b.size()));
  if (!h.empty()) copy_to_host(ctx, h.data(), b);
  ctx.synchronize();
  return h;
}

}  // namespace nwgf::emu_test
