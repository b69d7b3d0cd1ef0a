// The CPU pair rows for d >= 16 (kernels/pairwise_rows-inl.h, row-major Y): the register-blocked
// micro-tiles (R rows x 4 columns; R per target, element type, pass and d: 1, 2 or 4, each
// reached below) give the same bits as the rows taken one pair at a time (RowBlock::one_pair_rows,
// the code path the tiles replaced), for the energy, gradient, value-and-gradient and
// directional passes (the directional pass also its coincident-pair count), every family (Riesz
// on each evaluation path of |z|^r), float and double, with and without weights, row counts and
// column counts that leave every remainder of the tile (rows 1..9, columns 1..11), d = 16, 17,
// 31, 40, 50, 100 and 784 (d not a multiple of the vector length: the scalar tail; on the AVX-512
// targets the double energy pass below d = 48 runs the AVX2 target's rows, the directional pass
// up to 1 KiB a row 256-bit vectors, the rest 512-bit ones: each reached), Y != X with
// coincident pairs (one moving apart, one at rest) and nearly coincident ones, and leading
// dimensions wider than d. Registered once per SIMD target (NWGF_SIMD).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tests/kernels/philox_points.hpp"
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
  return test::philox_uniforms<T>(17, k, stream, lo, hi);
}

struct Outputs {
  std::vector<double> value, g;
  index_t coincident = 0;
};

// Velocities of the directional pass: rows of V (ld ldv) and columns of W (ld ldw).
template <class T>
struct Velocities {
  const std::vector<T>* v = nullptr;
  index_t ldv = 0;
  const std::vector<T>* w = nullptr;
  index_t ldw = 0;
};

// rows of X (ld ldx) against jn columns of Y (ld ldy), value and g accumulated onto start values.
template <class T>
Outputs run_rows(PairwisePass pass, const Family& fam, index_t d, index_t rows, index_t jn,
                 const std::vector<T>& x, index_t ldx, const std::vector<T>& y, index_t ldy,
                 const T* b, bool one_pair, const Velocities<T>& vel = {}) {
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
  if (pass == PairwisePass::directional) {
    blk.v = vel.v->data();
    blk.ldv = vel.ldv;
    blk.w = vel.w->data();
    blk.ldw = vel.ldw;
    out.coincident = 3;  // accumulated onto
    blk.coincident = &out.coincident;
  }
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
  // Velocities (directional pass): the first coincident pair moves apart (u != 0), the last one
  // is at rest (u = 0 too).
  const index_t ldv = d + 2, ldw = d + 5;
  auto v = draw<T>(rows * ldv, 7, -1, 1);
  auto w = draw<T>(jn * ldw, 8, -1, 1);
  if (jn > 2 && rows > 1) {
    for (index_t k = 0; k < d; ++k) w[std::size_t((jn - 1) * ldw + k)] = v[std::size_t((rows - 1) * ldv + k)];
  }
  const Velocities<T> vel{&v, ldv, &w, ldw};
  index_t coincident = 0;
  for (index_t i = 0; i < rows; ++i) {
    for (index_t j = 0; j < jn; ++j) {
      bool same = true;
      for (index_t k = 0; k < d; ++k) same = same && x[std::size_t(i * ldx + k)] == y[std::size_t(j * ldy + k)];
      coincident += same ? 1 : 0;
    }
  }
  if (jn > 1) CHECK(coincident >= 1);
  const auto b = draw<T>(jn, 3, -1, 1.5);
  for (const Family& fam : kFamilies) {
    for (const PairwisePass pass : {PairwisePass::energy, PairwisePass::gradient,
                                    PairwisePass::value_gradient, PairwisePass::directional}) {
      const Outputs tiles = run_rows<T>(pass, fam, d, rows, jn, x, ldx, y, ldy,
                                        weights ? b.data() : nullptr, false, vel);
      const Outputs pairs = run_rows<T>(pass, fam, d, rows, jn, x, ldx, y, ldy,
                                        weights ? b.data() : nullptr, true, vel);
      INFO(simd_target() << (sizeof(T) == 4 ? " f32" : " f64") << " family " << int(fam.family)
                         << " param " << fam.param << " pass " << int(pass) << " d " << d
                         << " rows " << rows << " cols " << jn << " weights " << weights);
      CHECK(same_bits(tiles.value, pairs.value));
      CHECK(same_bits(tiles.g, pairs.g));
      CHECK(tiles.coincident == pairs.coincident);
      if (pass == PairwisePass::directional) {
        // The coincident pairs placed above, counted onto the start value 3.
        CHECK(tiles.coincident == 3 + coincident);
      }
    }
  }
}

}  // namespace

TEST_CASE("pair rows d >= 16: the micro-tiles give the bits of one pair at a time") {
  for (const index_t d : {16, 17, 31, 40, 50, 100}) {
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

// On the AVX-512 targets the double energy pass below d = 48 runs the AVX2 target's rows, the
// directional pass up to 1 KiB a row 256-bit vectors in the AVX-512 tiles: the same lanes and the
// same order of every sum, so the same bits as the AVX2 target.
bool avx2_bits(PairwisePass pass, index_t d, std::size_t size) {
  return (pass == PairwisePass::directional && d * index_t(size) <= 1024) ||
         (size == 8 && pass == PairwisePass::energy && d < 48);
}

template <class T>
void check_avx2_bits(index_t d, bool weights) {
  const index_t rows = 5, jn = 6, ldx = d + 3, ldy = d + 1, ldv = d + 2, ldw = d + 5;
  const auto x = draw<T>(rows * ldx, 21, -1, 1), y = draw<T>(jn * ldy, 22, -1, 1);
  const auto v = draw<T>(rows * ldv, 23, -1, 1), w = draw<T>(jn * ldw, 24, -1, 1);
  const auto b = draw<T>(jn, 25, -1, 1.5);
  const Velocities<T> vel{&v, ldv, &w, ldw};
  const std::string target = simd_target();
  for (const Family& fam : kFamilies) {
    for (const PairwisePass pass : {PairwisePass::energy, PairwisePass::gradient,
                                    PairwisePass::value_gradient, PairwisePass::directional}) {
      if (!avx2_bits(pass, d, sizeof(T))) continue;
      for (const bool one_pair : {false, true}) {
        const Outputs wide = run_rows<T>(pass, fam, d, rows, jn, x, ldx, y, ldy,
                                         weights ? b.data() : nullptr, one_pair, vel);
        set_simd_target("avx2");
        const Outputs avx2 = run_rows<T>(pass, fam, d, rows, jn, x, ldx, y, ldy,
                                         weights ? b.data() : nullptr, one_pair, vel);
        set_simd_target(target);
        INFO(target << (sizeof(T) == 4 ? " f32" : " f64") << " family " << int(fam.family)
                    << " param " << fam.param << " pass " << int(pass) << " d " << d
                    << " one pair " << one_pair << " weights " << weights);
        CHECK(same_bits(wide.value, avx2.value));
        CHECK(same_bits(wide.g, avx2.g));
        CHECK(wide.coincident == avx2.coincident);
      }
    }
  }
}

TEST_CASE("pair rows d >= 16 on AVX-512 at small d: the AVX2 target's bits") {
  const std::string target = simd_target();
  if (target.rfind("avx512", 0) != 0) {
    MESSAGE("not an AVX-512 target: " << target);
    return;
  }
  for (const bool weights : {false, true}) {
    for (const index_t d : {16, 17, 31, 32, 40, 50, 64, 100, 128, 200}) check_avx2_bits<float>(d, weights);
    for (const index_t d : {16, 17, 31, 32, 40, 47, 50, 64, 100}) check_avx2_bits<double>(d, weights);
  }
}

// The directional pass's tiles drop the u term of the gradient sweep where no pair of the tile
// is coincident; non-finite velocities must still reach the sums as they do one pair at a time.
TEST_CASE("pair rows d >= 16: the directional micro-tiles with a non-finite velocity") {
  for (const index_t d : {16, 19}) {
    const index_t rows = 3, jn = 6;
    const auto x = draw<double>(rows * d, 11, -1, 1), y = draw<double>(jn * d, 12, -1, 1);
    auto v = draw<double>(rows * d, 13, -1, 1);
    const auto w = draw<double>(jn * d, 14, -1, 1);
    v[std::size_t(1 * d + d - 1)] = std::numeric_limits<double>::infinity();  // vector part or tail
    const Velocities<double> vel{&v, d, &w, d};
    const Family fam{PairFamily::riesz, 1.0};
    const Outputs tiles = run_rows<double>(PairwisePass::directional, fam, d, rows, jn, x, d, y, d,
                                           nullptr, false, vel);
    const Outputs pairs = run_rows<double>(PairwisePass::directional, fam, d, rows, jn, x, d, y, d,
                                           nullptr, true, vel);
    INFO(simd_target() << " d " << d);
    CHECK(std::isnan(pairs.g[std::size_t(1 * d + d - 1)]));
    CHECK(same_bits(tiles.value, pairs.value));
    CHECK(same_bits(tiles.g, pairs.g));
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
