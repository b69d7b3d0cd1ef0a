// The aggregation metrics (schemes/run/aggregation_metrics.hpp): the ring radius of points on a
// circle, the semicircle law's CDF, and W1 to it against independent values.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nwgf/schemes/run/aggregation_metrics.hpp"

using namespace nwgf;

TEST_CASE("mean_radius: points on a circle about any centre") {
  HostMatrix<double> x;
  x.rows = 12;
  x.cols = 2;
  for (int i = 0; i < 12; ++i) {
    const double t = 2 * M_PI * i / 12;
    x.data.push_back(3.0 + 0.5 * std::cos(t));
    x.data.push_back(-1.0 + 0.5 * std::sin(t));
  }
  CHECK(mean_radius(x) == doctest::Approx(0.5).epsilon(1e-14));
}

TEST_CASE("semicircle law on [-sqrt2, sqrt2]: CDF and W1") {
  const double e = std::sqrt(2.0);
  CHECK(semicircle_cdf(-e) == 0.0);
  CHECK(semicircle_cdf(e) == 1.0);
  CHECK(semicircle_cdf(0.0) == doctest::Approx(0.5).epsilon(1e-15));
  // d/dx CDF = (1/pi) sqrt(2 - x^2).
  for (double x : {-1.2, -0.3, 0.7}) {
    const double h = 1e-6;
    CHECK((semicircle_cdf(x + h) - semicircle_cdf(x - h)) / (2 * h) ==
          doctest::Approx(std::sqrt(2 - x * x) / M_PI).epsilon(1e-8));
  }
  // One point at c: W1 = E|X - c|; E|X| = 4 sqrt2 / (3 pi).
  CHECK(w1_to_semicircle({0.0}) == doctest::Approx(4 * e / (3 * M_PI)).epsilon(1e-12));
  // Far to the right: W1 = c - E X = c.
  CHECK(w1_to_semicircle({5.0}) == doctest::Approx(5.0).epsilon(1e-12));
  // The midpoint quantiles of n points: W1 = O(1/n) (0.70 / n here).
  for (int n : {100, 500}) {
    std::vector<double> q;
    for (int i = 0; i < n; ++i) {
      double lo = -e, hi = e;
      for (int k = 0; k < 100; ++k) {
        const double m = 0.5 * (lo + hi);
        (semicircle_cdf(m) < (i + 0.5) / n ? lo : hi) = m;
      }
      q.push_back(0.5 * (lo + hi));
    }
    const double w1 = w1_to_semicircle(q);
    CHECK(w1 > 0.5 / n);
    CHECK(w1 < 1.0 / n);
  }
}
