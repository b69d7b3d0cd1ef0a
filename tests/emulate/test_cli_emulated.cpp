// End to end on the emulated device: `nwgf run --backend cuda` (every CUDA path of a scheme: rng,
// network, pairwise sums, Adam, scheme ops) against `--backend cpu`, on shrunken experiment
// configs; metrics.csv must agree up to float summation order.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "tests/helpers.hpp"
#include "tests/json_reader.hpp"
#include "tests/trace_check.hpp"

namespace {

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(nwgf::test::slurp(path));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

std::vector<std::vector<std::string>> run(const std::string& config, const std::string& backend) {
  const std::string out = nwgf::test::tmp_path("emu_e2e_" + config + "_" + backend);
  const std::string shrink =
      " --set flow.steps=2 --set train.iterations=10 --set train.iterations_first=10"
      " --set initial.n=300 --set train.batch=100 --set eval.reference=500 --set output.every=1";
  const auto r = nwgf::test::run_cli("run '" + std::string(NWGF_SOURCE_DIR) +
                                     "/tools/experiments/" + config + ".toml' --backend " +
                                     backend + " --out '" + out + "'" + shrink);
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  return read_csv(out + "/metrics.csv");
}

}  // namespace

TEST_CASE("nwgf run: the emulated CUDA backend reproduces the CPU backend's metrics") {
  for (const char* config : {"quickstart", "sect61_backward_d2_r15_quick",
                             "sect61_particle_d2_r05_quick", "energy33_backward"}) {
    CAPTURE(config);
    const auto cpu = run(config, "cpu"), gpu = run(config, "cuda");
    REQUIRE(cpu.size() >= 3);
    REQUIRE(gpu.size() == cpu.size());
    const auto& header = cpu[0];
    for (std::size_t i = 1; i < cpu.size(); ++i) {
      REQUIRE(gpu[i].size() == cpu[i].size());
      for (std::size_t j = 0; j < cpu[i].size(); ++j) {
        if (header[j] == "wall_seconds" || cpu[i][j].empty()) {
          CHECK(gpu[i][j].empty() == cpu[i][j].empty());
          continue;
        }
        const double c = std::stod(cpu[i][j]), g = std::stod(gpu[i][j]);
        CAPTURE(header[j]);
        CAPTURE(i);
        CHECK(std::fabs(g - c) <= 1e-4 * std::fabs(c) + 1e-7);
      }
    }
  }
}

TEST_CASE("nwgf run --backend cuda --trace: the stream's track beside the host's") {
  const std::string out = nwgf::test::tmp_path("emu_trace_run");
  const std::string trace = out + "/trace.json";
  const auto r = nwgf::test::run_cli(
      "run '" + std::string(NWGF_SOURCE_DIR) + "/tools/experiments/quickstart.toml' --backend " +
      "cuda --out '" + out + "' --trace '" + trace + "' --set flow.steps=2 --set " +
      "train.iterations=5 --set train.iterations_first=5 --set initial.n=200 --set " +
      "train.batch=64 --set eval.reference=300 --set output.every=1");
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  const nwgf::test::TraceSummary t =
      nwgf::test::summarise_trace(nwgf::test::parse_json(nwgf::test::slurp(trace)));
  REQUIRE_MESSAGE(t.problem.empty(), t.problem);  // every track nests, the stream's too
  CHECK(t.coverage >= 0.95);
  REQUIRE(t.device_tracks.size() == 1);
  const nwgf::test::DeviceTrackSummary& d = t.device_tracks[0];
  CHECK(d.process == "GPU 0");
  CHECK(d.thread == "stream 0");
  for (const char* name :
       {"run", "step", "network forward", "network backward", "adam", "pairwise terms"}) {
    CHECK_MESSAGE(d.names.count(name) == 1, "no device span " << name);
  }
  // Inside the session: the emulated stream reaches each event at its record, so the device spans
  // also end by the host's "run".
  CHECK(d.first_us >= 0);
  CHECK(d.last_end_us <= t.root_end_us + 1e-3);
}
