#pragma once
// Per-row math of the variational JKO step (Fan, Taghvaei, Chen, "Variational Wasserstein
// gradient flow", eq. (9), Table 1, Props. 1-2), written once as NWGF_HD functors for the CPU
// loops and the CUDA kernels (reduce_rows of schemes/scheme_ops.hpp runs them).
//
// One step from P_k with the map T and the critic h = f(u), u the critic network's output and f
// its output transform (nn/output_transform.hpp):
//   min_T max_h  1/(2a) E|X - T(X)|^2 + E_{P_k}[A(T, h)(X)] - E_Gamma[B(h)(Z)]
//   KL to Q (Case I, Gamma = mu):  A = log h(T X) + log mu(T X) - log Q(T X),   B = h(Z)
//                                  (Q a Gaussian or a Gaussian mixture)
//   entropy 1/(m-1) int P^m (Case II, Gamma = uniform, density q on its box):
//                                  A = q^{m-1} m/(m-1) h(T X)^{m-1},           B = q^{m-1} h(Z)^m
// A's h-part is a(u), B is b(u) below; log h is clamped at h = 1e-10 (the paper's code).
//
// Batches: y (M, d) rows of P_k, ty = T(y) (M, d), z (M, d) rows of Gamma; the critic sees the
// stacked (2M, d) [ty; z] with outputs u (2M).
#include <cmath>

#include "nwgf/analytic/gaussian_mixture_math.hpp"
#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/nn/output_transform.hpp"

namespace nwgf {

// none: F has no kl or entropy term (a potential only): no critic, A = 0.
enum class VariationalKind { kl, entropy, none };

struct CriticTerms {
  VariationalKind kind = VariationalKind::kl;
  OutputTransform transform = OutputTransform::square;
  double m = 2;           // entropy exponent
  double q_m1 = 1;        // entropy: q^{m-1}
  double weight = 1;      // the term's weight w in F (kind = "sum"): the map's loss takes w A
};

inline constexpr double critic_log_floor = 1e-10;

// A's h-part a(u) and da/du.
template <class T>
NWGF_HD double critic_a(const CriticTerms& c, T u, double* da) {
  if (c.kind == VariationalKind::none) {
    *da = 0;
    return 0;
  }
  T dh;
  const double h = double(output_transform(c.transform, u, &dh));
  if (c.kind == VariationalKind::kl) {
    if (h > critic_log_floor) {
      *da = double(dh) / h;
      return log(h);
    }
    *da = 0;
    return log(critic_log_floor);
  }
  // q^{m-1} m/(m-1) h^{m-1}; h <= 0 (a transform without sign) counts as 0.
  const double hp = h > 0 ? h : 0.0;
  *da = h > 0 ? c.q_m1 * c.m * pow(hp, c.m - 2) * double(dh) : 0.0;
  return c.q_m1 * c.m / (c.m - 1) * pow(hp, c.m - 1);
}

// B(u) and dB/du.
template <class T>
NWGF_HD double critic_b(const CriticTerms& c, T u, double* db) {
  T dh;
  const double h = double(output_transform(c.transform, u, &dh));
  if (c.kind == VariationalKind::kl) {
    *db = double(dh);
    return h;
  }
  const double hp = h > 0 ? h : 0.0;
  *db = h > 0 ? c.q_m1 * c.m * pow(hp, c.m - 1) * double(dh) : 0.0;
  return c.q_m1 * pow(hp, c.m);
}

// The critic's loss -V, rows [0, half) of T(Y), the rest of Z, each weighted w (1/M):
//   -w sum_{i<half} a(u_i) + w sum_{i>=half} b(u_i);  du (or null) <- d(loss)/du.
template <class T>
struct CriticRow {
  CriticTerms terms;
  const T* u;
  T* du;
  index_t half;  // M (training); a chunk's row count or 0 (the estimate)
  double w;
  NWGF_HD double operator()(index_t i) const {
    double g;
    const double v = i < half ? -critic_a(terms, u[i], &g) : critic_b(terms, u[i], &g);
    if (du) du[i] = T((i < half ? -g : g) * w);
    return v * w;
  }
};

// log mu(y) - log Q(y), mu = N(m_mu, P_mu^-1) and Q normalised, with its gradient:
//   Gaussian Q = N(m_Q, P_Q^-1) (mixture null):
//     -1/2 (y - m_mu)' P_mu (y - m_mu) + 1/2 (y - m_Q)' P_Q (y - m_Q) + c,
//     c = 1/2 (ln det P_mu - ln det P_Q), gradient -P_mu (y - m_mu) + P_Q (y - m_Q);
//   Gaussian mixture Q (mixture, K components; analytic/gaussian_mixture_math.hpp, log-sum-exp):
//     -1/2 (y - m_mu)' P_mu (y - m_mu) + c - log Q(y),  c = 1/2 ln det P_mu - d/2 ln(2 pi),
//     gradient -P_mu (y - m_mu) - grad log Q(y).
// params: [m_mu (d), P_mu (d, d), (Gaussian Q:) m_Q (d), P_Q (d, d)] row-major; mixture:
// [means (K, d), Cholesky factors (K, d, d), log weights (K), half log dets (K)] in double, with
// scratch (rows, 3d) doubles (row i's copy of y, whitened z and gradient).
template <class T>
struct GaussianLogRatio {
  const T* params;
  index_t d;
  double c;
  const double* mixture;
  index_t components;
  double* scratch;
  // Writes scale * gradient into g (d values) when g is not null; i: the row (scratch).
  NWGF_HD double operator()(const T* y, T scale, T* g, index_t i) const {
    const T* mm = params;
    const T* pm = params + d;
    const T* mq = pm + d * d;
    const T* pq = mq + d;
    double v = c;
    double* lq_grad = nullptr;
    if (mixture) {
      double* yd = scratch + i * 3 * d;
      for (index_t j = 0; j < d; ++j) yd[j] = double(y[j]);
      lq_grad = yd + 2 * d;
      const index_t K = components;
      v -= gaussian_math::mixture_log_density(yd, K, mixture, mixture + K * d,
                                              mixture + K * d + K * d * d,
                                              mixture + K * d + K * d * d + K, d, yd + d,
                                              g ? lq_grad : nullptr);
    }
    for (index_t j = 0; j < d; ++j) {
      double rm = 0, rq = 0;  // (P (y - m))_j
      for (index_t k = 0; k < d; ++k) {
        rm += double(pm[j * d + k]) * (double(y[k]) - double(mm[k]));
        if (!mixture) rq += double(pq[j * d + k]) * (double(y[k]) - double(mq[k]));
      }
      v += -0.5 * (double(y[j]) - double(mm[j])) * rm;
      if (!mixture) v += 0.5 * (double(y[j]) - double(mq[j])) * rq;
      if (g) g[j] = T(double(scale) * ((mixture ? -lq_grad[j] : rq) - rm));
    }
    return v;
  }
};

// The map's loss over M rows: 1/M sum_i [|ty_i - y_i|^2 / (2a) + w (a(u_i) + ratio(ty_i))]
// (w = terms.weight), with
// dty (or null) <- its gradient in ty without the critic's part (which flows through the
// critic's input gradient) and du (or null) <- its gradient in u. ratio: KL only (params null:
// none).
template <class T>
struct MapRow {
  CriticTerms terms;
  GaussianLogRatio<T> ratio;
  const T* y;
  const T* ty;
  const T* u;
  T* dty;
  T* du;
  index_t rows, d;
  double a;  // the JKO step
  NWGF_HD double operator()(index_t i) const {
    const double inv = 1.0 / double(rows);
    double cost = 0;
    for (index_t j = 0; j < d; ++j) {
      const double diff = double(ty[i * d + j]) - double(y[i * d + j]);
      cost += diff * diff;
    }
    double g;
    const double w = terms.weight;
    const double av = w * critic_a(terms, u[i], &g);
    if (du) du[i] = T(w * g * inv);
    double rv = 0;
    if (ratio.params) rv = w * ratio(ty + i * d, T(w * inv), dty ? dty + i * d : nullptr, i);
    if (dty) {
      for (index_t j = 0; j < d; ++j) {
        const double diff = double(ty[i * d + j]) - double(y[i * d + j]);
        const double rg = ratio.params ? double(dty[i * d + j]) : 0.0;
        dty[i * d + j] = T(diff * inv / a + rg);
      }
    }
    return (cost / (2 * a) + av + rv) * inv;
  }
};

// An ICNN map's pretraining to the identity (VariationalScheme::pretrain): one element's squared
// residual (ty - y)^2, and its gradient 2 (ty - y) / count in ty into *g (count = M d: the loss is
// the mean over the batch's elements).
template <class T>
NWGF_HD double identity_fit_element(T ty, T y, double count, T* g) {
  const double r = double(ty) - double(y);
  *g = T(2 * r / count);
  return r * r;
}

// sum_j (ty_ij - y_ij)^2 of row i, its gradient into g (identity_fit_element).
template <class T>
struct IdentityFitRow {
  const T* y;
  const T* ty;
  T* g;
  index_t d;
  double count;
  NWGF_HD double operator()(index_t i) const {
    double s = 0;
    for (index_t j = 0; j < d; ++j)
      s += identity_fit_element(ty[i * d + j], y[i * d + j], count, &g[i * d + j]);
    return s;
  }
};

// w sum_i ratio(ty_i) (the KL estimate's last term); value only.
template <class T>
struct RatioRow {
  GaussianLogRatio<T> ratio;
  const T* ty;
  index_t d;
  double w;
  NWGF_HD double operator()(index_t i) const { return ratio(ty + i * d, T(0), nullptr, i) * w; }
};

}  // namespace nwgf
