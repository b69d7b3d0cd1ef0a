#pragma once
// The per-weight math of the IFT weight steps (weight_step.hpp), written once for the host steps
// (weight_step.cpp) and the CUDA kernel (weight_step.cu):
//   pgd   v_i = w_i - 2 eta g_i
//   kl    v_i = w_i exp(-eta (g_i - shift))   (shift = min g when the sum normalises: it cancels)
//   the simplex projection's part max(v_i - theta, 0), and Michelot's threshold
//   theta = (sum_{i in A} v_i - 1) / |A| of an active set A (the sort method's formula when A is
//   the projection's support).
#include <cmath>

#include "nwgf/engine/hd.hpp"

namespace nwgf {

NWGF_HD double pgd_weight_value(double w, double g, double eta) { return w - 2 * eta * g; }

NWGF_HD double kl_weight_value(double w, double g, double eta, double shift) {
  return w * exp(-eta * (g - shift));
}

NWGF_HD double simplex_part(double v, double theta) { return v > theta ? v - theta : 0.0; }

NWGF_HD double simplex_threshold(double active_sum, double active_count) {
  return (active_sum - 1.0) / active_count;
}

}  // namespace nwgf
