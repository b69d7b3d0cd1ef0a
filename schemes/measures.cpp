#include "schemes/measures.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.hpp"
#include "engine/philox.hpp"

namespace nwgf {

HostMatrix<double> sample_measure(const MeasureConfig& m, std::uint64_t seed, std::uint64_t stream,
                                  const std::string& key) {
  if (m.kind == "npy") return read_npy<double>(m.path);
  HostMatrix<double> x;
  x.rows = m.n;
  x.cols = m.d;
  x.data.assign(std::size_t(m.n * m.d), 0.0);
  const auto centres = m.points.empty() ? std::vector<std::vector<double>>{std::vector<double>(
                                              std::size_t(m.d), 0.0)}
                                        : m.points;
  const index_t k = index_t(centres.size());
  const index_t d = m.d;
  // Row i belongs to centre i * k / n: consecutive blocks of (almost) equal size.
  auto centre_of = [&](index_t i) { return (i * k) / m.n; };
  auto u = [&](index_t i) { return philox_uniform<double>(seed, stream, std::uint64_t(i)); };
  auto z = [&](index_t i) { return philox_normal<double>(seed, stream, std::uint64_t(i)); };
  for (index_t i = 0; i < m.n; ++i) {
    double* row = &x.data[std::size_t(i * d)];
    const auto& c = centres[std::size_t(m.kind == "uniform" ? 0 : centre_of(i))];
    if (m.kind == "dirac") {
      std::copy(centres[0].begin(), centres[0].end(), row);
    } else if (m.kind == "diracs") {
      std::copy(c.begin(), c.end(), row);
    } else if (m.kind == "square") {
      for (index_t j = 0; j < d; ++j) row[j] = c[std::size_t(j)] + m.radius * (2 * u(i * d + j) - 1);
    } else if (m.kind == "gaussian") {
      for (index_t j = 0; j < d; ++j) row[j] = c[std::size_t(j)] + m.radius * z(i * d + j);
    } else if (m.kind == "circle") {
      // A normalised Gaussian vector is uniform on the sphere.
      double norm2 = 0;
      for (index_t j = 0; j < d; ++j) {
        row[j] = z(i * d + j);
        norm2 += row[j] * row[j];
      }
      const double s = m.radius / std::sqrt(norm2);
      for (index_t j = 0; j < d; ++j) row[j] = c[std::size_t(j)] + s * row[j];
    } else if (m.kind == "uniform") {
      for (index_t j = 0; j < d; ++j) row[j] = m.low + (m.high - m.low) * u(i * d + j);
    } else {
      throw_bad_input(key + ".kind: unknown measure '" + m.kind + "'");
    }
  }
  return x;
}

bool has_atoms(const HostMatrix<double>& x) {
  const index_t n = x.rows, d = x.cols;
  std::vector<index_t> order{};
  order.resize(std::size_t(n));
  std::iota(order.begin(), order.end(), 0);
  auto row = [&](index_t i) { return x.data.begin() + i * d; };
  std::sort(order.begin(), order.end(), [&](index_t a, index_t b) {
    return std::lexicographical_compare(row(a), row(a) + d, row(b), row(b) + d);
  });
  for (index_t i = 1; i < n; ++i) {
    if (std::equal(row(order[std::size_t(i - 1)]), row(order[std::size_t(i - 1)]) + d,
                   row(order[std::size_t(i)]))) {
      return true;
    }
  }
  return false;
}

}  // namespace nwgf
