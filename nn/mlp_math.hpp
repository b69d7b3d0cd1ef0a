#pragma once
// Per-element math of the MLP and of Adam, shared by the CPU loops (nn/mlp.cpp, nn/adam.cpp)
// and the CUDA kernels (nn/mlp.cu, nn/adam.cu).
#include <cmath>

#include "nwgf/engine/hd.hpp"

namespace nwgf::detail {

// Hidden layer: h = relu(z + b).
template <class T>
NWGF_HD T bias_relu(T z, T b) {
  const T y = z + b;
  return y > T(0) ? y : T(0);
}

// Reverse of h = relu(z) given h: dL/dz = dL/dh * 1[h > 0] (h > 0 iff z > 0).
template <class T>
NWGF_HD T relu_backward(T dh, T h) {
  return h > T(0) ? dh : T(0);
}

// PReLU hidden layer (one learnable slope a per layer): z = pre + b; h = z if z > 0 else a z.
// Writes z (kept for the reverse pass) and returns h.
// (Both branches' products are computed, then one is selected: a product inside the condition
// is a branch under -ftrapping-math, GCC's default, and the CPU loops would not vectorise.)
template <class T>
NWGF_HD T bias_prelu(T pre, T b, T a, T* z_out) {
  const T z = pre + b;
  *z_out = z;
  const T az = a * z;
  return z > T(0) ? z : az;
}

// Reverse of the PReLU given z: dL/dz = dh (z > 0) or a dh; *slope_term = dh min(z, 0), whose sum
// over the layer's elements is dL/da.
template <class T>
NWGF_HD T prelu_backward(T dh, T z, T a, T* slope_term) {
  const bool pos = z > T(0);
  const T dhz = dh * z, adh = a * dh;  // both computed, then selected (bias_prelu)
  *slope_term = pos ? T(0) : dhz;
  return pos ? dh : adh;
}

// Host-computed scalars of one Adam step t (PyTorch's order of operations).
template <class T>
struct AdamScalars {
  T beta1, beta2;
  T one_minus_beta1, one_minus_beta2;
  T step_size;         // lr / (1 - beta1^t)
  T sqrt_correction2;  // sqrt(1 - beta2^t)
  T eps;
};

// Computed in double, on the host or on the device from the device-side step counter.
template <class T>
NWGF_HD AdamScalars<T> adam_scalars(double beta1, double beta2, double eps, double lr,
                                    long long t) {
  using std::pow;
  using std::sqrt;
  const double correction1 = 1.0 - pow(beta1, double(t));
  const double correction2 = 1.0 - pow(beta2, double(t));
  return {
      T(beta1), T(beta2), T(1.0 - beta1), T(1.0 - beta2), T(lr / correction1), T(sqrt(correction2)),
      T(eps)};
}

// m <- beta1 m + (1-beta1) g; v <- beta2 v + (1-beta2) g^2;
// p <- p - step_size * m / (sqrt(v) / sqrt(1-beta2^t) + eps).
template <class T>
NWGF_HD void adam_update(T& p, T& m, T& v, T g, const AdamScalars<T>& s) {
  using std::sqrt;
  m = s.beta1 * m + s.one_minus_beta1 * g;
  v = s.beta2 * v + s.one_minus_beta2 * g * g;
  const T denom = sqrt(v) / s.sqrt_correction2 + s.eps;
  p = p - s.step_size * (m / denom);
}

}  // namespace nwgf::detail
