#pragma once
// The MLP tests' finite-difference proof of a reverse pass: for a scalar loss(params, input)
// (long double, e.g. <c, net(x)>), each parameter's and each input's central difference with
// step h against the gradients the pass computed (g for the parameters, dx for the input).
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <vector>

namespace nwgf::test {

template <class Loss>
void check_central_differences(const std::vector<double>& p, const std::vector<double>& x,
                               const std::vector<double>& g, const std::vector<double>& dx,
                               const Loss& loss, double h = 1e-6, double tol = 1e-7) {
  for (std::size_t q = 0; q < p.size(); ++q) {
    std::vector<double> pp = p, pm = p;
    pp[q] += h;
    pm[q] -= h;
    const double fd = double((loss(pp, x) - loss(pm, x)) / (2 * h));
    INFO("parameter " << q);
    REQUIRE(std::fabs(g[q] - fd) <= tol * (1 + std::fabs(fd)));
  }
  for (std::size_t q = 0; q < x.size(); ++q) {
    std::vector<double> xp = x, xm = x;
    xp[q] += h;
    xm[q] -= h;
    const double fd = double((loss(p, xp) - loss(p, xm)) / (2 * h));
    INFO("input " << q);
    REQUIRE(std::fabs(dx[q] - fd) <= tol * (1 + std::fabs(fd)));
  }
}

}  // namespace nwgf::test
