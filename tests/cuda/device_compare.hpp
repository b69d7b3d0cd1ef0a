#pragma once
// What the CUDA-vs-CPU tests share: a device array copied to the host, and the largest absolute
// difference of two arrays relative to the largest magnitude of the reference.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "nwgf/engine/buffer.hpp"

namespace nwgf::test {

// max_i |a_i - b_i| / max_i |b_i| (the denominator at least 1e-30).
template <class T>
double rel_err(const std::vector<T>& a, const std::vector<T>& b) {
  double e = 0, s = 1e-30;
  for (std::size_t i = 0; i < a.size(); ++i) {
    e = std::max(e, std::fabs(double(a[i]) - double(b[i])));
    s = std::max(s, std::fabs(double(b[i])));
  }
  return e / s;
}

// n values at p, memory of ctx's device, on the host (through a buffer of ctx: `download`).
template <class T>
std::vector<T> to_host(const Context& ctx, const T* p, index_t n) {
  Buffer<T> tmp(ctx, n);
  detail::copy_bytes(ctx, tmp.data(), ctx.device(), p, ctx.device(), sizeof(T) * std::size_t(n));
  return download(ctx, tmp);
}

}  // namespace nwgf::test
