#pragma once
// Philox4x32-10 counter-based RNG (Salmon et al., SC'11; Random123), as NWGF_HD code, so a
// (seed, stream, counter) gives the same numbers on the CPU and on the GPU.
//
// Mapping used throughout nwgf: one Philox block is
//   key = {seed lo, seed hi},  counter = {block lo, block hi, stream lo, stream hi},
// and element `i` of a stream lives in block i / k at word position i % k, where k is the
// number of values a block yields: uniform<float> 4, uniform<double> 2, normal<float> 4,
// normal<double> 2.
//
// Uniforms lie in the open interval (0, 1). Normals use Box-Muller, evaluated in double for both
// float and double results: the integer part is bit-identical across backends; the double
// log/sqrt/sincos of CUDA and glibc agree to an ulp or two, so float normals (rounded from double)
// are identical except in rare rounding ties.
#include <cmath>
#include <cstdint>

#include "nwgf/engine/hd.hpp"

namespace nwgf {

struct PhiloxBlock {
  std::uint32_t v[4];
};

namespace detail {
NWGF_HD void philox_mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t p = std::uint64_t(a) * std::uint64_t(b);
  hi = std::uint32_t(p >> 32);
  lo = std::uint32_t(p);
}
}  // namespace detail

// The raw generator: 10 rounds, key bumped between rounds (Random123's philox4x32_R(10, ...)).
NWGF_HD PhiloxBlock philox4x32_10(PhiloxBlock ctr, std::uint32_t k0, std::uint32_t k1) {
  constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  constexpr std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += W0;
      k1 += W1;
    }
    std::uint32_t hi0, lo0, hi1, lo1;
    detail::philox_mulhilo(M0, ctr.v[0], hi0, lo0);
    detail::philox_mulhilo(M1, ctr.v[2], hi1, lo1);
    ctr = PhiloxBlock{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

NWGF_HD PhiloxBlock philox_block(std::uint64_t seed, std::uint64_t stream, std::uint64_t block) {
  PhiloxBlock ctr{{std::uint32_t(block), std::uint32_t(block >> 32), std::uint32_t(stream),
                   std::uint32_t(stream >> 32)}};
  return philox4x32_10(ctr, std::uint32_t(seed), std::uint32_t(seed >> 32));
}

// (0,1) from 32 random bits, 24-bit float mantissa.
NWGF_HD float uniform_float_from_bits(std::uint32_t u) {
  return float(u >> 8) * 5.9604644775390625e-08f + 2.98023223876953125e-08f;  // 2^-24, 2^-25
}
// (0,1) from 64 random bits, 53-bit double mantissa.
NWGF_HD double uniform_double_from_bits(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t k = ((std::uint64_t(hi) << 32) | lo) >> 11;
  return (double(k) + 0.5) * 1.1102230246251565e-16;  // 2^-53
}
// (0,1) from 32 bits, in double (for the float normals).
NWGF_HD double uniform_double_from_u32(std::uint32_t u) {
  return (double(u) + 0.5) * 2.3283064365386963e-10;  // 2^-32
}

// Box-Muller: two uniforms in (0,1) to two standard normals.
NWGF_HD void box_muller(double u1, double u2, double& z0, double& z1) {
  const double rad = sqrt(-2.0 * log(u1));
  const double ang = 6.283185307179586476925286766559 * u2;
  z0 = rad * cos(ang);
  z1 = rad * sin(ang);
}

template <class T>
struct PhiloxTraits;
template <>
struct PhiloxTraits<float> {
  static constexpr int uniform_per_block = 4;
  static constexpr int normal_per_block = 4;
};
template <>
struct PhiloxTraits<double> {
  static constexpr int uniform_per_block = 2;
  static constexpr int normal_per_block = 2;
};

// All uniforms of one block, in order.
NWGF_HD void philox_uniform_block(const PhiloxBlock& b, float out[4]) {
  for (int k = 0; k < 4; ++k) out[k] = uniform_float_from_bits(b.v[k]);
}
NWGF_HD void philox_uniform_block(const PhiloxBlock& b, double out[2]) {
  out[0] = uniform_double_from_bits(b.v[0], b.v[1]);
  out[1] = uniform_double_from_bits(b.v[2], b.v[3]);
}
// All normals of one block, in order.
NWGF_HD void philox_normal_block(const PhiloxBlock& b, float out[4]) {
  double z0, z1, z2, z3;
  box_muller(uniform_double_from_u32(b.v[0]), uniform_double_from_u32(b.v[1]), z0, z1);
  box_muller(uniform_double_from_u32(b.v[2]), uniform_double_from_u32(b.v[3]), z2, z3);
  out[0] = float(z0);
  out[1] = float(z1);
  out[2] = float(z2);
  out[3] = float(z3);
}
NWGF_HD void philox_normal_block(const PhiloxBlock& b, double out[2]) {
  box_muller(uniform_double_from_bits(b.v[0], b.v[1]), uniform_double_from_bits(b.v[2], b.v[3]),
             out[0], out[1]);
}

// Element i of a uniform / normal stream.
template <class T>
NWGF_HD T philox_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  constexpr int k = PhiloxTraits<T>::uniform_per_block;
  T out[k];
  philox_uniform_block(philox_block(seed, stream, i / k), out);
  return out[i % k];
}
template <class T>
NWGF_HD T philox_normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  constexpr int k = PhiloxTraits<T>::normal_per_block;
  T out[k];
  philox_normal_block(philox_block(seed, stream, i / k), out);
  return out[i % k];
}

}  // namespace nwgf
