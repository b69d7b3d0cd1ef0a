#pragma once
// The MLP tests' naive forward in long double, restated from nn/mlp.hpp and nn/dropout_math.hpp:
// params in Mlp's layout (per layer W (n, k) row-major then b (n); the PReLU slopes after all
// layers), ReLU / PReLU / linear hidden activations, the residual output, and dropout on the
// hidden layers 2..L-1 with the masks of `draw` (the keep bit of element e is Philox (seed,
// stream) at offset + e; layer l's elements start max_batch x width after the previous one's).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <vector>

#include "nwgf/engine/philox.hpp"
#include "nwgf/nn/mlp.hpp"

namespace nwgf::test {

// The keep bit of element e of the dropout draw with drop probability p.
inline bool dropout_kept(const DropoutDraw& draw, double p, std::uint64_t e) {
  const PhiloxBlock b = philox_block(draw.seed, draw.stream, (draw.offset + e) / 4);
  return double(b.v[(draw.offset + e) % 4]) < std::floor((1 - p) * 4294967296.0);
}

// net(x) for a batch of B rows; min_kink (if not null): min |z| over the hidden pre-activations.
// draw: the masks of a training forward when o.dropout > 0 (null: an evaluation forward).
inline std::vector<long double> reference_forward(const std::vector<index_t>& w,
                                                  const MlpOptions& o,
                                                  const std::vector<double>& p,
                                                  const std::vector<double>& x, index_t B,
                                                  long double* min_kink,
                                                  const DropoutDraw* draw = nullptr,
                                                  index_t max_batch = 0) {
  const std::size_t L = w.size() - 1;
  std::vector<long double> h(x.begin(), x.end());
  std::size_t off = 0;
  for (std::size_t l = 0; l < L; ++l) off += std::size_t(w[l + 1] * (w[l] + 1));
  const std::size_t slopes = off;
  off = 0;
  std::uint64_t base = 0;  // stream element of h_l's element 0
  long double kink = INFINITY;
  for (std::size_t l = 0; l < L; ++l) {
    const index_t k = w[l], n = w[l + 1];
    const double* W = p.data() + off;
    const double* b = W + n * k;
    off += std::size_t(n * (k + 1));
    const bool dropped = draw && o.dropout > 0 && l >= 1 && l + 1 < L;
    std::vector<long double> z(std::size_t(B * n));
    for (index_t i = 0; i < B; ++i)
      for (index_t j = 0; j < n; ++j) {
        long double s = b[j];
        for (index_t q = 0; q < k; ++q) s += (long double)W[j * k + q] * h[std::size_t(i * k + q)];
        if (l + 1 < L) {
          kink = std::min(kink, std::fabs(s));
          if (o.activation == Activation::relu) s = s > 0 ? s : 0;
          if (o.activation == Activation::prelu) s = s > 0 ? s : (long double)p[slopes + l] * s;
          if (dropped) {
            s = dropout_kept(*draw, o.dropout, base + std::uint64_t(i * n + j))
                    ? s * (long double)double(1.0 / (1.0 - o.dropout))
                    : 0;
          }
        } else if (o.residual) {
          s += (long double)x[std::size_t(i * n + j)];
        }
        z[std::size_t(i * n + j)] = s;
      }
    if (dropped) base += std::uint64_t(max_batch * n);
    h = std::move(z);
  }
  if (min_kink) *min_kink = kink;
  return h;
}

}  // namespace nwgf::test
