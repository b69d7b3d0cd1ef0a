#include "nwgf/schemes/ift/target_draw.hpp"

#include "nwgf/schemes/measures.hpp"

namespace nwgf {

bool device_drawable(const MeasureConfig& m) {
  return (m.kind == MeasureKind::gaussian && m.cov.empty()) || m.kind == MeasureKind::square ||
         m.kind == MeasureKind::circle || m.kind == MeasureKind::uniform;
}

TargetDraw::TargetDraw(const Context& ctx, const MeasureConfig& m, std::uint64_t seed) {
  const auto centres = measure_points(m);
  std::vector<double> c;
  for (const auto& p : centres) c.insert(c.end(), p.begin(), p.end());
  const std::vector<index_t> first = split_rows(m.n, index_t(centres.size()), m.weights);
  centre_ = upload(ctx, c);
  first_ = upload(ctx, first);
  args_.kind = m.kind;
  args_.seed = seed;
  args_.n = m.n;
  args_.d = m.d;
  args_.centres = index_t(centres.size());
  args_.centre = centre_.data();
  args_.first = first_.data();
  args_.radius = m.radius;
  args_.low = m.low;
  args_.high = m.high;
}

template <class T>
void TargetDraw::draw(const Context& ctx, std::uint64_t stream, T* y) const {
  TargetDrawArgs a = args_;
  a.stream = stream;
#ifdef NWGF_HAVE_CUDA
  if (ctx.is_cuda()) return detail::cuda_target_draw<T>(ctx, a, y);
#endif
  (void)ctx;
#pragma omp parallel for schedule(static)
  for (index_t i = 0; i < a.n; ++i) target_draw_row(a, i, y);
}

template void TargetDraw::draw<float>(const Context&, std::uint64_t, float*) const;
template void TargetDraw::draw<double>(const Context&, std::uint64_t, double*) const;

}  // namespace nwgf
