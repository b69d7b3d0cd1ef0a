#pragma once
// The Ornstein-Uhlenbeck flow: the Wasserstein gradient flow of F(P) = KL(P || Q) to the
// Gaussian target Q = N(b, S) (A = S^-1), dP/dt = div(P grad(log P - log Q)), started at the
// isotropic Gaussian P_0 = N(m_0, v_0 Id). Everything commutes with A, so in the eigenbasis of
// S (eigenvalues 1/lambda_i) each coordinate is a 1-D problem with mean m and variance v:
//   continuous   m(t) = b + e^{-lambda t} (m_0 - b),
//                v(t) = (1 - e^{-2 lambda t}) / lambda + e^{-2 lambda t} v_0;
//   JKO step a   (the exact discrete iterate, P_{k+1} = argmin 1/(2a) W_2^2(P, P_k) + F(P)):
//                m <- (m + a lambda b) / (1 + a lambda),  v <- s^2 v,
//                s = [1 + sqrt(1 + 4 (1 + a lambda) a / v)] / (2 (1 + a lambda)),
// the linear map T(x) = s x of the optimality condition T(x) = x - a grad(V + log P_{k+1})(T(x))
// (variational JKO paper, Sect. 4.2; its display prints e^{+(x-b)'A(x-b)/2}, a sign slip).
#include "nwgf/analytic/gaussian_moments.hpp"

namespace nwgf {

struct OuProblem {
  GaussianMoments target;        // Q = N(b, S)
  std::vector<double> start;     // m_0 (d)
  double start_variance = 1;     // v_0
};

GaussianMoments ou_continuous(const OuProblem& p, double t);
GaussianMoments ou_jko_iterate(const OuProblem& p, double a, index_t k);

// The 1-D JKO step for one eigen-pair (lambda, b): (m, v) -> the minimiser's (m, v).
void ou_jko_step_1d(double lambda, double b, double a, double& m, double& v);

}  // namespace nwgf
