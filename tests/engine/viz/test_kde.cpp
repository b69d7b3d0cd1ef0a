// The Gaussian kernel density estimate (engine/viz/kde.hpp): it integrates to 1 over a grid that
// holds the samples, its peak lands at the mean of Gaussian samples with the height of the
// smoothed Gaussian, it matches the exact sum (cell averages) to within the binning error,
// Scott's rule is sigma n^(-1/6), and bad bandwidths are bad input naming --bandwidth. The density
// picture draws it: yellow at the peak, white far from every point, a colour bar.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/viz/kde.hpp"
#include "nwgf/engine/viz/picture.hpp"
#include "nwgf/engine/viz/plot.hpp"

using namespace nwgf;

namespace {

// n samples of N(mean, s^2 I) in R^2, (n, 2) row-major.
std::vector<double> gaussian_samples(int n, double m1, double m2, double s, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<double> x;
  for (int i = 0; i < 2 * n; ++i) x.push_back((i % 2 == 0 ? m1 : m2) + s * z(gen));
  return x;
}

// Phi, the standard normal distribution function.
double Phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// Bad input whose message names --bandwidth.
template <class F>
void check_names_bandwidth(F f) {
  try {
    f();
    CHECK(false);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::bad_input);
    CHECK(std::string(e.what()).find("--bandwidth") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("kde: Gaussian samples give mass 1 over the grid and a peak at their mean") {
  const double m1 = 0.3, m2 = -0.2, s = 0.5;
  const int n = 20000;
  const std::vector<double> x = gaussian_samples(n, m1, m2, s, 7);
  const double h = scott_bandwidth(x.data(), n, 2);
  CHECK(h == doctest::Approx(s * std::pow(n, -1.0 / 6.0)).epsilon(0.03));
  const KdeGrid g{0, 0, 3, 256};  // [-3, 3]^2: the samples are 5 sd inside
  const std::vector<double> f = gaussian_kde(x.data(), n, 2, g, h);
  REQUIRE(f.size() == 256u * 256u);
  const double c = 6.0 / 256;
  double mass = 0;
  for (double v : f) {
    CHECK(v >= 0);
    mass += v * c * c;
  }
  CHECK(mass == doctest::Approx(1).epsilon(1e-3));
  // With h = 0.3 (the estimate's noise small against its width): the peak at the mean (within
  // 0.1 sd; seeds 7..11 land within 0.025), as high as N(0, s^2 + h^2) at its centre (the
  // estimate's expectation) within 3%.
  const double h3 = 0.3;
  const std::vector<double> f3 = gaussian_kde(x.data(), n, 2, g, h3);
  const auto at = std::size_t(std::max_element(f3.begin(), f3.end()) - f3.begin());
  const double px = -3 + (double(at % 256) + 0.5) * c, py = 3 - (double(at / 256) + 0.5) * c;
  CHECK(std::fabs(px - m1) < 0.05);
  CHECK(std::fabs(py - m2) < 0.05);
  CHECK(f3[at] == doctest::Approx(1 / (2 * M_PI * (s * s + h3 * h3))).epsilon(0.03));
  // Row 0 is the top: the row of x2 = -0.2 (the mean) is denser than the row of x2 = +0.2.
  const auto row_of = [&](double y) { return std::size_t((3 - y) / c); };
  const auto col = std::size_t((m1 + 3) / c);
  CHECK(f3[row_of(m2) * 256 + col] > f3[row_of(-m2) * 256 + col]);
}

TEST_CASE("kde: binning then convolving matches the exact sum's cell averages") {
  // 300 points; the exact cell average of phi_h over a square cell is a product of two 1-D
  // Gaussian masses.
  const int n = 300, G = 64;
  const std::vector<double> x = gaussian_samples(n, -0.4, 0.5, 0.6, 3);
  const KdeGrid g{0.1, 0.2, 2.5, G};
  const double c = 2 * g.extent / G, left = g.cx - g.extent, top = g.cy + g.extent;
  for (double h : {0.25, 0.5}) {
    CAPTURE(h);
    const std::vector<double> f = gaussian_kde(x.data(), n, 2, g, h);
    double worst = 0, peak = 0;
    for (int r = 0; r < G; ++r) {
      for (int q = 0; q < G; ++q) {
        const double u0 = left + q * c, v1 = top - r * c;
        double exact = 0;
        for (int i = 0; i < n; ++i) {
          const double a = x[std::size_t(2 * i)], b = x[std::size_t(2 * i + 1)];
          exact += (Phi((u0 + c - a) / h) - Phi((u0 - a) / h)) *
                   (Phi((v1 - b) / h) - Phi((v1 - c - b) / h));
        }
        exact /= n * c * c;
        peak = std::max(peak, exact);
        worst = std::max(worst, std::fabs(f[std::size_t(r * G + q)] - exact));
      }
    }
    // Linear binning's error is O(c^2 / h^2) of the peak: (c / h)^2 = 0.098 and 0.024 here,
    // measured 0.04 and 0.07 times that (nearest-cell binning would be O(c / h)).
    CHECK(worst < 0.15 * (c / h) * (c / h) * peak);
  }
}

TEST_CASE("kde: Scott's rule and bad bandwidths") {
  // (+-1, 0), (0, +-1): both variances 2/3, n = 4.
  const double sq[] = {1, 0, -1, 0, 0, 1, 0, -1};
  CHECK(scott_bandwidth(sq, 4, 2) == doctest::Approx(std::sqrt(2.0 / 3.0) * std::pow(4, -1.0 / 6)));
  // d = 1: the one coordinate's variance; NaN rows are left out.
  const double line[] = {0, 2, NAN, 4};
  CHECK(scott_bandwidth(line, 4, 1) == doctest::Approx(2 * std::pow(3, -1.0 / 6)));
  const double same[] = {1, 1, 1, 1, 1, 1};
  check_names_bandwidth([&] { scott_bandwidth(same, 3, 2); });
  check_names_bandwidth([&] { scott_bandwidth(sq, 1, 2); });
  const KdeGrid g{0, 0, 1, 32};
  for (double h : {0.0, -0.1, double(NAN), double(INFINITY), 4.5}) {
    CAPTURE(h);
    check_names_bandwidth([&] { gaussian_kde(sq, 4, 2, g, h); });
  }
  CHECK_NOTHROW(gaussian_kde(sq, 4, 2, g, 4.0));  // twice the box's width: the largest allowed
  // A point far outside the box still adds its tail; one beyond 4 h adds nothing.
  const double far[] = {1.5, 0};
  const std::vector<double> near_f = gaussian_kde(far, 1, 2, g, 0.3);
  CHECK(near_f[16 * 32 + 31] > 0);
  const std::vector<double> none = gaussian_kde(far, 1, 2, g, 0.1);
  CHECK(*std::max_element(none.begin(), none.end()) == 0);
}

TEST_CASE("kde: 1e5 points on a 256 x 256 grid, the peak at the centre") {
  const std::vector<double> x = gaussian_samples(100000, 0, 0, 1, 11);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<double> f = gaussian_kde(x.data(), 100000, 2, KdeGrid{0, 0, 5, 256},
                                             scott_bandwidth(x.data(), 100000, 2));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("kde of 1e5 points, 256 x 256: " << seconds << " s");
  // Reported, not asserted: speed is the benchmarks' business (~0.05 s on an idle Zen 4).
  CHECK(f[128 * 256 + 128] > 0.1);
}

TEST_CASE("density picture, kde: yellow at the peak, white far away, no bandwidth on counts") {
  const std::vector<double> x = gaussian_samples(5000, 0.4, 0.4, 0.15, 5);
  ScatterOptions o;
  o.size = 320;
  o.extent = 1;
  o.density = DensityEstimate::kde;
  const Image img = rasterize(render_density(x.data(), 5000, 2, o));
  const ScatterBox b = scatter_box(o, 1, true);
  const Rgb peak = img.get(int(b.u(0.4)), int(b.v(0.4)));
  CHECK(peak.r > 180);  // viridis near its top: yellow
  CHECK(peak.b < 100);
  const Rgb tail = img.get(int(b.u(0.4)), int(b.v(0.0)));  // 2.7 sd below: purple or blue
  CHECK(tail.b > tail.r);
  const Rgb corner = img.get(int(b.u(-0.9)), int(b.v(-0.9)));  // 8 sd away: nothing
  CHECK(corner.r == 255);
  CHECK(corner.g == 255);
  // The colour bar right of the box: yellow at the top.
  CHECK(img.get(int(b.left + b.side) + 10, int(b.top) + 2).r > 200);
  // An explicit bandwidth is drawn (wider: the tail brighter) and a histogram refuses one.
  o.bandwidth = 0.3;
  const Image wide = rasterize(render_density(x.data(), 5000, 2, o));
  CHECK(wide.get(int(b.u(0.4)), int(b.v(0.0))).g > tail.g);
  o.density = DensityEstimate::histogram;
  check_names_bandwidth([&] { render_density(x.data(), 5000, 2, o); });
}
