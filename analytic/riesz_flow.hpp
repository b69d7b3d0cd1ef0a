#pragma once
// Closed-form Wasserstein flows of the Riesz interaction energy E_K, K(x,y) = -|x-y|^r,
// 0 < r < 2, started at delta_0 (paper Sect. 5, App. C). Conventions: E_K(mu) = 1/2 ∫∫ K dmu dmu,
// prox_{tau F}(mu) = argmin_nu 1/(2 tau) W_2^2(mu, nu) + F(nu).
//
// Every measure here is a dilation (a Id)#eta* of eta* = prox_{E_K}(delta_0) (Thm 5.1):
//   ball case (d + r < 4):   Lebesgue density rho_s(x) = A_s (s^2 - |x|^2)^{1-(r+d)/2} on |x| < s,
//                            and |X|^2 / s^2 ~ Beta(d/2, 2 - (r+d)/2);
//   sphere case (d + r >= 4): uniform on the sphere |x| = c.
// The limit curve is gamma(t) = (f(t) Id)#eta* with f(t) = ((2-r) t)^{1/(2-r)} (Thm 5.2(ii)),
// the JKO iterates are mu_tau^n = (t_{tau,n}^{1/(2-r)} Id)#eta* (Thm 5.2(i)).
#include <cstdint>
#include <vector>

#include "nwgf/engine/types.hpp"

namespace nwgf {

struct EtaStar {
  int d;
  double r;
  bool ball;             // d + r < 4
  double s;              // ball radius (ball case), else 0
  double A_s;            // density constant (ball case), else 0
  double c;              // sphere radius (sphere case), else 0
  double radius;         // support radius: s or c
  double second_moment;  // E|X|^2 = s^2 d / (4 - r) (ball) or c^2 (sphere)
};

// eta* of Thm 5.1. Throws bad_input (naming d or r) on d < 1 or r outside (0, 2).
EtaStar eta_star(int d, double r);

// Gauss' hypergeometric series 2F1(a, b; c; 1), by Boost's hypergeometric_pFq at z = 1
// (convergent for c - a - b > 0; bad_input otherwise).
double hyp2f1_at_one(double a, double b, double c);

// Law of |X| under eta*: CDF P(|X| <= rho) and quantile (u in (0,1)).
double eta_star_radial_cdf(const EtaStar& eta, double rho);
double eta_star_radial_quantile(const EtaStar& eta, double u);

// f(t) = ((2-r) t)^{1/(2-r)}: gamma(t) = (f(t) Id)#eta* (Remark 5.3).
double limit_scale(double r, double t);

// t_{tau,1..n} of Thm 5.2: t_{tau,k} is the unique positive zero of
//   h(t) = t_{tau,k-1}^{1/(2-r)} t^{(1-r)/(2-r)} - t + tau,   t_{tau,0} = 0,
// found by Newton's method safeguarded by a sign bracket. (Eq. (23) of the paper prints the first
// exponent as (1-r)/(2-r); the proofs of Lemmas C.4/C.5 use 1/(2-r), which gives t_{tau,n} = n tau
// at r = 1.) In the scale g = t^{1/(2-r)} the step reads g_k = g_{k-1} + tau g_k^{r-1}: the
// implicit Euler step of g' = g^{r-1}, whose solution is f.
std::vector<double> jko_times(double r, double tau, int n);

// f_tau(n tau) = t_{tau,n}^{1/(2-r)}: mu_tau^n = (jko_scale Id)#eta*. n = 0 gives 0 (delta_0).
double jko_scale(double r, double tau, int n);

// Thm 5.4 (r = 1 only): the explicit Euler (forward) scheme from delta_0 moves along the geodesic
// (a Id)#eta*, a += tau per step, so mu_tau^k = (k tau Id)#eta*(d, 1). Returns the dilation factor
// a_k = k tau for k = 1..n (the support radius of mu_tau^k is a_k * eta_star(d, 1).radius).
std::vector<double> forward_scales(double tau, int n);

// n samples (row-major n x d, host) of (scale Id)#eta*(d, r), reproducible from (seed, stream)
// and independent of the thread count: sample i uses the Philox blocks
// i*B .. i*B + B-1 of (seed, stream), B = ceil(d/2) + 1 (d normals for the direction, then one
// uniform for the radius, drawn by the Beta quantile ibeta_inv). first_row: the rows
// [first_row, first_row + n) of that sequence (a rank's own rows of a sharded run).
void sample_eta_star(int d, double r, double scale, index_t n, std::uint64_t seed,
                     std::uint64_t stream, double* out, index_t first_row = 0);

}  // namespace nwgf
