#pragma once
// Euclidean projections of a weight vector v (n) onto the feasible sets of the IFT weight step:
//   simplex      Delta = {w >= 0, sum_i w_i = 1}:  w_i = max(v_i - theta, 0), theta the unique
//                root of sum_i max(v_i - theta, 0) = 1
//   nonnegative  {w >= 0}:  w_i = max(v_i, 0)
// Two ways to theta, which agree to rounding:
//   sort       (POT's proj_simplex, the IFT code's): u = v sorted decreasingly, rho = #{j :
//              u_j - (sum_{i<=j} u_i - 1) / j > 0}, theta = (sum_{i<=rho} u_i - 1) / rho; O(n log n)
//   bisection  on theta in [min v - 1/n, max v] (the root's bracket), `iterations` halvings in
//              double (60 pin it to rounding); O(n) per halving
// Host code: the weight vector of an IFT run is small next to the O(n^2 d) kernel sums (README).
#include <vector>

namespace nwgf {

void project_simplex_sort(std::vector<double>& v);
void project_simplex_bisection(std::vector<double>& v, int iterations = 60);
void project_nonnegative(std::vector<double>& v);

}  // namespace nwgf
