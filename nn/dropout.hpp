#pragma once
// Launchers of inverted dropout (nn/dropout_math.hpp) on either backend; used by nn/mlp.cpp.
// The CUDA path enqueues one kernel on ctx's stream and never synchronises.
#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/nn/dropout_math.hpp"

namespace nwgf::detail {

// v (count) <- v ⊙ mask of layer d, in place: element i gets v_i / (1 - p) or 0. The same call
// is the forward pass (on h) and the reverse pass (on dL/dh).
template <class T>
void apply_dropout(const Context& ctx, const DropoutLayer<T>& d, T* v, index_t count);

#ifdef NWGF_HAVE_CUDA
template <class T>
void cuda_apply_dropout(const Context& ctx, const DropoutLayer<T>& d, T* v, index_t count);
#endif

}  // namespace nwgf::detail
