// The CPU pair rows for d >= 16 (kernels/pairwise_rows-inl.h, row-major Y): the register-blocked
// micro-tiles (R rows x 4 columns; R = 4 on AVX-512, 2 elsewhere) give the same bits as the
// rows taken one pair at a time (RowBlock::one_pair_rows, the code path the tiles replaced), for
// the energy, gradient and value-and-gradient passes, every family (Riesz on each evaluation path
// of |z|^r), float and double, with and without weights, row counts and column counts that leave
// every remainder of the tile (rows 1..9, columns 1..11), d = 16, 17, 31, 100 and 784 (d not a
// multiple of the vector length: the scalar tail), Y != X with coincident and nearly coincident
// pairs, and leading dimensions wider than d. Registered once per SIMD target (NWGF_SIMD).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "nwgf/engine/philox.hpp"
#include "nwgf/engine/simd.hpp"
#include "nwgf/kernels/family/riesz.hpp"
#include "nwgf/kernels/pairwise_rows.hpp"

using namespace nwgf;
using detail::PairwisePass;
using detail::RowBlock;

namespace {

struct Family {
  PairFamily family;
  double param;
};

const Family kFamilies[] = {{PairFamily::riesz, 1.0},          {PairFamily::riesz, 0.5},
                            {PairFamily::riesz, 1.5},          {PairFamily::riesz, 1.3},
                            {PairFamily::gaussian, 0.7},       {PairFamily::quartic_quadratic, 1.0},
                            {PairFamily::log_quadratic, 1.0},  {PairFamily::gaussian_attraction, 1.0}};

template <class T>
std::vector<T> draw(index_t k, std::uint64_t stream, double lo, double hi) {
  std::vector<T> v(static_cast<std::size_t>(k));
  for (index_t i = 0; i < k; ++i) {
    v[std::size_t(i)] = T(lo + (hi - lo) * philox_uniform<double>(17, stream, std::uint64_t(i)));
  }
  return v;
}

struct Outputs {
  std::vector<double> value, g;
};

// rows of X (ld ldx) against jn columns of Y (ld ldy), value and g accumulated onto start values.
template <class T>
Outputs run_rows(PairwisePass pass, const Family& fam, index_t d, index_t rows, index_t jn,
                 const std::vector<T>& x, index_t ldx, const std::vector<T>& y, index_t ldy,
                 const T* b, bool one_pair) {
  RowBlock<T> blk;
  blk.pass = pass;
  blk.family = fam.family;
  blk.power = fam.family == PairFamily::riesz ? riesz_power_of(fam.param) : RieszPower::general;
  blk.param = fam.param;
  blk.d = d;
  blk.x = x.data();
  blk.ldx = ldx;
  blk.rows = rows;
  blk.transposed = false;
  blk.y = y.data();
  blk.ldy = ldy;
  blk.b = b;
  blk.jn = jn;
  std::vector<T> work(std::size_t((d + 2) * std::max(jn, d) + 64), T(-7));  // stale scratch
  blk.work = work.data();
  Outputs out{draw<double>(rows, 90, -1, 1), draw<double>(rows * d, 91, -1, 1)};
  blk.value = out.value.data();
  blk.g = out.g.data();
  blk.one_pair_rows = one_pair;
  detail::pairwise_rows(blk);
  return out;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

template <class T>
void check_same_bits(index_t d, index_t rows, index_t jn, bool weights) {
  const index_t ldx = d + 3, ldy = d + 1;
  auto x = draw<T>(rows * ldx, 1, -1, 1);
  auto y = draw<T>(jn * ldy, 2, -1, 1);
  // Coincident pairs (s = 0: the IEEE branches of the families) and a nearly coincident one.
  for (index_t k = 0; k < d; ++k) {
    if (jn > 1) y[std::size_t(1 * ldy + k)] = x[std::size_t(k)];
    if (jn > 2 && rows > 1) {
      y[std::size_t((jn - 1) * ldy + k)] = x[std::size_t((rows - 1) * ldx + k)];
      y[std::size_t(2 * ldy + k)] = x[std::size_t(1 * ldx + k)] * T(1 + 1e-3);
    }
  }
  const auto b = draw<T>(jn, 3, -1, 1.5);
  for (const Family& fam : kFamilies) {
    for (const PairwisePass pass :
         {PairwisePass::energy, PairwisePass::gradient, PairwisePass::value_gradient}) {
      const Outputs tiles = run_rows<T>(pass, fam, d, rows, jn, x, ldx, y, ldy,
                                        weights ? b.data() : nullptr, false);
      const Outputs pairs = run_rows<T>(pass, fam, d, rows, jn, x, ldx, y, ldy,
                                        weights ? b.data() : nullptr, true);
      INFO(simd_target() << (sizeof(T) == 4 ? " f32" : " f64") << " family " << int(fam.family)
                         << " param " << fam.param << " pass " << int(pass) << " d " << d
                         << " rows " << rows << " cols " << jn << " weights " << weights);
      CHECK(same_bits(tiles.value, pairs.value));
      CHECK(same_bits(tiles.g, pairs.g));
    }
  }
}

}  // namespace

TEST_CASE("pair rows d >= 16: the micro-tiles give the bits of one pair at a time") {
  for (const index_t d : {16, 17, 31, 100}) {
    for (const index_t rows : {1, 2, 3, 4, 5, 7, 9}) {
      for (const index_t jn : {1, 3, 4, 6, 11}) {
        check_same_bits<float>(d, rows, jn, (rows + jn) % 2 == 0);
        check_same_bits<double>(d, rows, jn, (rows + jn) % 2 == 1);
      }
    }
  }
  for (const bool weights : {false, true}) {
    check_same_bits<float>(784, 6, 7, weights);
    check_same_bits<double>(784, 5, 9, weights);
  }
}

// The tiles against a long-double sum of the pairs (Riesz r = 1, gradient and value): the
// reference above is itself right.
TEST_CASE("pair rows d >= 16: the micro-tiles against long double") {
  const index_t d = 37, rows = 7, jn = 10;
  const auto x = draw<double>(rows * d, 4, -1, 1), y = draw<double>(jn * d, 5, -1, 1);
  const auto b = draw<double>(jn, 6, 0.5, 1.5);
  RowBlock<double> blk;
  blk.pass = PairwisePass::value_gradient;
  blk.family = PairFamily::riesz;
  blk.power = RieszPower::one;
  blk.param = 1.0;
  blk.d = d;
  blk.x = x.data();
  blk.ldx = d;
  blk.rows = rows;
  blk.transposed = false;
  blk.y = y.data();
  blk.ldy = d;
  blk.b = b.data();
  blk.jn = jn;
  std::vector<double> work(std::size_t((d + 2) * d + 64)), value(rows), g(rows * d);
  blk.work = work.data();
  blk.value = value.data();
  blk.g = g.data();
  detail::pairwise_rows(blk);
  for (index_t i = 0; i < rows; ++i) {
    long double v = 0;
    std::vector<long double> gi(std::size_t(d), 0);
    for (index_t j = 0; j < jn; ++j) {
      long double s = 0;
      for (index_t k = 0; k < d; ++k) {
        const long double z = (long double)x[std::size_t(i * d + k)] - y[std::size_t(j * d + k)];
        s += z * z;
      }
      const long double r = std::sqrt(s);
      v += b[std::size_t(j)] * r;
      for (index_t k = 0; k < d; ++k) {
        gi[std::size_t(k)] += b[std::size_t(j)] * ((long double)x[std::size_t(i * d + k)] - y[std::size_t(j * d + k)]) / r;
      }
    }
    CHECK(value[std::size_t(i)] == doctest::Approx(double(v)).epsilon(1e-13));
    for (index_t k = 0; k < d; ++k) {
      // The row sums leave out the family's gradient scale (r for Riesz: 1 here).
      CHECK(g[std::size_t(i * d + k)] == doctest::Approx(double(gi[std::size_t(k)])).epsilon(1e-12).scale(1e-12));
    }
  }
}
