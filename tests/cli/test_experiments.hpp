#pragma once
// Shared by tests/cli/test_experiments*.cpp: running a tools/experiments/*_quick.toml config through
// the CLI and reading its metrics.csv.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/helpers.hpp"

namespace nwgf::test {

// The columns of a run's metrics.csv; empty cells are NaN.
struct Metrics {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;

  std::vector<double> column(const std::string& name) const {
    const auto at = std::find(header.begin(), header.end(), name);
    REQUIRE_MESSAGE(at != header.end(), "no column " << name);
    std::vector<double> c;
    for (const auto& r : rows) c.push_back(r[std::size_t(at - header.begin())]);
    return c;
  }
};

inline std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream ls(line);
  std::string cell;
  while (std::getline(ls, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

inline Metrics read_metrics(const std::string& path) {
  std::istringstream in(slurp(path));
  std::string line;
  Metrics m;
  REQUIRE(std::getline(in, line));
  m.header = split_cells(line);
  while (std::getline(in, line)) {
    std::vector<double> row;
    for (const auto& c : split_cells(line)) row.push_back(c.empty() ? std::nan("") : std::stod(c));
    REQUIRE(row.size() == m.header.size());
    m.rows.push_back(row);
  }
  return m;
}

// Runs tools/experiments/NAME.toml as CI does (2 threads; passive OpenMP waiting, so that a
// loaded machine does not spin the threads against each other) and returns its metrics. (The
// configs name their data files relative to themselves; the run starts at the repository root.)
inline Metrics run_experiment(const std::string& name, const std::string& extra = "") {
  std::filesystem::current_path(NWGF_SOURCE_DIR);
  const std::string out = tmp_path("exp_" + name);
  std::filesystem::remove_all(out);
  const CliResult r = run_cli("--threads 2 run tools/experiments/" + name + ".toml --out '" + out +
                                  "' --set output.progress=false " + extra,
                              "OMP_WAIT_POLICY=passive");
  INFO(name << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return read_metrics(out + "/metrics.csv");
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
