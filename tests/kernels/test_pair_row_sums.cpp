// pair_row_sums (kernels/pairwise.hpp): values_i = scale a_i sum_j b_j k(x_i, y_j) for the
// Gaussian and Riesz families against a long-double loop, float and double, small d (tiled) and
// d >= 16 (row-major), signed weights, accumulate, and Y = X (d <= 3: the row sums over unordered
// pairs, with b = a and with other column weights b).
// pair_row_sums_gradient (the fused value + gradient pass) against pair_row_sums and
// pair_gradient, every family, d = 1, 2, 3 (register rows), 5 (two sweeps) and 20 (row-major).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tests/kernels/philox_points.hpp"
#include "nwgf/kernels/pairwise.hpp"

using namespace nwgf;

namespace {

template <class T>
std::vector<T> draw(index_t k, std::uint64_t stream, double lo, double hi) {
  return test::philox_uniforms<T>(9, k, stream, lo, hi);
}

enum class Cols { other, self_same, self_other };

template <class T>
void check_row_sums(PairFamily family, double param, index_t n, index_t m, index_t d, Cols cols) {
  const bool self = cols != Cols::other;
  const auto x = draw<T>(n * d, 1, -1, 1), a = draw<T>(n, 2, 0.2, 1.5);
  const auto y = self ? x : draw<T>(m * d, 3, -1, 1);
  const auto b = draw<T>(self ? n : m, 4, -1, 1);  // signed: the witness's weights
  const index_t mm = self ? n : m;
  Context ctx(BackendChoice::cpu, 2);
  const Buffer<T> xb = upload(ctx, x), yb = upload(ctx, y), ab = upload(ctx, a), bb = upload(ctx, b);
  Buffer<T> out = upload(ctx, std::vector<T>(std::size_t(n), T(0.25)));
  const ConstPointsView<T> xv(xb.data(), n, d, xb.device());
  const ConstPointsView<T> yv = self ? xv : ConstPointsView<T>(yb.data(), mm, d, yb.device());
  // accumulate onto 0.25
  pair_row_sums<T>(ctx, family, param, xv, ab.data(), yv,
                   cols == Cols::self_same ? ab.data() : bb.data(), T(-0.5), out.data(), true);
  const auto got = download(ctx, out);
  const auto& bw = cols == Cols::self_same ? a : b;
  for (index_t i = 0; i < n; ++i) {
    long double s = 0;
    for (index_t j = 0; j < mm; ++j) {
      long double q = 0;
      for (index_t k = 0; k < d; ++k) {
        const long double z = (long double)x[std::size_t(i * d + k)] - (long double)y[std::size_t(j * d + k)];
        q += z * z;
      }
      const long double kv = family == PairFamily::gaussian ? std::exp(-q / (2.0L * param * param))
                                                            : std::pow(q, 0.5L * param);
      s += (long double)bw[std::size_t(j)] * kv;
    }
    const long double expect = 0.25L - 0.5L * (long double)a[std::size_t(i)] * s;
    const double tol = sizeof(T) == 4 ? 2e-5 : 1e-12;
    CHECK(double(got[std::size_t(i)]) == doctest::Approx(double(expect)).epsilon(tol).scale(1));
  }
}

template <class T>
void check_fused(PairFamily family, double param, index_t n, index_t m, index_t d, bool self) {
  const auto x = draw<T>(n * d, 5, -1.5, 1.5), a = draw<T>(n, 6, 0.2, 1.5);
  const auto y = self ? x : draw<T>(m * d, 7, -1.5, 1.5);
  const index_t mm = self ? n : m;
  const auto b = draw<T>(mm, 8, -1, 1);
  Context ctx(BackendChoice::cpu, 2);
  const Buffer<T> xb = upload(ctx, x), yb = upload(ctx, y), ab = upload(ctx, a), bb = upload(ctx, b);
  const ConstPointsView<T> xv(xb.data(), n, d, xb.device());
  const ConstPointsView<T> yv = self ? xv : ConstPointsView<T>(yb.data(), mm, d, yb.device());
  const auto start_v = draw<T>(n, 9, -1, 1), start_g = draw<T>(n * d, 10, -1, 1);
  // The fused pass, accumulating onto start values.
  Buffer<T> v1 = upload(ctx, start_v), g1 = upload(ctx, start_g);
  pair_row_sums_gradient<T>(ctx, family, param, xv, ab.data(), yv, bb.data(), T(0.75), v1.data(),
                            PointsView<T>(g1.data(), n, d, g1.device()), true);
  // The separate passes.
  Buffer<T> v2 = upload(ctx, start_v), g2 = upload(ctx, start_g);
  pair_row_sums<T>(ctx, family, param, xv, ab.data(), yv, bb.data(), T(0.75), v2.data(), true);
  pair_gradient<T>(ctx, family, param, xv, ab.data(), yv, bb.data(), T(0.75),
                   PointsView<T>(g2.data(), n, d, g2.device()), true);
  const auto fv = download(ctx, v1), fg = download(ctx, g1), sv = download(ctx, v2), sg = download(ctx, g2);
  double vmax = 0, gmax = 0;
  for (const T v : sv) vmax = std::max(vmax, std::fabs(double(v)));
  for (const T v : sg) gmax = std::max(gmax, std::fabs(double(v)));
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-13;
  INFO("family " << int(family) << " d " << d << " self " << self << " float " << (sizeof(T) == 4));
  for (index_t i = 0; i < n; ++i) {
    CHECK(std::fabs(double(fv[std::size_t(i)]) - double(sv[std::size_t(i)])) <= tol * vmax);
  }
  for (index_t e = 0; e < n * d; ++e) {
    CHECK(std::fabs(double(fg[std::size_t(e)]) - double(sg[std::size_t(e)])) <= tol * gmax);
  }
  // Overwriting (accumulate = false) gives the sums alone.
  pair_row_sums_gradient<T>(ctx, family, param, xv, ab.data(), yv, bb.data(), T(0.75), v1.data(),
                            PointsView<T>(g1.data(), n, d, g1.device()), false);
  const auto ov = download(ctx, v1), og = download(ctx, g1);
  for (index_t i = 0; i < n; ++i) {
    CHECK(std::fabs(double(ov[std::size_t(i)]) + double(start_v[std::size_t(i)]) -
                    double(sv[std::size_t(i)])) <= tol * (vmax + 1));
  }
  for (index_t e = 0; e < n * d; ++e) {
    CHECK(std::fabs(double(og[std::size_t(e)]) + double(start_g[std::size_t(e)]) -
                    double(sg[std::size_t(e)])) <= tol * (gmax + 1));
  }
}

}  // namespace

TEST_CASE("pair_row_sums: Gaussian and Riesz row sums against long double") {
  for (const index_t d : {2, 20}) {
    for (const Cols cols : {Cols::other, Cols::self_same, Cols::self_other}) {
      CAPTURE(d);
      CAPTURE(int(cols));
      check_row_sums<double>(PairFamily::gaussian, 0.7, 70, 45, d, cols);
      check_row_sums<float>(PairFamily::gaussian, 0.7, 70, 45, d, cols);
      check_row_sums<double>(PairFamily::riesz, 1.5, 70, 45, d, cols);
      check_row_sums<double>(PairFamily::riesz, 1.0, 33, 45, d, cols);
    }
  }
  // The unordered-pair path over several row blocks and threads (256 rows per block).
  check_row_sums<double>(PairFamily::gaussian, 0.7, 700, 0, 2, Cols::self_other);
  check_row_sums<double>(PairFamily::riesz, 1.0, 601, 0, 3, Cols::self_other);
  check_row_sums<float>(PairFamily::gaussian, 0.7, 530, 0, 2, Cols::self_other);
  check_row_sums<double>(PairFamily::riesz, 0.5, 530, 0, 1, Cols::self_other);
}

TEST_CASE("pair_row_sums_gradient = pair_row_sums + pair_gradient, every family") {
  const struct {
    PairFamily family;
    double param;
  } fams[] = {{PairFamily::gaussian, 0.7},          {PairFamily::riesz, 1.0},
              {PairFamily::riesz, 0.5},             {PairFamily::riesz, 1.5},
              {PairFamily::riesz, 1.3},             {PairFamily::quartic_quadratic, 1.0},
              {PairFamily::log_quadratic, 1.0},     {PairFamily::gaussian_attraction, 1.0}};
  for (const auto& f : fams) {
    for (const index_t d : {1, 2, 3, 5, 20}) {
      for (const bool self : {false, true}) {
        check_fused<double>(f.family, f.param, 83, 57, d, self);
        check_fused<float>(f.family, f.param, 83, 57, d, self);
      }
    }
  }
}
