// Dropout on the variational scheme's map T (network.dropout): a run repeats bit for bit, resumes
// bit for bit (the masks are addressed by seed, step and iteration), differs from the run
// without dropout, and network.dropout = 0 is the run without the key.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "nwgf/schemes/flow.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {

const char* config = R"(
seed = 3
[flow]
scheme = "variational"
tau = 0.05
steps = 4
[functional]
kind = "kl"
[initial]
kind = "gaussian"
n = 400
d = 2
radius = 1.0
[target]
kind = "gaussian"
points = [[1.0, 0.0]]
radius = 0.8
[network]
hidden = [16, 16, 16]
activation = "prelu"
[critic]
hidden = [16]
[train]
iterations = 15
batch = 100
[output]
progress = false
plots = false
)";

RunResult run(const std::vector<std::string>& sets, const std::string& out = "",
              bool resume = false) {
  RunOptions opt;
  opt.backend = BackendChoice::cpu;
  opt.threads = 1;
  opt.out_dir = out;
  opt.resume = resume;
  return run_flow(parse_flow_config(config, "v.toml", sets), opt);
}

}  // namespace

TEST_CASE("variational runs with dropout on T repeat, resume and differ from p = 0") {
  const RunResult plain = run({});
  const RunResult zero = run({"network.dropout=0.0"});
  CHECK(zero.samples.data == plain.samples.data);
  CHECK(zero.metrics.back().functional == plain.metrics.back().functional);
  const RunResult a = run({"network.dropout=0.04"}), b = run({"network.dropout=0.04"});
  CHECK(a.samples.data == b.samples.data);
  CHECK(a.samples.data != plain.samples.data);
  const std::string dir = test::tmp_path("variational_dropout_resume");
  std::filesystem::remove_all(dir);
  run({"network.dropout=0.04", "flow.steps=2"}, dir);
  const RunResult resumed = run({"network.dropout=0.04"}, dir, true);
  CHECK(resumed.samples.data == a.samples.data);
  CHECK(resumed.metrics.back().functional == a.metrics.back().functional);
  // The key is written (config.toml, manifest.json) only when not 0.
  CHECK(test::slurp(dir + "/manifest.json").find("dropout") != std::string::npos);
  const std::string dir0 = test::tmp_path("variational_dropout_zero");
  std::filesystem::remove_all(dir0);
  run({}, dir0);
  CHECK(test::slurp(dir0 + "/manifest.json").find("dropout") == std::string::npos);
}
