// row_values (schemes/scheme_ops.hpp: one value per row, the rows' side effects as in
// reduce_rows) on CUDA against the CPU, for the rows the sharded runner evaluates on the device:
// the potential of a two-component mixture (values, gradient) and energy33's rows (values,
// gradient, mask). On the CPU the values summed in reduce_rows' chunks are reduce_rows' sum, bit
// for bit. Skipped (exit 77) where no CUDA device is usable.
#include <doctest/doctest.h>

#include <vector>

#include "device_compare.hpp"
#include "nwgf/analytic/gaussian_mixture.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/philox.hpp"
#include "nwgf/kernels/reduce.hpp"
#include "nwgf/schemes/functional_potential.hpp"
#include "nwgf/schemes/potential_rows.hpp"
#include "nwgf/schemes/scheme_ops.hpp"

using namespace nwgf;

namespace {

template <class T>
std::vector<T> points(index_t n, index_t d) {
  std::vector<T> v(static_cast<std::size_t>(n * d));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = T(4 * philox_uniform<double>(9, 3, i) - 2);
  return v;
}

// The values summed as reduce_rows sums its rows (chunks of ReducePolicy::chunk, in order).
double chunk_sum(const std::vector<double>& v) {
  return chunked_sum(index_t(v.size()), [&](index_t i) { return v[std::size_t(i)]; });
}

}  // namespace

TEST_CASE_TEMPLATE("row_values of the potential's rows: CUDA matches the CPU", T, float, double) {
  Context cpu(Device::cpu, 2), gpu(Device::cuda, 2);
  const index_t n = 9000, d = 3;  // two chunks of reduce_rows
  const GaussianMixture q(
      d, {{1, 0, 0}, {-1, 1, 0}},
      {{0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5}, {0.3, 0.1, 0, 0.1, 0.3, 0, 0, 0, 0.3}}, {0.7, 0.3},
      "target.cov");
  PackedPotential vc(cpu, q, n), vg(gpu, q, n);
  const std::vector<T> x = points<T>(n, d);
  const Buffer<T> xg = upload(gpu, x);
  std::vector<T> gc(std::size_t(n * d));
  std::vector<double> valc(static_cast<std::size_t>(n));
  Buffer<T> gg(gpu, n * d);
  Buffer<double> valg(gpu, n);
  const double w = 1.0 / double(n);
  row_values(cpu, PotentialRow<T>{vc.rows(), x.data(), gc.data(), d, w, 0.5, false}, n,
             valc.data());
  row_values(gpu, PotentialRow<T>{vg.rows(), xg.data(), gg.data(), d, w, 0.5, false}, n,
             valg.data());
  CHECK(test::rel_err(download(gpu, valg), valc) < 1e-12);
  CHECK(test::rel_err(download(gpu, gg), gc) < (sizeof(T) == 4 ? 1e-6 : 1e-12));
  // The values in reduce_rows' order give its sum (no gradient this time).
  const double sum =
      reduce_rows(cpu, PotentialRow<T>{vc.rows(), x.data(), nullptr, d, w, 0.0, false}, n);
  CHECK(chunk_sum(valc) == sum);
}

TEST_CASE_TEMPLATE("row_values of energy33's rows: CUDA matches the CPU", T, float, double) {
  Context cpu(Device::cpu, 2), gpu(Device::cuda, 2);
  const index_t n = 1000;
  std::vector<T> xy = points<T>(n, 2);
  xy[2 * 5 + 1] = T(0);  // a row on the axis (y = 0)
  const Buffer<T> xyg = upload(gpu, xy);
  std::vector<T> gc(std::size_t(2 * n)), mc(static_cast<std::size_t>(n));
  std::vector<double> valc(static_cast<std::size_t>(n));
  Buffer<T> gg(gpu, 2 * n), mg(gpu, n);
  Buffer<double> valg(gpu, n);
  row_values(cpu, Energy33Row<T>{xy.data(), nullptr, T(0.25), gc.data(), mc.data()}, n,
             valc.data());
  row_values(gpu, Energy33Row<T>{xyg.data(), nullptr, T(0.25), gg.data(), mg.data()}, n,
             valg.data());
  // Signs, masks and the coordinates themselves: the same bits on both backends.
  CHECK(download(gpu, valg) == valc);
  CHECK(download(gpu, gg) == gc);
  CHECK(download(gpu, mg) == mc);
  const double sum =
      reduce_rows(cpu, Energy33Row<T>{xy.data(), nullptr, T(0), nullptr, nullptr}, n);
  CHECK(chunk_sum(valc) == sum);
}
