#pragma once
// Filling buffers with Philox streams on either backend. Element k of the output is element
// (offset + k) of the stream (seed, stream) as defined in engine/philox.hpp, so results do not
// depend on the backend, the thread count or how a fill is split into calls.
#include <cstdint>

#include "nwgf/engine/backend.hpp"

namespace nwgf {

// out[k] = lo + (hi - lo) * U_{offset+k},  U uniform on (0,1).
template <class T>
void rng_uniform(const Context& ctx, std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                 T* out, index_t n, T lo = T(0), T hi = T(1));
// out[k] = mean + stddev * Z_{offset+k},  Z standard normal.
template <class T>
void rng_normal(const Context& ctx, std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                T* out, index_t n, T mean = T(0), T stddev = T(1));


}  // namespace nwgf
