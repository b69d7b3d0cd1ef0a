// The variational JKO paper's aggregation examples (App. C.2), quick variants with the particle
// scheme, through `nwgf run`: the steady states' closed forms from metrics.csv (ring_radius,
// w1_semicircle; schemes/run/aggregation_metrics.hpp).
#include <doctest/doctest.h>

#include <cmath>

#include "tests/cli/test_experiments.hpp"

using namespace nwgf;

TEST_CASE("experiment aggregation_quartic_particle_quick") {
  // W = |z|^4/4 - |z|^2/2 in 2-D: the particles settle on the ring of radius 1/sqrt(3).
  const test::Metrics m = test::run_experiment("aggregation_quartic_particle_quick");
  const auto radius = m.column("ring_radius"), f = m.column("functional");
  const double want = 1.0 / std::sqrt(3.0);
  INFO("ring_radius " << radius.front() << " -> " << radius.back() << " (1/sqrt(3) = " << want
                      << "), F " << f.front() << " -> " << f.back());
  CHECK(std::fabs(radius.back() - want) < 1e-3);
  CHECK(std::fabs(radius.front() - want) > 0.05);  // N(0, 0.25 I): E|X| = 0.627
  // F (negative here) never rises: a gradient flow with a small step.
  for (std::size_t k = 1; k < f.size(); ++k) CHECK(f[k] <= f[k - 1] + 1e-12 * std::fabs(f[k - 1]));
}

TEST_CASE("experiment aggregation_log_particle_quick") {
  // W = x^2/2 - ln|x| in 1-D: the particles settle on the semicircle law on [-sqrt2, sqrt2].
  const test::Metrics m = test::run_experiment("aggregation_log_particle_quick");
  const auto w1 = m.column("w1_semicircle"), f = m.column("functional");
  INFO("w1_semicircle " << w1.front() << " -> " << w1.back() << ", F " << f.front() << " -> "
                        << f.back());
  CHECK(w1.back() < 0.01);
  CHECK(w1.front() > 0.1);  // N(0, 1): about 0.23
}
