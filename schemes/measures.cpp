#include "nwgf/schemes/measures.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nwgf/analytic/barenblatt.hpp"
#include "nwgf/analytic/gaussian_mixture.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/idx.hpp"
#include "nwgf/engine/io/image_io.hpp"
#include "nwgf/engine/philox.hpp"

namespace nwgf {

std::vector<index_t> split_rows(index_t n, index_t k, const std::vector<double>& weights) {
  std::vector<index_t> first(std::size_t(k + 1), 0);
  if (weights.empty()) {
    for (index_t c = 0; c <= k; ++c) first[std::size_t(c)] = (c * n + k - 1) / k;
    return first;
  }
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<index_t> count(static_cast<std::size_t>(k));
  std::vector<std::pair<double, index_t>> rest;
  index_t used = 0;
  for (index_t c = 0; c < k; ++c) {
    const double exact = double(n) * weights[std::size_t(c)] / total;
    count[std::size_t(c)] = index_t(std::floor(exact));
    used += count[std::size_t(c)];
    rest.emplace_back(exact - std::floor(exact), c);
  }
  std::stable_sort(rest.begin(), rest.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (index_t i = 0; used < n; ++i, ++used) ++count[std::size_t(rest[std::size_t(i)].second)];
  for (index_t c = 0; c < k; ++c) first[std::size_t(c + 1)] = first[std::size_t(c)] + count[std::size_t(c)];
  return first;
}

namespace {

// Index into [0, n) of any integer under the half-sample symmetric extension (d c b a | a b c d |
// d c b a), as scipy.ndimage's default mode "reflect".
int reflect(long i, int n) {
  const long period = 2L * n;
  long m = i % period;
  if (m < 0) m += period;
  return int(m < n ? m : period - 1 - m);
}

// Separable Gaussian blur (standard deviation sigma pixels, truncated at 4 sigma), reflecting
// borders.
std::vector<double> gaussian_blur(const std::vector<double>& img, int w, int h, double sigma) {
  if (sigma <= 0) return img;
  const int radius = std::max(1, int(std::ceil(4 * sigma)));
  std::vector<double> k(std::size_t(2 * radius + 1));
  for (int i = -radius; i <= radius; ++i) k[std::size_t(i + radius)] = std::exp(-0.5 * i * i / (sigma * sigma));
  const double sum = std::accumulate(k.begin(), k.end(), 0.0);
  for (double& v : k) v /= sum;
  std::vector<double> tmp(img.size()), out(img.size());
  for (int y = 0; y < h; ++y) {
    const double* row = &img[std::size_t(y) * std::size_t(w)];
    for (int x = 0; x < w; ++x) {
      double acc = 0;
      for (int i = -radius; i <= radius; ++i) acc += k[std::size_t(i + radius)] * row[reflect(x + i, w)];
      tmp[std::size_t(y) * std::size_t(w) + std::size_t(x)] = acc;
    }
  }
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      double acc = 0;
      for (int i = -radius; i <= radius; ++i) {
        acc += k[std::size_t(i + radius)] * tmp[std::size_t(reflect(y + i, h)) * std::size_t(w) + std::size_t(x)];
      }
      out[std::size_t(y) * std::size_t(w) + std::size_t(x)] = acc;
    }
  }
  return out;
}

// Rows [first, last) of the image measure's m.n samples into out ((last - first) x 2): sample i
// from Philox uniforms 3i, 3i + 1, 3i + 2 (the pixel by the density's CDF, the place in it).
void sample_image_rows(const MeasureConfig& m, std::uint64_t seed, std::uint64_t stream,
                       const std::string& key, index_t first, index_t last, double* out) {
  int w = 0, h = 0;
  const std::vector<double> density = image_density(m.path, m.blur, m.background, &w, &h);
  std::vector<double> cdf(density.size());
  std::partial_sum(density.begin(), density.end(), cdf.begin());
  if (!(cdf.back() > 0))
    throw_bad_input(key + ".path: " + m.path + " has no dark pixels (no mass)");
  // Pixel (px, py) covers [px, px + 1) x [py, py + 1); the longer side maps to [-box, box], y up.
  const double scale = 2 * m.box / double(std::max(w, h));
  for (index_t i = first; i < last; ++i) {
    double u[3];
    for (int k = 0; k < 3; ++k)
      u[k] = philox_uniform<double>(seed, stream, std::uint64_t(3 * i + k));
    const double target = u[0] * cdf.back();
    const std::size_t p = std::size_t(
        std::min<std::ptrdiff_t>(std::upper_bound(cdf.begin(), cdf.end(), target) - cdf.begin(),
                                 std::ptrdiff_t(cdf.size()) - 1));
    const double px = double(p % std::size_t(w)) + u[1], py = double(p / std::size_t(w)) + u[2];
    double* row = out + 2 * (i - first);
    row[0] = (px - 0.5 * w) * scale;
    row[1] = (0.5 * h - py) * scale;
  }
}

}  // namespace

GaussianMixture mixture_of(const MeasureConfig& m, const std::string& key) {
  std::vector<std::vector<double>> means, covs;
  std::vector<double> weights;
  for (const auto& c : m.components) {
    means.push_back(c.mean);
    covs.push_back(c.cov);
    weights.push_back(c.weight);
  }
  return GaussianMixture(m.d, means, covs, weights, key + ".components");
}

std::vector<double> image_density(const std::string& path, double blur, double background,
                                  int* width, int* height) {
  const GrayImage img = load_gray_image(path);
  const int w = img.width, h = img.height;
  // Dark = mass; near-white (> 225/255, scanner paper) counts as white.
  std::vector<double> ink(img.v.size());
  for (std::size_t i = 0; i < ink.size(); ++i) {
    const double g = img.v[i] > 225.0 / 255.0 ? 1.0 : double(img.v[i]);
    ink[i] = 1.0 - g;
  }
  std::vector<double> density = gaussian_blur(ink, w, h, blur);
  if (background > 0) {
    // The paper's recipe (its utils.py, after Wu et al. 2020) adds blurs of 10, 20 and 50 pixels
    // of a 100-pixel picture: here 0.1, 0.2 and 0.5 times the longer side.
    const double side = double(std::max(w, h));
    for (double f : {0.1, 0.2, 0.5}) {
      const std::vector<double> wide = gaussian_blur(ink, w, h, f * side);
      for (std::size_t i = 0; i < density.size(); ++i) density[i] += background * wide[i];
    }
  }
  const double sum = std::accumulate(density.begin(), density.end(), 0.0);
  if (sum > 0) {
    for (double& v : density) v /= sum;
  }
  *width = w;
  *height = h;
  return density;
}

namespace {

// Rows [first, last) of the per-row kinds (each row drawn from Philox by its global index i, so
// any range gives the whole draw's rows) into out (last - first rows of m.d values).
void draw_rows(const MeasureConfig& m, std::uint64_t seed, std::uint64_t stream,
               const std::string& key, index_t first_row, index_t last_row, double* out) {
  // gaussian with a full covariance: row i = p + L z_i, L L^T = cov.
  const std::vector<double> chol =
      m.kind == MeasureKind::gaussian && !m.cov.empty() ? cholesky_factor(m.cov, m.d)
                                                        : std::vector<double>{};
  if (m.kind == MeasureKind::gaussian && !m.cov.empty() && chol.empty()) {
    throw_bad_input(key + ".cov: must be symmetric and positive definite (a covariance matrix)");
  }
  const auto centres = measure_points(m);
  const index_t k = index_t(centres.size());
  const index_t d = m.d;
  const std::vector<index_t> first = split_rows(m.n, k, m.weights);
  auto u = [&](index_t i) { return philox_uniform<double>(seed, stream, std::uint64_t(i)); };
  auto z = [&](index_t i) { return philox_normal<double>(seed, stream, std::uint64_t(i)); };
  index_t centre = 0;
  for (index_t i = first_row; i < last_row; ++i) {
    while (i >= first[std::size_t(centre + 1)]) ++centre;
    double* row = out + (i - first_row) * d;
    const auto& c = centres[std::size_t(m.kind == MeasureKind::uniform || m.kind == MeasureKind::dirac ? 0 : centre)];
    if (m.kind == MeasureKind::dirac || m.kind == MeasureKind::diracs) {
      std::copy(c.begin(), c.end(), row);
    } else if (m.kind == MeasureKind::square) {
      for (index_t j = 0; j < d; ++j) row[j] = c[std::size_t(j)] + m.radius * (2 * u(i * d + j) - 1);
    } else if (m.kind == MeasureKind::square_boundary) {
      // 2d faces of equal area: the first uniform picks the face (coordinate and side), the rest
      // place the point on it.
      const index_t face = std::min<index_t>(index_t(u(i * (d + 1)) * double(2 * d)), 2 * d - 1);
      for (index_t j = 0; j < d; ++j) {
        const double v = j == face / 2 ? (face % 2 == 0 ? 1.0 : -1.0) : 2 * u(i * (d + 1) + 1 + j) - 1;
        row[j] = c[std::size_t(j)] + m.radius * v;
      }
    } else if (m.kind == MeasureKind::gaussian && !chol.empty()) {
      for (index_t j = 0; j < d; ++j) row[j] = z(i * d + j);
      for (index_t a = d - 1; a >= 0; --a) {  // row <- c + L row, from the last entry up
        double v = c[std::size_t(a)];
        for (index_t b = 0; b <= a; ++b) v += chol[std::size_t(a * d + b)] * row[b];
        row[a] = v;
      }
    } else if (m.kind == MeasureKind::gaussian) {
      for (index_t j = 0; j < d; ++j) row[j] = c[std::size_t(j)] + m.radius * z(i * d + j);
    } else if (m.kind == MeasureKind::circle) {
      // A normalised Gaussian vector is uniform on the sphere.
      double norm2 = 0;
      for (index_t j = 0; j < d; ++j) {
        row[j] = z(i * d + j);
        norm2 += row[j] * row[j];
      }
      const double s = m.radius / std::sqrt(norm2);
      for (index_t j = 0; j < d; ++j) row[j] = c[std::size_t(j)] + s * row[j];
    } else if (m.kind == MeasureKind::uniform) {
      for (index_t j = 0; j < d; ++j) row[j] = m.low + (m.high - m.low) * u(i * d + j);
    } else {
      throw_bad_input(key + ".kind: unknown measure '" + std::string(to_text(m.kind)) + "'");
    }
  }
}

}  // namespace

HostMatrix<double> sample_measure(const MeasureConfig& m, std::uint64_t seed, std::uint64_t stream,
                                  const std::string& key) {
  if (m.kind == MeasureKind::npy) return read_npy<double>(m.path);
  if (m.kind == MeasureKind::idx) return read_idx(m.path, m.n);
  return sample_measure_rows(m, seed, stream, key, 0, m.n);
}

index_t measure_size(const MeasureConfig& m, const std::string& key) {
  (void)key;
  if (m.kind == MeasureKind::npy) return read_npy_info(m.path).rows;
  return m.n;
}

HostMatrix<double> sample_measure_rows(const MeasureConfig& m, std::uint64_t seed,
                                       std::uint64_t stream, const std::string& key, index_t first,
                                       index_t last) {
  if (m.kind == MeasureKind::npy) return read_npy_rows<double>(m.path, first, last);
  if (m.kind == MeasureKind::idx) return read_idx_rows(m.path, m.n, first, last);
  HostMatrix<double> x;
  x.rows = last - first;
  x.cols = m.kind == MeasureKind::image ? 2 : m.d;
  x.data.assign(std::size_t(x.rows * x.cols), 0.0);
  if (x.rows == 0) return x;
  // Every kind draws row i from Philox by its global index i (a mixture's component too), so
  // any range gives the whole draw's rows; the set-up (the image's density, the mixture's
  // factors, the Barenblatt profile) is computed whole by every caller.
  if (m.kind == MeasureKind::image) {
    sample_image_rows(m, seed, stream, key, first, last, x.data.data());
  } else if (m.kind == MeasureKind::barenblatt) {
    sample_barenblatt_rows(barenblatt_unit(m.d, m.m), m.t0, first, last, seed, stream,
                           x.data.data());
  } else if (m.kind == MeasureKind::mixture) {
    mixture_of(m, key).sample_rows(m.n, first, last, seed, stream, x.data.data());
  } else {
    draw_rows(m, seed, stream, key, first, last, x.data.data());
  }
  return x;
}

WeightedPoints target_measure(const MeasureConfig& m, std::uint64_t seed, std::uint64_t stream,
                              const std::string& key, bool atoms) {
  WeightedPoints t;
  if (atoms && (m.kind == MeasureKind::dirac || m.kind == MeasureKind::diracs)) {
    auto points = measure_points(m);
    if (m.kind == MeasureKind::dirac) points.resize(1);
    t.x.rows = index_t(points.size());
    t.x.cols = m.d;
    for (const auto& p : points) t.x.data.insert(t.x.data.end(), p.begin(), p.end());
    if (m.kind == MeasureKind::diracs && !m.weights.empty()) {
      const double total = std::accumulate(m.weights.begin(), m.weights.end(), 0.0);
      for (double w : m.weights) t.w.push_back(w / total);
    }
    return t;
  }
  t.x = sample_measure(m, seed, stream, key);
  return t;
}

std::vector<std::vector<double>> measure_points(const MeasureConfig& m) {
  if (!m.points.empty()) return m.points;
  return {std::vector<double>(std::size_t(m.d), 0.0)};
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
