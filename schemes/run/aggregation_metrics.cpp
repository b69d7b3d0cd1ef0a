#include "nwgf/schemes/run/aggregation_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "nwgf/schemes/ift/weight_ranks.hpp"

namespace nwgf {
namespace {

constexpr double kPi = 3.14159265358979323846;
const double kEdge = std::sqrt(2.0);  // the support [-sqrt2, sqrt2]

// The first moment's antiderivative: d/dy M(y) = y (1/pi) sqrt(2 - y^2).
double semicircle_moment(double y) {
  const double q = std::max(0.0, 2.0 - y * y);
  return -q * std::sqrt(q) / (3.0 * kPi);
}

// The u-quantile, by bisection on the CDF.
double semicircle_quantile(double u) {
  if (u <= 0) return -kEdge;
  if (u >= 1) return kEdge;
  double lo = -kEdge, hi = kEdge;
  for (int it = 0; it < 200 && hi - lo > 1e-15; ++it) {
    const double mid = 0.5 * (lo + hi);
    (semicircle_cdf(mid) < u ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

double semicircle_cdf(double x) {
  if (x <= -kEdge) return 0;
  if (x >= kEdge) return 1;
  return 0.5 + (0.5 * x * std::sqrt(2.0 - x * x) + std::asin(x / kEdge)) / kPi;
}

// W1 = int_0^1 |Q_N(u) - Q(u)| du = sum_i int over [Q((i-1)/N), Q(i/N)] of |x_(i) - y| dnu(y),
// each piece in closed form from the CDF and the first moment, split at x_(i).
double w1_to_semicircle(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const double n = double(x.size());
  double w1 = 0, l = -kEdge;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double r = i + 1 == x.size() ? kEdge : semicircle_quantile(double(i + 1) / n);
    const double c = std::clamp(x[i], l, r);
    w1 += x[i] * (semicircle_cdf(c) - semicircle_cdf(l)) -
          (semicircle_moment(c) - semicircle_moment(l)) +
          (semicircle_moment(r) - semicircle_moment(c)) -
          x[i] * (semicircle_cdf(r) - semicircle_cdf(c));
    l = r;
  }
  return w1;
}

double mean_radius(const HostMatrix<double>& x) {
  const index_t n = x.rows, d = x.cols;
  std::vector<double> mean(std::size_t(d), 0.0);
  for (index_t i = 0; i < n; ++i) {
    for (index_t k = 0; k < d; ++k) mean[std::size_t(k)] += x.data[std::size_t(i * d + k)];
  }
  for (double& m : mean) m /= double(n);
  double sum = 0;
  for (index_t i = 0; i < n; ++i) {
    double s = 0;
    for (index_t k = 0; k < d; ++k) {
      const double z = x.data[std::size_t(i * d + k)] - mean[std::size_t(k)];
      s += z * z;
    }
    sum += std::sqrt(s);
  }
  return sum / double(n);
}

double mean_radius_rows(const Comm& comm, const HostMatrix<double>& x, index_t n) {
  const index_t rows = x.rows, d = x.cols;
  std::vector<double> mean(std::size_t(d), 0.0);
  sum_in_row_order(comm, mean.data(), int(d), [&](double* m) {
    for (index_t i = 0; i < rows; ++i) {
      for (index_t k = 0; k < d; ++k) m[k] += x.data[std::size_t(i * d + k)];
    }
  });
  for (double& m : mean) m /= double(n);
  double sum = 0;
  sum_in_row_order(comm, &sum, 1, [&](double* acc) {
    for (index_t i = 0; i < rows; ++i) {
      double s = 0;
      for (index_t k = 0; k < d; ++k) {
        const double z = x.data[std::size_t(i * d + k)] - mean[std::size_t(k)];
        s += z * z;
      }
      *acc += std::sqrt(s);
    }
  });
  return sum / double(n);
}

bool has_aggregation_metrics(const FlowConfig& cfg) {
  if (cfg.functional != FunctionalKind::interaction) return false;
  return cfg.kernel == KernelKind::quartic_quadratic ||
         (cfg.kernel == KernelKind::log_quadratic && cfg.initial.d == 1);
}

void evaluate_aggregation(const FlowConfig& cfg, StepInfo& s, const HostMatrix<double>& x) {
  if (!has_aggregation_metrics(cfg) || x.rows < 1) return;
  if (cfg.kernel == KernelKind::quartic_quadratic) s.ring_radius = mean_radius(x);
  if (cfg.kernel == KernelKind::log_quadratic && x.cols == 1) {
    s.w1_semicircle = w1_to_semicircle(x.data);
  }
}

}  // namespace nwgf
