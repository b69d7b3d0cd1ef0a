#pragma once
// Per-element math of the sliced Riesz sums (kernels/sliced.hpp has the derivation), shared by
// the CPU loops and the CUDA kernels.
#include <cmath>

#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

// First position k in [lo, hi) of ascending `a` with !(a[k] < v) (hi if none).
template <class T>
NWGF_HD index_t sorted_lower_bound(const T* a, index_t lo, index_t hi, T v) {
  while (lo < hi) {
    const index_t mid = lo + (hi - lo) / 2;
    if (a[mid] < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}
// First position k in [lo, hi) of ascending `a` with v < a[k] (hi if none).
template <class T>
NWGF_HD index_t sorted_upper_bound(const T* a, index_t lo, index_t hi, T v) {
  while (lo < hi) {
    const index_t mid = lo + (hi - lo) / 2;
    if (v < a[mid]) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

// The tie group [first, last) of sorted position k in ascending a (n): the binary searches run
// only when a neighbour is equal, so distinct keys cost O(1).
template <class T>
NWGF_HD void sorted_tie_group(const T* a, index_t n, index_t k, index_t& first, index_t& last) {
  const T v = a[k];
  first = (k > 0 && a[k - 1] == v) ? sorted_lower_bound(a, index_t(0), k, v) : k;
  last = (k + 1 < n && a[k + 1] == v) ? sorted_upper_bound(a, k + 1, n, v) : k + 1;
}

// dS_xx/dp_i = 2 (#below - #above): 2 sum_j sign(p_i - p_j).
NWGF_HD index_t sliced_self_derivative(index_t below, index_t above) { return 2 * (below - above); }
// dS_xy/dp_i = #{q below p_i} - #{q above p_i} = sum_j sign(p_i - q_j).
NWGF_HD index_t sliced_cross_derivative(index_t below, index_t above) { return below - above; }

// The 1-D gradient entry G[s, i] = scale_xx dS_xx/dp_i + scale_xy dS_xy/dp_i.
template <class T>
NWGF_HD T sliced_gradient_entry(index_t self_derivative, index_t cross_derivative, T scale_xx,
                                T scale_xy) {
  return scale_xx * T(self_derivative) + scale_xy * T(cross_derivative);
}

// The sharded CUDA evaluation's projection and back-projection (kernels/sliced_sharded.hpp):
// each value is one fixed-order sum of its own inputs, so it has the same bits whichever rows a
// launch covers (a GEMM library may pick another blocking, and so another rounding, for another
// shape) and however the directions are cut into chunks.
// <theta, a> = sum_k theta[k] a[k], k = 0, 1, ..., d - 1 in order.
template <class T>
NWGF_HD T sliced_projection(const T* theta, const T* a, index_t d) {
  T s = 0;
  for (index_t k = 0; k < d; ++k) s += theta[k] * a[k];
  return s;
}
// Coordinate k of a row's back-projection continued over a chunk of sc directions:
// acc + G[0, i] theta_0[k] + G[1, i] theta_1[k] + ... in double, one direction after the other
// (so the sum over all S directions has the same bits however they are cut into chunks): g
// points at G[0, i] (stride ldg between directions), theta at theta_0[k] (stride d).
template <class T>
NWGF_HD double sliced_back_projection(double acc, const T* g, index_t ldg, const T* theta,
                                      index_t d, int sc) {
  for (int t = 0; t < sc; ++t) acc += double(g[index_t(t) * ldg]) * double(theta[index_t(t) * d]);
  return acc;
}

// v (d) <- v / |v|: a Gaussian vector normalised is uniform on the sphere.
template <class T>
NWGF_HD void normalize_direction(T* v, index_t d) {
  using std::sqrt;
  T s = 0;
  for (index_t k = 0; k < d; ++k) s += v[k] * v[k];
  const T inv = T(1) / sqrt(s);
  for (index_t k = 0; k < d; ++k) v[k] *= inv;
}

}  // namespace nwgf
