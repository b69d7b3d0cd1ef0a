#pragma once
// Output transforms of a scalar network u -> h(u) (the critic of the variational JKO scheme,
// as in the paper's code): the value and dh/du, written once for the CPU loops and the CUDA
// kernels.
//   none      h = u
//   square    h = u^2                      (h >= 0: the KL critic's ratio T#P / mu)
//   sigmoid   h = 20 sigmoid(3 u / 20)     (h in (0, 20), slope 3/4 at 0)
#include <cmath>

#include "nwgf/engine/hd.hpp"

namespace nwgf {

enum class OutputTransform { none, square, sigmoid };

template <class T>
NWGF_HD T output_transform(OutputTransform f, T u, T* dh_du) {
  switch (f) {
    case OutputTransform::square:
      *dh_du = T(2) * u;
      return u * u;
    case OutputTransform::sigmoid: {
      using std::exp;
      const T s = T(1) / (T(1) + exp(-T(0.15) * u));
      *dh_du = T(3) * s * (T(1) - s);
      return T(20) * s;
    }
    case OutputTransform::none:
      break;
  }
  *dh_du = T(1);
  return u;
}

}  // namespace nwgf
