// pair_row_sums (kernels/pairwise.hpp): values_i = scale a_i sum_j b_j k(x_i, y_j) for the
// Gaussian and Riesz families against a long-double loop, float and double, small d (tiled) and
// d >= 16 (row-major), signed weights, accumulate, and Y = X (which must not take the self path).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/pairwise.hpp"

using namespace nwgf;

namespace {

template <class T>
std::vector<T> draw(index_t k, std::uint64_t stream, double lo, double hi) {
  std::vector<T> v(static_cast<std::size_t>(k));
  for (index_t i = 0; i < k; ++i) {
    v[std::size_t(i)] = T(lo + (hi - lo) * philox_uniform<double>(9, stream, std::uint64_t(i)));
  }
  return v;
}

template <class T>
void check_row_sums(PairFamily family, double param, index_t n, index_t m, index_t d, bool self) {
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
  pair_row_sums<T>(ctx, family, param, xv, ab.data(), yv, self ? ab.data() : bb.data(), T(-0.5),
                   out.data(), true);
  const auto got = download(ctx, out);
  const auto& bw = self ? a : b;
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

}  // namespace

TEST_CASE("pair_row_sums: Gaussian and Riesz row sums against long double") {
  for (const index_t d : {2, 20}) {
    for (const bool self : {false, true}) {
      CAPTURE(d);
      CAPTURE(self);
      check_row_sums<double>(PairFamily::gaussian, 0.7, 70, 45, d, self);
      check_row_sums<float>(PairFamily::gaussian, 0.7, 70, 45, d, self);
      check_row_sums<double>(PairFamily::riesz, 1.5, 70, 45, d, self);
      check_row_sums<double>(PairFamily::riesz, 1.0, 33, 45, d, self);
    }
  }
}
