// Philox4x32-10 against the published Random123 known-answer vectors (kat_vectors), and the
// stream mapping of engine/philox.hpp: offsets, splitting, distributions.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/engine/rng.hpp"

using namespace nwgf;

TEST_CASE("philox4x32-10 known-answer vectors") {
  struct Kat {
    PhiloxBlock ctr;
    std::uint32_t k0, k1;
    PhiloxBlock expect;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const auto& k : kats) {
    const PhiloxBlock out = philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) CHECK(out.v[i] == k.expect.v[i]);
  }
}

TEST_CASE("seed, stream and block map onto key and counter") {
  // key = seed, counter = {block, stream}: the pi vector again, through philox_block.
  const std::uint64_t seed = (std::uint64_t(0x299f31d0) << 32) | 0xa4093822;
  const std::uint64_t block = (std::uint64_t(0x85a308d3) << 32) | 0x243f6a88;
  const std::uint64_t stream = (std::uint64_t(0x03707344) << 32) | 0x13198a2e;
  const PhiloxBlock out = philox_block(seed, stream, block);
  CHECK(out.v[0] == 0xd16cfe09u);
  CHECK(out.v[3] == 0x24126ea1u);
}

TEST_CASE_TEMPLATE("buffer fills equal the element-wise definition, however split", T, float, double) {
  Context ctx(Device::cpu, 2);
  const index_t n = 1001;
  std::vector<T> whole(n), parts(n);
  rng_normal<T>(ctx, 7, 3, 5, whole.data(), n);
  // Split at odd offsets that straddle Philox blocks.
  rng_normal<T>(ctx, 7, 3, 5, parts.data(), 333);
  rng_normal<T>(ctx, 7, 3, 5 + 333, parts.data() + 333, n - 333);
  for (index_t i = 0; i < n; ++i) {
    CHECK(whole[i] == parts[i]);
    CHECK(whole[i] == philox_normal<T>(7, 3, 5 + std::uint64_t(i)));
  }
  std::vector<T> u(n);
  rng_uniform<T>(ctx, 7, 3, 11, u.data(), n, T(-2), T(3));
  for (index_t i = 0; i < n; ++i) {
    CHECK(u[i] == T(-2) + T(5) * philox_uniform<T>(7, 3, 11 + std::uint64_t(i)));
    CHECK(u[i] > T(-2));
    CHECK(u[i] < T(3));
  }
}

TEST_CASE_TEMPLATE("streams and seeds are distinct; moments of uniform and normal", T, float, double) {
  Context ctx(Device::cpu, 2);
  const index_t n = 400000;
  std::vector<T> a(n), b(n), c(n);
  rng_normal<T>(ctx, 1, 0, 0, a.data(), n);
  rng_normal<T>(ctx, 1, 1, 0, b.data(), n);
  rng_normal<T>(ctx, 2, 0, 0, c.data(), n);
  double m = 0, v = 0, k4 = 0, ab = 0, ac = 0;
  for (index_t i = 0; i < n; ++i) {
    m += a[i];
    v += double(a[i]) * a[i];
    k4 += std::pow(double(a[i]), 4);
    ab += double(a[i]) * b[i];
    ac += double(a[i]) * c[i];
  }
  m /= n, v /= n, k4 /= n, ab /= n, ac /= n;
  const double se = 1.0 / std::sqrt(double(n));
  CHECK(std::fabs(m) < 5 * se);
  CHECK(std::fabs(v - 1) < 5 * std::sqrt(2.0) * se);
  CHECK(std::fabs(k4 - 3) < 5 * std::sqrt(96.0) * se);
  CHECK(std::fabs(ab) < 5 * se);
  CHECK(std::fabs(ac) < 5 * se);

  // Uniform: Kolmogorov-Smirnov distance of 400000 draws; 1.95/sqrt(n) is the 0.1% level.
  std::vector<T> u(n);
  rng_uniform<T>(ctx, 9, 4, 0, u.data(), n);
  std::sort(u.begin(), u.end());
  double ks = 0;
  for (index_t i = 0; i < n; ++i) {
    ks = std::max({ks, std::fabs(double(u[i]) - double(i) / n), std::fabs(double(u[i]) - double(i + 1) / n)});
  }
  CHECK(ks < 1.95 * se);
  CHECK(u.front() > 0);
  CHECK(u.back() < 1);
}
