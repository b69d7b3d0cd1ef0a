// Sliced Riesz sums (kernels/sliced.hpp), CPU backend, against naive O(N^2) double loops written
// here: exact 1-D formulas (d = 1, where slicing is exact) with ties, Monte Carlo unbiasedness,
// gradient direction, reproducibility, finite differences, chunking and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/kernels/sliced.hpp"

using nwgf::ConstPointsView;
using nwgf::Context;
using nwgf::Device;
using nwgf::index_t;
using nwgf::PointsView;
using nwgf::SlicedRiesz;

namespace {

template <class T>
std::vector<T> gaussian_points(index_t n, index_t d, unsigned seed, double shift = 0) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<T> p(static_cast<std::size_t>(n * d));
  for (auto& v : p) v = T(normal(gen) + shift);
  return p;
}

// sum_ij |a_i - b_j| in double.
template <class T>
double naive_sum(const std::vector<T>& a, const std::vector<T>& b, index_t d) {
  const index_t n = index_t(a.size()) / d, m = index_t(b.size()) / d;
  double s = 0;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < m; ++j) {
      double q = 0;
      for (index_t k = 0; k < d; ++k) {
        const double t = double(a[std::size_t(i * d + k)]) - double(b[std::size_t(j * d + k)]);
        q += t * t;
      }
      s += std::sqrt(q);
    }
  return s;
}

// d/da_i sum_ij |a_i - b_j| = sum_j (a_i - b_j) / |a_i - b_j| (0 where a_i = b_j), (n, d).
template <class T>
std::vector<double> naive_grad(const std::vector<T>& a, const std::vector<T>& b, index_t d) {
  const index_t n = index_t(a.size()) / d, m = index_t(b.size()) / d;
  std::vector<double> g(static_cast<std::size_t>(n * d), 0.0);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < m; ++j) {
      double q = 0;
      for (index_t k = 0; k < d; ++k) {
        const double t = double(a[std::size_t(i * d + k)]) - double(b[std::size_t(j * d + k)]);
        q += t * t;
      }
      if (q == 0) continue;
      const double inv = 1 / std::sqrt(q);
      for (index_t k = 0; k < d; ++k)
        g[std::size_t(i * d + k)] +=
            (double(a[std::size_t(i * d + k)]) - double(b[std::size_t(j * d + k)])) * inv;
    }
  return g;
}

template <class T>
ConstPointsView<T> view(const std::vector<T>& p, index_t d) {
  return ConstPointsView<T>(p.data(), index_t(p.size()) / d, d, Device::cpu);
}

struct Result {
  double xx = 0, xy = 0;
  std::vector<double> grad;
};

template <class T>
Result run(const Context& ctx, SlicedRiesz<T>& s, const std::vector<T>& x, const std::vector<T>& y,
           index_t d, T scale_xx, T scale_xy) {
  std::vector<T> g(x.size());
  Result r;
  s.evaluate(ctx, view(x, d), view(y, d), &r.xx, &r.xy, scale_xx, scale_xy,
             PointsView<T>(g.data(), index_t(x.size()) / d, d, Device::cpu), false);
  r.grad.assign(g.begin(), g.end());
  return r;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

}  // namespace

TEST_CASE("c_d: E|theta_1| = 1 / c_d") {
  CHECK(nwgf::sliced_constant(1) == doctest::Approx(1.0).epsilon(1e-14));
  CHECK(nwgf::sliced_constant(2) == doctest::Approx(M_PI / 2).epsilon(1e-14));
  CHECK(nwgf::sliced_constant(3) == doctest::Approx(2.0).epsilon(1e-14));
  // Monte Carlo of E|theta_1| in d = 10 (independent of the Gamma formula).
  std::mt19937_64 gen(3);
  std::normal_distribution<double> normal;
  double mean = 0;
  const int K = 200000;
  for (int k = 0; k < K; ++k) {
    double q = 0, first = 0;
    for (int j = 0; j < 10; ++j) {
      const double z = normal(gen);
      if (j == 0) first = z;
      q += z * z;
    }
    mean += std::abs(first) / std::sqrt(q) / K;
  }
  CHECK(1 / nwgf::sliced_constant(10) == doctest::Approx(mean).epsilon(5e-3));
}

TEST_CASE_TEMPLATE("d = 1: sorted formulas equal the naive sums and sign gradients, with ties", T,
                   float, double) {
  Context ctx(Device::cpu, 2);
  // Small integers: many ties inside x, inside y and between x and y.
  std::mt19937_64 gen(5);
  std::uniform_int_distribution<int> pick(-6, 6);
  for (index_t n : {1, 2, 7, 200}) {
    const index_t m = n + 3;
    std::vector<T> x(static_cast<std::size_t>(n)), y(static_cast<std::size_t>(m));
    for (auto& v : x) v = T(pick(gen));
    for (auto& v : y) v = T(pick(gen)) * T(0.5);
    SlicedRiesz<T> s(ctx, n, m, 1, 3);
    s.draw_directions(ctx, 9, 0, 0);
    const Result r = run<T>(ctx, s, x, y, 1, T(0.75), T(-1.25));
    // theta = +-1 up to the rounding of the normalisation.
    const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-13;
    CHECK(r.xx == doctest::Approx(naive_sum(x, x, 1)).epsilon(tol));
    CHECK(r.xy == doctest::Approx(naive_sum(x, y, 1)).epsilon(tol));
    const auto gxx = naive_grad(x, x, 1), gxy = naive_grad(x, y, 1);
    for (index_t i = 0; i < n; ++i) {
      // dS_xx/dx_i = 2 sum_j sign(x_i - x_j): the factor 2 because x_i is in both slots.
      const double expect = 0.75 * 2 * gxx[std::size_t(i)] - 1.25 * gxy[std::size_t(i)];
      CHECK(r.grad[std::size_t(i)] == doctest::Approx(expect).epsilon(1e-5));
    }
  }
}

TEST_CASE("all points identical (a Dirac) give zero sums and zero gradient") {
  Context ctx(Device::cpu, 2);
  for (index_t d : {1, 3}) {
    std::vector<double> x(static_cast<std::size_t>(500 * d), 1.5),
        y(static_cast<std::size_t>(10 * d), 1.5);
    SlicedRiesz<double> s(ctx, 500, 10, d, 4);
    const Result r = run<double>(ctx, s, x, y, d, 1.0, 1.0);
    CHECK(r.xx == 0);
    CHECK(r.xy == 0);
    for (double g : r.grad) CHECK(g == 0);
  }
}

TEST_CASE_TEMPLATE("sliced sums are unbiased: within 3 Monte Carlo standard errors", T, float,
                   double) {
  Context ctx(Device::cpu, 2);
  for (index_t d : {2, 3, 10}) {
    const auto x = gaussian_points<T>(150, d, 21 + unsigned(d));
    const auto y = gaussian_points<T>(120, d, 31 + unsigned(d), 0.7);
    const double exact_xx = naive_sum(x, x, d), exact_xy = naive_sum(x, y, d);
    SlicedRiesz<T> s(ctx, 150, 120, d, 8);
    const int K = 200;  // independent estimates of S = 8 directions each
    double mxx = 0, mxy = 0, vxx = 0, vxy = 0;
    std::vector<double> exx(K), exy(K);
    for (int k = 0; k < K; ++k) {
      s.draw_directions(ctx, 77, 1, std::uint64_t(k));
      double xx = 0, xy = 0;
      s.evaluate(ctx, view(x, d), view(y, d), &xx, &xy, T(0), T(0), PointsView<T>(), false);
      exx[std::size_t(k)] = xx;
      exy[std::size_t(k)] = xy;
      mxx += xx / K;
      mxy += xy / K;
    }
    for (int k = 0; k < K; ++k) {
      vxx += (exx[std::size_t(k)] - mxx) * (exx[std::size_t(k)] - mxx) / (K - 1);
      vxy += (exy[std::size_t(k)] - mxy) * (exy[std::size_t(k)] - mxy) / (K - 1);
    }
    CAPTURE(d);
    CHECK(std::abs(mxx - exact_xx) <= 3 * std::sqrt(vxx / K));
    CHECK(std::abs(mxy - exact_xy) <= 3 * std::sqrt(vxy / K));
    // The estimator does fluctuate (the check above is not vacuous) ...
    CHECK(vxx > 0);
    // ... but by little relative to the sums.
    CHECK(std::sqrt(vxy) < 0.2 * exact_xy);
  }
}

TEST_CASE_TEMPLATE("S = 2048: sliced gradient points along the exact gradient", T, float, double) {
  Context ctx(Device::cpu, 2);
  for (index_t d : {2, 3, 10}) {
    const index_t n = 200, m = 150;
    const auto x = gaussian_points<T>(n, d, 41 + unsigned(d));
    const auto y = gaussian_points<T>(m, d, 51 + unsigned(d), 0.5);
    // An MMD-like mix: scale_xx = -1/(2 N^2), scale_xy = 1/(N M).
    const T sxx = T(-0.5 / double(n * n)), sxy = T(1.0 / double(n * m));
    SlicedRiesz<T> s(ctx, n, m, d, 2048);
    s.draw_directions(ctx, 5, 0, 0);
    const Result r = run<T>(ctx, s, x, y, d, sxx, sxy);
    const auto gxx = naive_grad(x, x, d), gxy = naive_grad(x, y, d);
    std::vector<double> exact(gxx.size());
    for (std::size_t i = 0; i < exact.size(); ++i)
      exact[i] = double(sxx) * 2 * gxx[i] + double(sxy) * gxy[i];
    CAPTURE(d);
    CHECK(cosine(r.grad, exact) >= 0.99);
  }
}

TEST_CASE("reproducible from the seed, independent of thread count") {
  const index_t d = 3, n = 500, m = 400;
  const auto x = gaussian_points<float>(n, d, 1), y = gaussian_points<float>(m, d, 2);
  Context one(Device::cpu, 1), two(Device::cpu, 2);
  SlicedRiesz<float> a(one, n, m, d, 64), b(two, n, m, d, 64);
  a.draw_directions(one, 123, 4, 5);
  b.draw_directions(two, 123, 4, 5);
  const Result ra = run<float>(one, a, x, y, d, 1.0f, -2.0f);
  const Result rb = run<float>(two, b, x, y, d, 1.0f, -2.0f);
  CHECK(ra.xx == rb.xx);
  CHECK(ra.xy == rb.xy);
  CHECK(ra.grad == rb.grad);
  b.draw_directions(two, 123, 4, 6);  // next counter: fresh directions
  const Result rc = run<float>(two, b, x, y, d, 1.0f, -2.0f);
  CHECK(rc.xx != ra.xx);
  // Directions are unit vectors.
  for (int s = 0; s < 64; ++s) {
    double q = 0;
    for (index_t k = 0; k < d; ++k) q += double(a.theta()[s * d + k]) * a.theta()[s * d + k];
    CHECK(q == doctest::Approx(1.0).epsilon(1e-6));
  }
}

TEST_CASE("gradient equals central finite differences of the sliced value (fixed directions)") {
  Context ctx(Device::cpu, 2);
  const index_t d = 3, n = 25, m = 18;
  auto x = gaussian_points<double>(n, d, 61);
  const auto y = gaussian_points<double>(m, d, 62, 0.3);
  SlicedRiesz<double> s(ctx, n, m, d, 16);
  s.draw_directions(ctx, 8, 2, 1);
  const double sxx = 0.3, sxy = -0.7;
  const Result r = run<double>(ctx, s, x, y, d, sxx, sxy);
  const auto value = [&](const std::vector<double>& p) {
    double xx = 0, xy = 0;
    s.evaluate(ctx, view(p, d), view(y, d), &xx, &xy, 0.0, 0.0, PointsView<double>(), false);
    return sxx * xx + sxy * xy;
  };
  // The sliced sums are piecewise linear in x; h is far below the gaps between projections of
  // these generic points, so the central difference is exact up to rounding.
  const double h = 1e-7;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double up = value(x);
    x[i] = keep - h;
    const double down = value(x);
    x[i] = keep;
    CHECK(r.grad[i] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-5));
  }
}

TEST_CASE("accumulate, empty y, no gradient, chunked directions") {
  Context ctx(Device::cpu, 2);
  const index_t d = 2, n = 300, m = 200;
  const auto x = gaussian_points<float>(n, d, 71), y = gaussian_points<float>(m, d, 72);
  SlicedRiesz<float> s(ctx, n, m, d, 16);
  s.draw_directions(ctx, 1, 0, 0);
  const Result r = run<float>(ctx, s, x, y, d, 0.5f, 2.0f);

  std::vector<float> g(x.size(), 1.0f);
  s.evaluate(ctx, view(x, d), view(y, d), nullptr, nullptr, 0.5f, 2.0f,
             PointsView<float>(g.data(), n, d, Device::cpu), true);
  for (std::size_t i = 0; i < g.size(); ++i)
    CHECK(g[i] == doctest::Approx(r.grad[i] + 1.0).epsilon(1e-5));

  // Empty y: the cross sum is 0 and only the self term drives the gradient.
  double xx = 0, xy = -1;
  std::vector<float> g_self(x.size());
  s.evaluate(ctx, view(x, d), ConstPointsView<float>(), &xx, &xy, 0.5f, 2.0f,
             PointsView<float>(g_self.data(), n, d, Device::cpu), false);
  CHECK(xx == r.xx);
  CHECK(xy == 0);
  const Result self_only = run<float>(ctx, s, x, y, d, 0.5f, 0.0f);
  for (std::size_t i = 0; i < g.size(); ++i)
    CHECK(g_self[i] == doctest::Approx(self_only.grad[i]).epsilon(1e-5));

  // A workspace sized for huge N processes the 16 directions in chunks of 2: same results.
  SlicedRiesz<float> big(ctx, index_t(1) << 23, index_t(1) << 23, d, 16);
  big.draw_directions(ctx, 1, 0, 0);
  const Result rb = run<float>(ctx, big, x, y, d, 0.5f, 2.0f);
  CHECK(rb.xx == doctest::Approx(r.xx).epsilon(1e-12));
  CHECK(rb.xy == doctest::Approx(r.xy).epsilon(1e-12));
  for (std::size_t i = 0; i < g.size(); ++i)
    CHECK(rb.grad[i] == doctest::Approx(r.grad[i]).epsilon(1e-4).scale(1.0));
}

// The CPU sorts (NWGF_SLICED_CPU, read when a SlicedRiesz is built: radix of key and index
// arrays, radix of the f32 key packed with its index, Highway's vectorised quicksort) give the
// same sorted order up to the order of equal keys, which the rank pass does not depend on (a tie
// group's members share one gradient entry), so the sums and gradients must agree bit for bit.
// Points on a grid of 1/64 make ties, and -0.0 and +0.0 among the projections; the f32 sizes take
// the packed sort's 11-bit and 8-bit digits. The environment variable is restored afterwards.
template <class T>
Result run_path(const char* path, const std::vector<T>& x, const std::vector<T>& y, index_t d,
                const char** used = nullptr) {
  const char* before = std::getenv("NWGF_SLICED_CPU");
  const std::string saved = before ? before : "";
  REQUIRE(setenv("NWGF_SLICED_CPU", path, 1) == 0);
  Context ctx(Device::cpu, 2);
  const index_t n = index_t(x.size()) / d, m = index_t(y.size()) / d;
  SlicedRiesz<T> s(ctx, n, m, d, 3);
  REQUIRE((before ? setenv("NWGF_SLICED_CPU", saved.c_str(), 1) : unsetenv("NWGF_SLICED_CPU")) ==
          0);
  if (used) *used = nwgf::detail::to_string(s.workspace().cpu_sort);
  s.draw_directions(ctx, 9, 1, 0);
  const double nn = double(n) * double(n);
  return run<T>(ctx, s, x, y, d, T(-0.5 / nn), T(1 / (double(n) * double(m))));
}

template <class T>
void check_sorts_agree(const std::vector<const char*>& paths,
                       const std::vector<const char*>& expect_used, index_t n) {
  const index_t d = 2;
  const index_t m = n / 4 + 3;
  auto x = gaussian_points<T>(n, d, 91), y = gaussian_points<T>(m, d, 92, 0.2);
  for (std::size_t i = 0; i < x.size(); i += 2) x[i] = std::round(x[i] * 64) / 64;
  for (std::size_t i = 0; i < y.size(); i += 3) y[i] = std::round(y[i] * 64) / 64;
  for (std::size_t i = 0; i < 64; ++i) x[i] = i % 2 ? T(-0.0) : T(0.0);
  const char* used = nullptr;
  const Result ref = run_path<T>(paths[0], x, y, d, &used);
  CHECK(std::string(used) == expect_used[0]);
  for (std::size_t p = 1; p < paths.size(); ++p) {
    CAPTURE(paths[p]);
    const Result r = run_path<T>(paths[p], x, y, d, &used);
    CHECK(std::string(used) == expect_used[p]);
    CHECK(r.xx == ref.xx);
    CHECK(r.xy == ref.xy);
    index_t differ = 0;
    for (std::size_t i = 0; i < r.grad.size(); ++i) differ += r.grad[i] != ref.grad[i];
    CHECK(differ == 0);
  }
  // The gradient is not trivially equal: it varies across points (beyond the zeros).
  index_t varies = 0;
  for (std::size_t i = 64; i + 2 < ref.grad.size(); i += 2)
    varies += ref.grad[i] != ref.grad[i + 2];
  CHECK(varies > n / 2);
}

TEST_CASE("f32: pairs, packed and vqsort sorts give bit-identical sums and gradients") {
  for (index_t n : {index_t(1000), (index_t(1) << 18) + 5}) {
    CAPTURE(n);
    check_sorts_agree<float>({"pairs", "packed", "vqsort"}, {"pairs", "packed", "vqsort"}, n);
  }
  // An unknown path is refused.
  const char* before = std::getenv("NWGF_SLICED_CPU");
  const std::string saved = before ? before : "";
  REQUIRE(setenv("NWGF_SLICED_CPU", "fast", 1) == 0);
  Context ctx(Device::cpu, 1);
  CHECK_THROWS_AS(SlicedRiesz<float>(ctx, 10, 10, 2, 2), nwgf::Error);
  REQUIRE((before ? setenv("NWGF_SLICED_CPU", saved.c_str(), 1) : unsetenv("NWGF_SLICED_CPU")) ==
          0);
}

TEST_CASE("f64: pairs and vqsort sorts give bit-identical sums and gradients") {
  // (packed has no f64 form: f64 sorts pairs for it.) n + m = 1253 and 225006 keys: auto sorts
  // pairs below 180000 keys per direction, vqsort from there on; f32 auto always packed.
  check_sorts_agree<double>({"pairs", "vqsort", "packed", "auto"},
                            {"pairs", "vqsort", "pairs", "pairs"}, 1000);
  check_sorts_agree<double>({"pairs", "vqsort", "auto"}, {"pairs", "vqsort", "vqsort"}, 180003);
  check_sorts_agree<float>({"auto"}, {"packed"}, 180003);
}

TEST_CASE("sliced_mmd2 approaches the exact V-statistic MMD^2") {
  Context ctx(Device::cpu, 2);
  const index_t d = 2, n = 300, m = 250;
  const auto x = gaussian_points<double>(n, d, 81), y = gaussian_points<double>(m, d, 82, 0.8);
  const double exact = naive_sum(x, y, d) / double(n * m) - naive_sum(x, x, d) / (2.0 * n * n) -
                       naive_sum(y, y, d) / (2.0 * m * m);
  const double sliced = nwgf::sliced_mmd2<double>(ctx, view(x, d), view(y, d), 4096, 3);
  CHECK(sliced == doctest::Approx(exact).epsilon(0.03));
  const auto xf = gaussian_points<float>(n, d, 81), yf = gaussian_points<float>(m, d, 82, 0.8);
  // (float draws its own directions: Philox float normals are a different stream.)
  CHECK(nwgf::sliced_mmd2<float>(ctx, view(xf, d), view(yf, d), 4096, 3) ==
        doctest::Approx(exact).epsilon(0.03));
}

TEST_CASE("bad input is a bad_input error") {
  Context ctx(Device::cpu, 2);
  const auto kind_of = [](auto&& f) {
    try {
      f();
    } catch (const nwgf::Error& e) {
      return e.kind();
    }
    return nwgf::ErrorKind::runtime;
  };
  CHECK(kind_of([&] { SlicedRiesz<float>(ctx, 10, 10, 0, 4); }) == nwgf::ErrorKind::bad_input);
  CHECK(kind_of([&] { SlicedRiesz<float>(ctx, 10, 10, 2, 0); }) == nwgf::ErrorKind::bad_input);
  SlicedRiesz<float> s(ctx, 10, 10, 2, 4);
  const auto x = gaussian_points<float>(11, 2, 1), x3 = gaussian_points<float>(5, 3, 1);
  double v = 0;
  CHECK(kind_of([&] {
          s.evaluate(ctx, view(x, 2), ConstPointsView<float>(), &v, nullptr, 1.0f, 0.0f,
                     PointsView<float>(), false);
        }) == nwgf::ErrorKind::bad_input);
  CHECK(kind_of([&] {
          s.evaluate(ctx, view(x3, 3), ConstPointsView<float>(), &v, nullptr, 1.0f, 0.0f,
                     PointsView<float>(), false);
        }) == nwgf::ErrorKind::bad_input);
  CHECK(kind_of([&] { nwgf::sliced_mmd2<float>(ctx, view(x, 2), view(x3, 3), 8, 1); }) ==
        nwgf::ErrorKind::bad_input);
}
