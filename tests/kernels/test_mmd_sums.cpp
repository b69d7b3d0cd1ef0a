// mmd2_from_sums (kernels/mmd_sums.hpp), the one formula for MMD^2 from the three pair sums, as a
// V- and a U-statistic: against a direct double loop over the pairs in long double, and the
// library's users of it (mmd2, mmd2_unbiased) against the same loop.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/kernels/mmd_sums.hpp"
#include "nwgf/kernels/pairwise.hpp"
#include "nwgf/schemes/run/reference.hpp"

using namespace nwgf;
using LD = long double;

namespace {

HostMatrix<double> random_points(index_t n, index_t d, unsigned seed, double shift) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> g(shift, 1.0);
  HostMatrix<double> m;
  m.rows = n;
  m.cols = d;
  for (index_t k = 0; k < n * d; ++k) m.data.push_back(g(gen));
  return m;
}

LD dist_r(const HostMatrix<double>& a, index_t i, const HostMatrix<double>& b, index_t j,
          double r) {
  LD s = 0;
  for (index_t k = 0; k < a.cols; ++k) {
    const LD t = LD(a.data[std::size_t(i * a.cols + k)]) - LD(b.data[std::size_t(j * b.cols + k)]);
    s += t * t;
  }
  return std::pow(std::sqrt(s), LD(r));
}

// The mean of |a_i - b_j|^r over all pairs (i, j), or over i != j when `distinct`.
LD mean_pairs(const HostMatrix<double>& a, const HostMatrix<double>& b, double r, bool distinct) {
  LD s = 0;
  long long count = 0;
  for (index_t i = 0; i < a.rows; ++i) {
    for (index_t j = 0; j < b.rows; ++j) {
      if (distinct && i == j) continue;
      s += dist_r(a, i, b, j, r);
      ++count;
    }
  }
  return s / LD(count);
}

LD sum_pairs(const HostMatrix<double>& a, const HostMatrix<double>& b, double r) {
  return mean_pairs(a, b, r, false) * LD(a.rows) * LD(b.rows);
}

// D^2 by its definition: E|X - Y|^r - 1/2 E|X - X'|^r - 1/2 E|Y - Y'|^r, with X' an independent
// copy (V: all pairs of the sample; U: distinct pairs only).
LD direct(const HostMatrix<double>& x, const HostMatrix<double>& y, double r, bool unbiased) {
  return mean_pairs(x, y, r, false) - mean_pairs(x, x, r, unbiased) / 2 -
         mean_pairs(y, y, r, unbiased) / 2;
}

}  // namespace

TEST_CASE("mmd2_from_sums: V and U statistics against the direct double loop") {
  for (const double r : {0.5, 1.0, 1.7}) {
    const HostMatrix<double> x = random_points(23, 3, 1, 0.0), y = random_points(17, 3, 2, 0.6);
    const double sxy = double(sum_pairs(x, y, r)), sxx = double(sum_pairs(x, x, r)),
                 syy = double(sum_pairs(y, y, r));
    const double v = mmd2_from_sums(sxy, sxx, syy, 23, 17, MmdStatistic::v);
    const double u = mmd2_from_sums(sxy, sxx, syy, 23, 17, MmdStatistic::u);
    INFO("r = " << r);
    CHECK(v == doctest::Approx(double(direct(x, y, r, false))).epsilon(1e-13));
    CHECK(u == doctest::Approx(double(direct(x, y, r, true))).epsilon(1e-13));
    CHECK(u != doctest::Approx(v).epsilon(1e-6));  // the self terms' normalisations differ
    // The V-statistic of a sample with itself is exactly 0; the U-statistic is below it.
    CHECK(mmd2_from_sums(sxx, sxx, sxx, 23, 23, MmdStatistic::v) == 0.0);
    CHECK(mmd2_from_sums(sxx, sxx, sxx, 23, 23, MmdStatistic::u) < 0.0);
  }
}

TEST_CASE("mmd2_from_sums: the same bits as each form the callers wrote before") {
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> u(1e-3, 1e6);
  for (int k = 0; k < 2000; ++k) {
    const double sxy = u(gen), sxx = u(gen), syy = u(gen);
    const double n = double(2 + gen() % 5000), m = double(2 + gen() % 5000);
    const double v = mmd2_from_sums(sxy, sxx, syy, n, m, MmdStatistic::v);
    // kernels/pairwise.cpp mmd2 wrote xy - 0.5 xx - 0.5 yy of the means.
    CHECK(v == sxy / (n * m) - 0.5 * (sxx / (n * n)) - 0.5 * (syy / (m * m)));
    // kernels/sliced.cpp sliced_mmd2.
    CHECK(v == sxy / (n * m) - sxx / (2 * n * n) - syy / (2 * m * m));
    // the run's unbiased statistic.
    CHECK(mmd2_from_sums(sxy, sxx, syy, n, m, MmdStatistic::u) ==
          sxy / (n * m) - sxx / (2 * n * (n - 1)) - syy / (2 * m * (m - 1)));
  }
}

TEST_CASE("mmd2 (V) and mmd2_unbiased (U) against the direct double loop") {
  Context ctx(Device::cpu, 2);
  const HostMatrix<double> x = random_points(31, 2, 7, 0.0), y = random_points(26, 2, 8, 1.0);
  for (const double r : {0.8, 1.0, 1.5}) {
    INFO("r = " << r);
    const double v = mmd2<double>(ctx, ConstPointsView<double>(x.data.data(), x.rows, x.cols),
                                  ConstPointsView<double>(y.data.data(), y.rows, y.cols), r);
    CHECK(v == doctest::Approx(double(direct(x, y, r, false))).epsilon(1e-12));
    CHECK(mmd2_unbiased(ctx, x, y, r) ==
          doctest::Approx(double(direct(x, y, r, true))).epsilon(1e-12));
  }
}
