#include "nwgf/schemes/variational/mixture_metrics.hpp"

#include <cmath>
#include <vector>

#include "nwgf/analytic/gaussian_mixture_math.hpp"
#include "nwgf/schemes/measures.hpp"
#include "nwgf/schemes/schemes.hpp"

namespace nwgf {

std::optional<MixtureProblem> mixture_problem(const FlowConfig& cfg) {
  if (cfg.scheme != SchemeKind::variational || cfg.functional != FunctionalKind::kl) return {};
  if (cfg.target.kind != MeasureKind::mixture || cfg.initial.n < 1) return {};
  MixtureProblem p{mixture_of(cfg.target, "target"), {}, 0};
  const index_t n = cfg.initial.n, d = p.target.dim();
  p.sample.rows = n;
  p.sample.cols = d;
  p.sample.data.assign(std::size_t(n * d), 0.0);
  p.target.sample(n, cfg.seed, mixture_sample_stream(), p.sample.data.data());
  p.self_term = mean_distance(p.sample.data.data(), n, p.sample.data.data(), n, d);
  return p;
}

// A stream no step of the run uses (the reference purpose, step 2^47 - 1).
std::uint64_t mixture_sample_stream() {
  return random_stream(RandomPurpose::reference, (std::uint64_t(1) << 47) - 1);
}

double mean_distance(const double* x, index_t n, const double* y, index_t m, index_t d) {
  double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
  for (index_t i = 0; i < n; ++i) {
    const double* xi = x + i * d;
    double row = 0;
    for (index_t j = 0; j < m; ++j) {
      const double* yj = y + j * d;
      double s = 0;
      for (index_t k = 0; k < d; ++k) {
        const double z = xi[k] - yj[k];
        s += z * z;
      }
      row += std::sqrt(s);
    }
    total += row;
  }
  return total / (double(n) * double(m));
}

double energy_distance(const HostMatrix<double>& x, const HostMatrix<double>& y) {
  const index_t d = x.cols;
  return 2 * mean_distance(x.data.data(), x.rows, y.data.data(), y.rows, d) -
         mean_distance(x.data.data(), x.rows, x.data.data(), x.rows, d) -
         mean_distance(y.data.data(), y.rows, y.data.data(), y.rows, d);
}

double mixture_tv(const GaussianMixture& q, const HostMatrix<double>& x) {
  return mixture_tv_of_counts(q, mixture_counts(q, x), x.rows);
}

std::vector<index_t> mixture_counts(const GaussianMixture& q, const HostMatrix<double>& x) {
  const index_t K = q.components(), d = q.dim();
  std::vector<index_t> counts(std::size_t(K), 0);
  std::vector<double> z(static_cast<std::size_t>(d), 0.0);
  for (index_t i = 0; i < x.rows; ++i) {
    index_t best = 0;
    double best_log = -INFINITY;
    for (index_t k = 0; k < K; ++k) {
      const double l =
          q.log_weights()[std::size_t(k)] +
          gaussian_math::gaussian_log_density(x.data.data() + i * d, q.means().data() + k * d,
                                              q.chols().data() + k * d * d,
                                              q.half_logdets()[std::size_t(k)], d, z.data());
      if (l > best_log) {
        best_log = l;
        best = k;
      }
    }
    counts[std::size_t(best)] += 1;
  }
  return counts;
}

double mixture_tv_of_counts(const GaussianMixture& q, const std::vector<index_t>& counts,
                            index_t n) {
  double tv = 0;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    tv += std::fabs(double(counts[k]) / double(n) - std::exp(q.log_weights()[k]));
  }
  return 0.5 * tv;
}

void evaluate_mixture(const MixtureProblem& p, StepInfo& s, const HostMatrix<double>& x) {
  if (x.rows < 1 || x.cols != p.target.dim()) return;
  const index_t d = x.cols;
  s.energy_distance = 2 * mean_distance(x.data.data(), x.rows, p.sample.data.data(), p.sample.rows, d) -
                      mean_distance(x.data.data(), x.rows, x.data.data(), x.rows, d) - p.self_term;
  s.mixture_tv = mixture_tv(p.target, x);
}

}  // namespace nwgf
