#pragma once
// The potential energy F(P) = ∫ V dP with V = -ln Q, Q the normalised density of [target] (a
// Gaussian N(b, S) is the mixture with one component), per row as NWGF_HD math for the CPU loops
// and the CUDA kernels (reduce_rows of schemes/scheme_ops.hpp):
//   V(x)      = -ln sum_k w_k N(x; m_k, S_k)                       (log-sum-exp)
//   grad V(x) = sum_k r_k(x) S_k^{-1} (x - m_k),  r_k = w_k N_k(x) / Q(x)
// For a Gaussian: V(x) = 1/2 (x - b)' S^{-1} (x - b) + 1/2 ln det(2 pi S), so that a potential
// plus the Boltzmann entropy ∫ P ln P is KL(P || Q).
#include "nwgf/analytic/gaussian_mixture_math.hpp"
#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

// Q's packed arrays (double, on the device): [means (K, d), Cholesky factors (K, d, d), log
// weights (K), half log dets (K)]; scratch: (rows, 3d) doubles, row i's copy of x, whitened z and
// gradient.
struct TargetPotential {
  const double* mixture = nullptr;
  index_t components = 0, d = 0;
  double* scratch = nullptr;

  // Row i's gradient slot in the scratch (d doubles).
  NWGF_HD double* grad_slot(index_t i) const { return scratch + i * 3 * d + 2 * d; }

  // V(x) of row i; when with_grad, grad_slot(i) <- grad V(x). (No pointer is returned through an
  // out-parameter: on CUDA that put a local on the stack and spilled.)
  template <class T>
  NWGF_HD double operator()(const T* x, index_t i, bool with_grad) const {
    double* xd = scratch + i * 3 * d;
    for (index_t j = 0; j < d; ++j) xd[j] = double(x[j]);
    double* g = grad_slot(i);
    const index_t K = components;
    const double lq = gaussian_math::mixture_log_density(
        xd, K, mixture, mixture + K * d, mixture + K * d + K * d * d,
        mixture + K * d + K * d * d + K, d, xd + d, with_grad ? g : nullptr);
    if (with_grad) {
      for (index_t j = 0; j < d; ++j) g[j] = -g[j];
    }
    return -lq;
  }
};

// w sum_i V(x_i) over rows (n, d); grad (or null) <- g_scale grad V(x_i), added to what is there
// when accumulate.
template <class T>
struct PotentialRow {
  TargetPotential v;
  const T* x;
  T* grad;
  index_t d;
  double w;
  double g_scale;
  bool accumulate;
  NWGF_HD double operator()(index_t i) const {
    const double value = v(x + i * d, i, grad != nullptr);
    if (grad) {
      const double* g = v.grad_slot(i);
      for (index_t j = 0; j < d; ++j) {
        const double add = g_scale * g[j];
        grad[i * d + j] = T(accumulate ? double(grad[i * d + j]) + add : add);
      }
    }
    return w * value;
  }
};

}  // namespace nwgf
