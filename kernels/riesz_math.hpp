#pragma once
// Per-pair arithmetic of the Riesz kernel |z|^r, 0 < r < 2, shared by the CPU loops and the CUDA
// kernels (kernels/pairwise.cpp, kernels/pairwise.cu). Every function takes s = |z|^2.
#include <cmath>

#include "engine/hd.hpp"

namespace nwgf::riesz {

template <class T>
NWGF_HD T sqrt_of(T s) {
#ifdef __CUDA_ARCH__
  return ::sqrt(s);
#else
  return std::sqrt(s);
#endif
}

// 1/sqrt(s) for s > 0.
template <class T>
NWGF_HD T rsqrt_of(T s) {
#ifdef __CUDA_ARCH__
  return ::rsqrt(s);
#else
  return T(1) / std::sqrt(s);
#endif
}

// s^p for s > 0. On the device exp2(p log2 s): inlined, unlike pow's slow path (no spills).
template <class T>
NWGF_HD T pow_of(T s, T p) {
#ifdef __CUDA_ARCH__
  return ::exp2(p * ::log2(s));
#else
  return std::pow(s, p);
#endif
}

// |z|^r (0 at z = 0 since r > 0).
template <class T>
NWGF_HD T power(T s, T r) {
  return s > T(0) ? pow_of(s, T(0.5) * r) : T(0);
}
template <class T>
NWGF_HD T power_r1(T s) {
#ifdef __CUDA_ARCH__
  return s > T(0) ? s * rsqrt_of(s) : T(0);
#else
  return sqrt_of(s);
#endif
}

// r |z|^{r-2}, so that grad_z |z|^r = r |z|^{r-2} z; the value 0 at z = 0 (for r > 1 the true
// gradient, for r <= 1 the minimal-norm subgradient).
template <class T>
NWGF_HD T grad_factor(T s, T r) {
  return s > T(0) ? r * pow_of(s, T(0.5) * (r - T(2))) : T(0);
}
template <class T>
NWGF_HD T grad_factor_r1(T s) {
  return s > T(0) ? rsqrt_of(s) : T(0);
}

// One Newton step refining y ~ 1/sqrt(s): y (3/2 - s y^2 / 2), squares the relative error.
template <class T>
NWGF_HD T rsqrt_newton(T y, T s) {
  return y * (T(1.5) - T(0.5) * s * y * y);
}

// Right derivative at t = 0 of |t u|^r at a coincident pair, uu = |u|^2: |u| for r = 1, 0 for
// r > 1 (r < 1 is +infinity for u != 0; callers count such pairs instead).
template <class T>
NWGF_HD T coincident_rate(T uu, bool r_is_one) {
  return r_is_one ? power_r1(uu) : T(0);
}
// Factor c with grad_u coincident_rate = c u: 1/|u| for r = 1 (0 at u = 0), else 0.
template <class T>
NWGF_HD T coincident_grad_factor(T uu, bool r_is_one) {
  return r_is_one && uu > T(0) ? rsqrt_of(uu) : T(0);
}

}  // namespace nwgf::riesz
