// The variational JKO paper's OU experiment (Sect. 4.2), quick variant, through `nwgf run`: the
// moment fit of the particles against the exact discrete JKO iterate and the continuous flow.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tests/cli/test_experiments.hpp"

using namespace nwgf;

namespace {
// The OU runs' training is chaotic in the bits: another thread count or SIMD target (another
// CPU: NWGF_SIMD=avx2 on a Zen 4 already changes every digit) is, for the outcome, another draw.
// Measured on a 2-core AMD EPYC Zen 4 over seeds 1..8 at 1 and 2 threads (16 runs each): most
// runs end with symkl_jko and symkl_exact of 1e-4..1e-3, but the spread is wide and a few runs
// lose a step (ou_d2_quick with 3 critic steps per map step: 2 of 16 runs peaked at 0.37 and
// 1.6; ou_d2_icnn_quick: 1 of 16 at 0.38). A bound on one seed is a coin toss on a new machine,
// so each test runs seeds 1..7 and bounds the median over the seeds of each statistic (with
// 2 of 16 runs over a bound, 4 of 7 over it happen about once in 170 machines), and
// every run must end within 0.1 of P_1 (a flow that does not move ends 1.3 away; one whose time
// is off by 20 % ends 1e-2 away, by a factor 2 about 0.05).
struct OuSummary {
  double worst_jko = 0, last_jko = 0, last_exact = 0, first_f = 0;
};
std::vector<OuSummary> run_ou_seeds(const std::string& name) {
  std::vector<OuSummary> runs;
  for (int seed = 1; seed <= 7; ++seed) {
    const test::Metrics m = test::run_experiment(name, "--set seed=" + std::to_string(seed));
    const auto t = m.column("time"), jko = m.column("symkl_jko"), exact = m.column("symkl_exact");
    const auto f = m.column("functional");
    INFO(name << " seed " << seed << ": t = " << t.back() << ", symkl_jko " << jko.back()
              << ", symkl_exact " << exact.back() << ", F^ " << f.back());
    CHECK(std::fabs(t.back() - 1.0) < 1e-9);
    CHECK(exact.back() < 0.1);
    // The estimate ends at the order of KL(P_20 || Q) = 0.047 (from about 1 after step 1: the
    // median below; a run that loses its first step starts near -0.5).
    CHECK(std::fabs(f.back()) < 0.2);
    OuSummary s;
    s.first_f = f[1];
    for (double v : jko) s.worst_jko = std::max(s.worst_jko, v);
    s.last_jko = jko.back();
    s.last_exact = exact.back();
    runs.push_back(s);
  }
  return runs;
}
double median_of(const std::vector<OuSummary>& runs, double OuSummary::*field) {
  std::vector<double> v;
  for (const OuSummary& r : runs) v.push_back(r.*field);
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

TEST_CASE("experiment ou_d2_quick") {
  // Seed 1 measured here (2-core AMD EPYC, 2 threads, 4 s of CPU): at t = 1 symkl_jko 3.3e-4,
  // symkl_exact 4.5e-4 (the moment-fit floor of 20000 particles is about 1e-4; the exact JKO
  // iterate is 3.5e-4 from P_t), F^ 0.045 vs KL(P_20 || Q) = 0.047 of the exact iterate.
  // Medians over seeds 1..7 at 2 threads: worst step 1.4e-3, end 3.5e-4 (jko) and 6.4e-4
  // (exact); the bounds leave a factor 8 to 15.
  const std::vector<OuSummary> runs = run_ou_seeds("ou_d2_quick");
  CHECK(median_of(runs, &OuSummary::worst_jko) < 2e-2);
  CHECK(median_of(runs, &OuSummary::last_jko) < 5e-3);
  CHECK(median_of(runs, &OuSummary::last_exact) < 5e-3);
  CHECK(median_of(runs, &OuSummary::first_f) > 0.5);
}

TEST_CASE("experiment ou_d2_icnn_quick") {
  // ou_d2_quick with an ICNN map T = grad phi (one hidden layer of 64, pretrained to the
  // identity). Seed 1 measured here (2-core AMD EPYC, loaded): at t = 1 symkl_jko 5.4e-4 (the
  // MLP map: 3.2e-4), symkl_exact 1.1e-3, the largest symkl_jko over the steps 1.6e-3; F^ 0.050.
  // Its spread over seeds is wider than the MLP's: medians over seeds 1..7 at 2 threads worst
  // step 5.4e-3, end 2.2e-3 (jko) and 1.8e-3 (exact); the bounds leave a factor 5 to 9.
  const std::vector<OuSummary> runs = run_ou_seeds("ou_d2_icnn_quick");
  CHECK(median_of(runs, &OuSummary::worst_jko) < 5e-2);
  CHECK(median_of(runs, &OuSummary::last_jko) < 1e-2);
  CHECK(median_of(runs, &OuSummary::last_exact) < 1e-2);
  CHECK(median_of(runs, &OuSummary::first_f) > 0.5);
}

TEST_CASE("experiment porous_d1_quick") {
  // Measured here (7 s of CPU): at t = 0.01 (T = 0.012) w1_radial 3.2e-3 (the support radius is
  // 0.48), E|X|^2 0.0436 vs 0.0454 for the mass-1 Barenblatt profile; F^ 2.01 -> 1.31.
  const test::Metrics m = test::run_experiment("porous_d1_quick");
  const auto w1 = m.column("w1_radial"), m2 = m.column("second_moment");
  const auto m2x = m.column("second_moment_exact"), f = m.column("functional");
  INFO("w1_radial " << w1.back() << ", E|X|^2 " << m2.back() << " vs " << m2x.back());
  for (double w : w1) CHECK(w < 0.01);
  CHECK(std::fabs(m2.back() / m2x.back() - 1) < 0.1);
  CHECK(m2.back() > 2.5 * m2.front());  // the profile spreads: 0.0137 -> 0.045 exactly
  test::check_decreases("porous_d1_quick", std::vector<double>(f.begin() + 1, f.end()), 0.8, 1.1);
}
