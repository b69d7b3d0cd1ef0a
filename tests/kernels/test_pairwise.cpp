// Fused pairwise Riesz sums (kernels/pairwise.hpp) on the CPU backend against naive long-double
// double loops, central finite differences, float/double agreement and determinism.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "nwgf/kernels/pairwise.hpp"

namespace nwgf {
namespace {

using LD = long double;

struct Problem {
  index_t n = 0, m = 0, d = 0;
  std::vector<double> x, v, a, y, w, b;  // (n,d) (n,d) (n) (m,d) (m,d) (m)
};

// Random points in [-1, 1]^d, velocities, positive weights; `coincide` rows of X copied from Y
// (and, for self problems, from earlier rows of X).
Problem make_problem(index_t n, index_t m, index_t d, unsigned seed, index_t coincide = 0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(-1, 1), pos(0.2, 1.5);
  Problem p;
  p.n = n;
  p.m = m;
  p.d = d;
  auto fill = [&](std::vector<double>& vec, index_t k, std::uniform_real_distribution<double>& dist) {
    vec.resize(std::size_t(k));
    for (auto& e : vec) e = dist(gen);
  };
  fill(p.x, n * d, u);
  fill(p.v, n * d, u);
  fill(p.a, n, pos);
  fill(p.y, m * d, u);
  fill(p.w, m * d, u);
  fill(p.b, m, pos);
  for (index_t c = 0; c < coincide; ++c) {
    const index_t i = (7 * c + 3) % n, j = (5 * c + 1) % m;
    for (index_t k = 0; k < d; ++k) p.x[std::size_t(i * d + k)] = p.y[std::size_t(j * d + k)];
  }
  return p;
}

struct Naive {
  LD energy = 0, rate = 0;
  std::vector<LD> grad_x, grad_v, grad_w;
  index_t coincident = 0;
};

// Straight from the definitions in kernels/pairwise.hpp, in long double.
Naive naive(const std::vector<double>& x, const std::vector<double>& v, const double* a,
            const std::vector<double>& y, const std::vector<double>& w, const double* b,
            index_t n, index_t m, index_t d, double r) {
  Naive out;
  out.grad_x.assign(std::size_t(n * d), 0);
  out.grad_v.assign(std::size_t(n * d), 0);
  out.grad_w.assign(std::size_t(m * d), 0);
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < m; ++j) {
      const LD ab = LD(a ? a[i] : 1.0) * LD(b ? b[j] : 1.0);
      LD s = 0, zu = 0, uu = 0;
      for (index_t k = 0; k < d; ++k) {
        const LD z = LD(x[std::size_t(i * d + k)]) - y[std::size_t(j * d + k)];
        const LD u = LD(v[std::size_t(i * d + k)]) - w[std::size_t(j * d + k)];
        s += z * z;
        zu += z * u;
        uu += u * u;
      }
      out.energy += ab * std::pow(s, LD(r) / 2);
      if (s > 0) {
        const LD f = ab * LD(r) * std::pow(s, (LD(r) - 2) / 2);
        out.rate += f * zu;
        for (index_t k = 0; k < d; ++k) {
          const LD z = LD(x[std::size_t(i * d + k)]) - y[std::size_t(j * d + k)];
          out.grad_x[std::size_t(i * d + k)] += f * z;
          out.grad_v[std::size_t(i * d + k)] += f * z;
          out.grad_w[std::size_t(j * d + k)] -= f * z;
        }
      } else {
        ++out.coincident;
        if (r == 1.0 && uu > 0) {
          const LD nu = std::sqrt(uu);
          out.rate += ab * nu;
          for (index_t k = 0; k < d; ++k) {
            const LD u = LD(v[std::size_t(i * d + k)]) - w[std::size_t(j * d + k)];
            out.grad_v[std::size_t(i * d + k)] += ab * u / nu;
            out.grad_w[std::size_t(j * d + k)] -= ab * u / nu;
          }
        }
      }
    }
  }
  return out;
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <class T>
ConstPointsView<T> view(const std::vector<T>& v, index_t rows, index_t d) {
  return ConstPointsView<T>(v.data(), rows, d);
}

// Relative error of a vector against the reference, scaled by the reference's max norm.
double max_rel(const std::vector<double>& got, const std::vector<LD>& want) {
  LD scale = 1e-300L, err = 0;
  for (std::size_t k = 0; k < want.size(); ++k) {
    scale = std::max(scale, std::fabs(want[k]));
    err = std::max(err, std::fabs(LD(got[k]) - want[k]));
  }
  return double(err / scale);
}

struct Result {
  double energy = 0, rate = 0;
  std::vector<double> grad_x, grad_v, grad_w;
  index_t coincident = -1;
};

// Runs every entry point on the CPU backend in precision T. self: y aliases x (and w aliases v).
template <class T>
Result run_all(const Problem& pb, double r, bool weights, bool self, int threads) {
  Context ctx(Device::cpu, threads);
  const auto x = cast<T>(pb.x), v = cast<T>(pb.v), a = cast<T>(pb.a);
  const auto y = self ? x : cast<T>(pb.y), w = self ? v : cast<T>(pb.w);
  const auto b = self ? a : cast<T>(pb.b);
  const index_t n = pb.n, m = self ? pb.n : pb.m, d = pb.d;
  const T* ap = weights ? a.data() : nullptr;
  const T* bp = weights ? b.data() : nullptr;
  const ConstPointsView<T> xv = view(x, n, d), vv = view(v, n, d);
  const ConstPointsView<T> yv = self ? xv : view(y, m, d), wv = self ? vv : view(w, m, d);
  Result res;
  riesz_energy<T>(ctx, xv, ap, yv, bp, r, &res.energy);
  std::vector<T> gx(std::size_t(n * d)), gv(std::size_t(n * d)), gw(std::size_t(m * d));
  riesz_gradient<T>(ctx, xv, ap, yv, bp, r, T(1), PointsView<T>(gx.data(), n, d), false);
  riesz_directional<T>(ctx, xv, vv, ap, yv, wv, bp, r, &res.rate, PointsView<T>(gv.data(), n, d),
                       PointsView<T>(gw.data(), m, d), T(1), false, &res.coincident);
  res.grad_x.assign(gx.begin(), gx.end());
  res.grad_v.assign(gv.begin(), gv.end());
  res.grad_w.assign(gw.begin(), gw.end());
  return res;
}

void check_against_naive(const Problem& pb, double r, bool weights, bool self, double tol) {
  const auto& y = self ? pb.x : pb.y;
  const auto& w = self ? pb.v : pb.w;
  const auto& b = self ? pb.a : pb.b;
  const index_t m = self ? pb.n : pb.m;
  const Naive ref = naive(pb.x, pb.v, weights ? pb.a.data() : nullptr, y, w,
                          weights ? b.data() : nullptr, pb.n, m, pb.d, r);
  const Result got = run_all<double>(pb, r, weights, self, 2);
  INFO("n=" << pb.n << " m=" << m << " d=" << pb.d << " r=" << r << " weights=" << weights
            << " self=" << self);
  CHECK(std::fabs(got.energy - double(ref.energy)) <= tol * double(std::fabs(ref.energy)));
  CHECK(max_rel(got.grad_x, ref.grad_x) <= tol);
  CHECK(got.coincident == ref.coincident);
  // For r < 1 both leave coincident pairs out of D (the caller rejects them by the count).
  const double scale = double(std::fabs(ref.rate)) + double(std::fabs(ref.energy)) * 1e-3;
  CHECK(std::fabs(got.rate - double(ref.rate)) <= tol * scale);
  CHECK(max_rel(got.grad_v, ref.grad_v) <= tol);
  CHECK(max_rel(got.grad_w, ref.grad_w) <= tol);
}

TEST_CASE("pairwise sums match a naive long-double loop (double)") {
  struct Shape {
    index_t n, m, d;
  };
  // N, M not multiples of the tile or row block; d = 1, 2, 3 (specialised), 5 (general), 784
  // (row-major); r = 1, 1/2, 3/2 (reciprocal square roots) and 0.3, 1.2 (exp/log).
  const Shape shapes[] = {{70, 53, 1}, {130, 1030, 2}, {65, 129, 3}, {33, 41, 5}, {9, 70, 784}};
  for (const Shape& s : shapes) {
    for (double r : {1.0, 0.5, 1.5, 0.3, 1.2}) {
      for (bool weights : {false, true}) {
        const Problem pb = make_problem(s.n, s.m, s.d, 11u + unsigned(s.d), 3);
        check_against_naive(pb, r, weights, false, 1e-11);
        check_against_naive(pb, r, weights, true, 1e-11);
      }
    }
  }
}

TEST_CASE("coincident pairs: counted, |u| for r = 1, 0 for r > 1") {
  const Problem pb = make_problem(40, 30, 2, 5u, 4);
  for (double r : {1.0, 1.5, 0.7}) {
    const Result got = run_all<double>(pb, r, true, false, 2);
    const Naive ref = naive(pb.x, pb.v, pb.a.data(), pb.y, pb.w, pb.b.data(), 40, 30, 2, r);
    CHECK(ref.coincident == 4);
    CHECK(got.coincident == 4);
    if (r >= 1.0) CHECK(got.rate == doctest::Approx(double(ref.rate)).epsilon(1e-12));
  }
  // Self sum: the diagonal is N coincident pairs, and u = 0 there contributes nothing.
  const Result self = run_all<double>(pb, 1.0, false, true, 2);
  CHECK(self.coincident >= 40);
}

// Central differences of the energy (and of D in v) in double, away from coincidences.
TEST_CASE("gradients agree with central finite differences") {
  for (index_t d : {1, 2, 7}) {
    for (double r : {1.0, 0.6, 1.7}) {
      const Problem pb = make_problem(17, 23, d, 99u + unsigned(d));
      Context ctx(Device::cpu, 2);
      auto energy_at = [&](const std::vector<double>& x, const std::vector<double>& y) {
        return riesz_energy_value<double>(ctx, view(x, 17, d), pb.a.data(), view(y, 23, d),
                                          pb.b.data(), r);
      };
      auto rate_at = [&](const std::vector<double>& v, const std::vector<double>& w) {
        double out = 0;
        riesz_directional<double>(ctx, view(pb.x, 17, d), view(v, 17, d), pb.a.data(),
                                  view(pb.y, 23, d), view(w, 23, d), pb.b.data(), r, &out, {}, {},
                                  1.0, false, nullptr);
        return out;
      };
      std::vector<double> gx(std::size_t(17 * d)), gv(std::size_t(17 * d)),
          gw(std::size_t(23 * d));
      riesz_gradient<double>(ctx, view(pb.x, 17, d), pb.a.data(), view(pb.y, 23, d), pb.b.data(),
                             r, 2.0, PointsView<double>(gx.data(), 17, d), false);
      double rate = 0;
      index_t coinc = -1;
      riesz_directional<double>(ctx, view(pb.x, 17, d), view(pb.v, 17, d), pb.a.data(),
                                view(pb.y, 23, d), view(pb.w, 23, d), pb.b.data(), r, &rate,
                                PointsView<double>(gv.data(), 17, d),
                                PointsView<double>(gw.data(), 23, d), 1.0, false, &coinc);
      CHECK(coinc == 0);
      const double h = 1e-6;
      for (index_t e = 0; e < 17 * d; e += 3) {
        auto xp = pb.x, xm = pb.x;
        xp[std::size_t(e)] += h;
        xm[std::size_t(e)] -= h;
        const double fd = (energy_at(xp, pb.y) - energy_at(xm, pb.y)) / (2 * h);
        CHECK(gx[std::size_t(e)] == doctest::Approx(2.0 * fd).epsilon(1e-6));
        auto vp = pb.v, vm = pb.v;
        vp[std::size_t(e)] += h;
        vm[std::size_t(e)] -= h;
        CHECK(gv[std::size_t(e)] ==
              doctest::Approx((rate_at(vp, pb.w) - rate_at(vm, pb.w)) / (2 * h)).epsilon(1e-6));
      }
      for (index_t e = 0; e < 23 * d; e += 3) {
        auto wp = pb.w, wm = pb.w;
        wp[std::size_t(e)] += h;
        wm[std::size_t(e)] -= h;
        CHECK(gw[std::size_t(e)] ==
              doctest::Approx((rate_at(pb.v, wp) - rate_at(pb.v, wm)) / (2 * h)).epsilon(1e-6));
      }
      // D is the t-derivative of S(x + t v, y + t w).
      auto xp = pb.x, xm = pb.x, yp = pb.y, ym = pb.y;
      for (std::size_t k = 0; k < xp.size(); ++k) xp[k] += h * pb.v[k], xm[k] -= h * pb.v[k];
      for (std::size_t k = 0; k < yp.size(); ++k) yp[k] += h * pb.w[k], ym[k] -= h * pb.w[k];
      CHECK(rate == doctest::Approx((energy_at(xp, yp) - energy_at(xm, ym)) / (2 * h)).epsilon(1e-6));
    }
  }
}

TEST_CASE("r = 1 directional gradient at a coincident pair is u/|u|, checked by differences") {
  // One pair, x = y: D(v, w) = |v - w| exactly, so dD/dv = (v-w)/|v-w|, dD/dw = -(v-w)/|v-w|.
  Context ctx(Device::cpu, 1);
  const std::vector<double> x{0.3, -0.2}, v{0.5, 1.0}, w{-0.5, 0.25};
  std::vector<double> gv(2), gw(2);
  double rate = 0;
  index_t coinc = 0;
  riesz_directional<double>(ctx, view(x, 1, 2), view(v, 1, 2), nullptr, view(x, 1, 2),
                            view(w, 1, 2), nullptr, 1.0, &rate, PointsView<double>(gv.data(), 1, 2),
                            PointsView<double>(gw.data(), 1, 2), 1.0, false, &coinc);
  const double nu = std::hypot(1.0, 0.75);
  CHECK(coinc == 1);
  CHECK(rate == doctest::Approx(nu).epsilon(1e-15));
  CHECK(gv[0] == doctest::Approx(1.0 / nu));
  CHECK(gv[1] == doctest::Approx(0.75 / nu));
  CHECK(gw[0] == doctest::Approx(-1.0 / nu));
  CHECK(gw[1] == doctest::Approx(-0.75 / nu));
}

TEST_CASE("scale and accumulate; grad_v and grad_w may alias when accumulating") {
  const Problem pb = make_problem(31, 31, 2, 7u);
  Context ctx(Device::cpu, 2);
  const auto xv = view(pb.x, 31, 2), yv = view(pb.y, 31, 2);
  std::vector<double> g1(62), g2(62, 1.0);
  riesz_gradient<double>(ctx, xv, nullptr, yv, nullptr, 1.3, 1.0, PointsView<double>(g1.data(), 31, 2),
                         false);
  riesz_gradient<double>(ctx, xv, nullptr, yv, nullptr, 1.3, -0.5,
                         PointsView<double>(g2.data(), 31, 2), true);
  for (std::size_t k = 0; k < 62; ++k) CHECK(g2[k] == doctest::Approx(1.0 - 0.5 * g1[k]));
  // Self sum with w = v: dD/dv + dD/dw = 2 dD/dv.
  std::vector<double> gv(62, 0.0), both(62, 0.0);
  double rate = 0;
  riesz_directional<double>(ctx, xv, view(pb.v, 31, 2), nullptr, xv, view(pb.v, 31, 2), nullptr,
                            1.3, &rate, PointsView<double>(gv.data(), 31, 2), {}, 1.0, false,
                            nullptr);
  riesz_directional<double>(ctx, xv, view(pb.v, 31, 2), nullptr, xv, view(pb.v, 31, 2), nullptr,
                            1.3, &rate, PointsView<double>(both.data(), 31, 2),
                            PointsView<double>(both.data(), 31, 2), 1.0, true, nullptr);
  for (std::size_t k = 0; k < 62; ++k) CHECK(both[k] == doctest::Approx(2 * gv[k]).epsilon(1e-12));
}

TEST_CASE("float agrees with double") {
  const Problem pb = make_problem(300, 257, 2, 3u);
  for (double r : {1.0, 0.5, 1.5}) {
    const Result f = run_all<float>(pb, r, true, false, 2);
    const Result g = run_all<double>(pb, r, true, false, 2);
    CHECK(f.energy == doctest::Approx(g.energy).epsilon(2e-6));
    CHECK(f.rate == doctest::Approx(g.rate).epsilon(1e-4));
    std::vector<LD> ref(g.grad_x.begin(), g.grad_x.end());
    CHECK(max_rel(f.grad_x, ref) <= 1e-5);
  }
  const Problem big = make_problem(40, 37, 784, 4u);
  const Result f = run_all<float>(big, 1.0, false, true, 2);
  const Result g = run_all<double>(big, 1.0, false, true, 2);
  CHECK(f.energy == doctest::Approx(g.energy).epsilon(1e-5));
}

TEST_CASE("deterministic for a fixed thread count") {
  const Problem pb = make_problem(1000, 700, 2, 8u, 2);
  for (int threads : {1, 2, 3}) {
    const Result a = run_all<float>(pb, 1.0, true, false, threads);
    const Result b = run_all<float>(pb, 1.0, true, false, threads);
    CHECK(a.energy == b.energy);
    CHECK(a.rate == b.rate);
    CHECK(a.grad_x == b.grad_x);
    CHECK(a.grad_w == b.grad_w);
  }
}

TEST_CASE("mmd2 is the CONTRACT V-statistic and bad input is rejected") {
  const Problem pb = make_problem(25, 19, 3, 21u);
  Context ctx(Device::cpu, 2);
  const Naive xy = naive(pb.x, pb.v, nullptr, pb.y, pb.w, nullptr, 25, 19, 3, 1.2);
  const Naive xx = naive(pb.x, pb.v, nullptr, pb.x, pb.v, nullptr, 25, 25, 3, 1.2);
  const Naive yy = naive(pb.y, pb.w, nullptr, pb.y, pb.w, nullptr, 19, 19, 3, 1.2);
  const double want = double(xy.energy / (25 * 19) - xx.energy / (2 * 625) - yy.energy / (2 * 361));
  CHECK(mmd2<double>(ctx, view(pb.x, 25, 3), view(pb.y, 19, 3), 1.2) ==
        doctest::Approx(want).epsilon(1e-12));
  CHECK(mmd2<double>(ctx, view(pb.x, 25, 3), view(pb.x, 25, 3), 1.2) == doctest::Approx(0.0));
  CHECK_THROWS_AS(mmd2<double>(ctx, view(pb.x, 25, 3), view(pb.y, 19, 2), 1.0), Error);
  CHECK_THROWS_AS(mmd2<double>(ctx, view(pb.x, 25, 3), view(pb.y, 19, 3), 2.0), Error);
  CHECK_THROWS_AS(mmd2<double>(ctx, view(pb.x, 25, 3), view(pb.y, 19, 3), 0.0), Error);
}

}  // namespace
}  // namespace nwgf

namespace nwgf {
namespace {

// The self sums (Y = X, b = a, d <= 3) run over unordered pairs (kernels/pairwise.cpp); the same
// sums through a copy of X take the ordered path. Sizes span several row blocks and tiles.
template <class T>
void check_self_against_copy(index_t n, index_t d, double r, bool weights, double tol) {
  const Problem pb = make_problem(n, 1, d, 21u + unsigned(d), 5);
  Context ctx(Device::cpu, 2);
  const auto x = cast<T>(pb.x), a = cast<T>(pb.a);
  const auto copy = x;
  const T* ap = weights ? a.data() : nullptr;
  double e_self = 0, e_copy = 0;
  riesz_energy<T>(ctx, view(x, n, d), ap, view(x, n, d), ap, r, &e_self);
  riesz_energy<T>(ctx, view(x, n, d), ap, view(copy, n, d), ap, r, &e_copy);
  std::vector<T> g_self(std::size_t(n * d), T(1)), g_copy(std::size_t(n * d), T(1));
  riesz_gradient<T>(ctx, view(x, n, d), ap, view(x, n, d), ap, r, T(0.5),
                    PointsView<T>(g_self.data(), n, d), true);
  riesz_gradient<T>(ctx, view(x, n, d), ap, view(copy, n, d), ap, r, T(0.5),
                    PointsView<T>(g_copy.data(), n, d), true);
  INFO("n = " << n << ", d = " << d << ", r = " << r << ", weights " << weights);
  CHECK(std::fabs(e_self - e_copy) <= tol * std::fabs(e_copy));
  std::vector<LD> ref(g_copy.begin(), g_copy.end());
  std::vector<double> got(g_self.begin(), g_self.end());
  CHECK(max_rel(got, ref) <= tol);
}

}  // namespace

TEST_CASE("self sums over unordered pairs equal the ordered sums") {
  for (index_t d : {1, 2, 3}) {
    for (double r : {1.0, 0.5, 1.3}) {
      for (bool weights : {false, true}) {
        check_self_against_copy<double>(2600, d, r, weights, 1e-12);
        check_self_against_copy<float>(1100, d, r, weights, 2e-5);
      }
    }
  }
}

}  // namespace nwgf
