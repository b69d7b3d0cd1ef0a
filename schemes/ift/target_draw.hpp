#pragma once
// A fresh sample of the ift target (ift.target_resample) drawn on ctx's device, so that the
// iteration that draws it stays capturable into a CUDA graph (no upload inside it): row i is row
// i of sample_measure (schemes/measures.cpp) for the same Philox stream, the host's arithmetic in
// double (its products rounded on their own: add_product_rn, never contracted into an FMA),
// rounded to T as WeightedMmd::set_target rounds the host's sample. Uniform-based kinds (square,
// uniform) give the host's bits on any device; normal-based ones (gaussian, circle) do on the
// CPU and the emulator, and on a GPU up to CUDA's double log/sincos, which agree with glibc's to
// an ulp or two (engine/philox.hpp). The kinds drawn here are device_drawable(); the others keep
// the host draw (not capturable).
#include <cstdint>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/hd.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/engine/rng_math.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/config.hpp"

namespace nwgf {

struct TargetDrawArgs {
  MeasureKind kind = MeasureKind::gaussian;
  std::uint64_t seed = 0, stream = 0;
  index_t n = 0, d = 0, centres = 1;
  const double* centre = nullptr;  // (centres, d), ctx's device
  const index_t* first = nullptr;  // (centres + 1): centre c has rows [first[c], first[c + 1])
  double radius = 1, low = 0, high = 1;
};

// Row i of the sample into y (n, d).
template <class T>
NWGF_HD void target_draw_row(const TargetDrawArgs& a, index_t i, T* y) {
  index_t c = 0;
  if (a.kind != MeasureKind::uniform) {
    while (c + 1 < a.centres && i >= a.first[c + 1]) ++c;
  }
  const double* p = a.centre + c * a.d;
  T* row = y + i * a.d;
  const std::uint64_t e = std::uint64_t(i * a.d);
  if (a.kind == MeasureKind::circle) {
    double norm2 = 0;
    for (index_t j = 0; j < a.d; ++j) {
      const double z = philox_normal<double>(a.seed, a.stream, e + std::uint64_t(j));
      norm2 = detail::add_product_rn(norm2, z, z);
    }
    const double s = a.radius / sqrt(norm2);
    for (index_t j = 0; j < a.d; ++j) {
      const double z = philox_normal<double>(a.seed, a.stream, e + std::uint64_t(j));
      row[j] = T(detail::add_product_rn(p[j], s, z));
    }
    return;
  }
  for (index_t j = 0; j < a.d; ++j) {
    double v;
    if (a.kind == MeasureKind::gaussian) {
      v = detail::add_product_rn(p[j], a.radius,
                                 philox_normal<double>(a.seed, a.stream, e + std::uint64_t(j)));
    } else if (a.kind == MeasureKind::square) {
      const double u = philox_uniform<double>(a.seed, a.stream, e + std::uint64_t(j));
      v = detail::add_product_rn(p[j], a.radius, 2 * u - 1);
    } else {  // uniform
      const double u = philox_uniform<double>(a.seed, a.stream, e + std::uint64_t(j));
      v = detail::add_product_rn(a.low, a.high - a.low, u);
    }
    row[j] = T(v);
  }
}

// True when the measure's sample can be drawn on the device (target_draw_row).
bool device_drawable(const MeasureConfig& m);

// The fixed part of a measure's device draw: its centres and row split on ctx's device.
class TargetDraw {
 public:
  TargetDraw(const Context& ctx, const MeasureConfig& m, std::uint64_t seed);
  // y (m.n, m.d) on ctx's device <- the sample of Philox stream `stream`.
  template <class T>
  void draw(const Context& ctx, std::uint64_t stream, T* y) const;

 private:
  TargetDrawArgs args_;
  Buffer<double> centre_;
  Buffer<index_t> first_;
};

#ifdef NWGF_HAVE_CUDA
namespace detail {
template <class T>
void cuda_target_draw(const Context& ctx, const TargetDrawArgs& a, T* y);
}  // namespace detail
#endif

}  // namespace nwgf
