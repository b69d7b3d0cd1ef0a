#pragma once
// Shared by tests/cli/test_experiments*.cpp: running a tools/experiments/*_quick.toml config through
// the CLI and reading its metrics.csv.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "nwgf/schemes/run/run_dir.hpp"
#include "tests/helpers.hpp"

namespace nwgf::test {

// The columns of a run's metrics.csv (read by the library's RunDirectory); empty cells are NaN.
struct Metrics {
  MetricsTable table;

  std::vector<double> column(const std::string& name) const {
    const std::size_t at = table.column(name);
    REQUIRE_MESSAGE(at != table.columns.size(), "no column " << name);
    std::vector<double> c;
    for (const auto& r : table.rows) c.push_back(r[at]);
    return c;
  }
};

// The experiments' thread count, set per test executable by tests/CMakeLists.txt together with
// the ctests' PROCESSORS: 1 for most, so that `ctest -j 2` runs two side by side (on 2 cores
// that is faster than one at a time on 2 threads: these runs are small, and their OpenMP
// barriers and BLAS calls scale poorly). The thread count is part of a run's bits (reductions
// split by threads); the checks' bounds hold at 1 and 2 threads, except the variational
// experiments', whose training is sensitive to the bits: they keep 2 (tests/CMakeLists.txt).
#ifndef NWGF_EXPERIMENT_THREADS
#define NWGF_EXPERIMENT_THREADS 1
#endif
inline const std::string experiment_threads =
    "--threads " + std::to_string(NWGF_EXPERIMENT_THREADS) + " ";

// Runs tools/experiments/NAME.toml as CI does (experiment_threads; passive OpenMP waiting, so
// that a loaded machine does not spin threads against each other) and returns its metrics. (The
// configs name their data files relative to themselves; the run starts at the repository root.)
inline Metrics run_experiment(const std::string& name, const std::string& extra = "") {
  std::filesystem::current_path(NWGF_SOURCE_DIR);
  const std::string out = tmp_path("exp_" + name);
  std::filesystem::remove_all(out);
  const CliResult r = run_cli(experiment_threads + "run tools/experiments/" + name + ".toml --out '" + out +
                                  "' --set output.progress=false " + extra,
                              "OMP_WAIT_POLICY=passive");
  INFO(name << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return Metrics{RunDirectory(out).read_metrics()};
}

// The functional f (the MMD^2 to the target for kind = "mmd") ends below `fraction` of its start
// and never exceeds `rise` times its smallest value so far (a stochastic flow may wobble, but it
// must not run away).
inline void check_decreases(const std::string& name, const std::vector<double>& f, double fraction,
                            double rise) {
  INFO(name << ": start " << f.front() << ", end " << f.back());
  REQUIRE(f.size() >= 2);
  CHECK(f.back() < fraction * f.front());
  double lowest = f.front();
  for (std::size_t k = 1; k < f.size(); ++k) {
    INFO("row " << k << ": " << f[k] << " after a minimum of " << lowest);
    CHECK(std::isfinite(f[k]));
    CHECK(f[k] <= rise * lowest);
    lowest = std::min(lowest, f[k]);
  }
}

}  // namespace nwgf::test
