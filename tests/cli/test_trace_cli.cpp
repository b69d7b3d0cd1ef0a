// `nwgf run --trace FILE` and `[output] trace = true`: a valid Chrome Trace Event JSON with
// properly nested spans on each track that cover >= 95% of the run; manifest.json's per-phase
// summary and the final line's top phases; a bad --trace is exit 2 with one `error:` line.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/helpers.hpp"
#include "tests/json_reader.hpp"
#include "tests/trace_check.hpp"

namespace fs = std::filesystem;
using nwgf::test::JsonValue;

namespace {

// A small neural forward run (network, Adam, pair terms, evaluation, snapshots, plots).
std::string write_config(const std::string& dir) {
  fs::create_directories(dir);
  const std::string path = dir + "/run.toml";
  std::ofstream(path) << R"(seed = 3
[flow]
scheme = "forward"
tau = 0.05
steps = 3
[functional]
kind = "interaction"
r = 1.0
[initial]
kind = "dirac"
n = 300
d = 2
[network]
hidden = [16, 16]
[train]
iterations = 20
iterations_first = 20
batch = 100
[output]
every = 2
plot_size = 64
gif = false
progress = false
[eval]
reference = 500
)";
  return path;
}

std::string fresh(const std::string& name) {
  const std::string p = nwgf::test::tmp_path(name);
  fs::remove_all(p);
  return p;
}

void check_trace_file(const std::string& path) {
  const std::string text = nwgf::test::slurp(path);
  REQUIRE_FALSE(text.empty());
  const JsonValue doc = nwgf::test::parse_json(text);
  const nwgf::test::TraceSummary t = nwgf::test::summarise_trace(doc);
  CHECK_MESSAGE(t.problem.empty(), t.problem);
  for (const char* name : {"run", "setup", "step", "network forward", "network backward", "adam",
                           "functional", "pairwise terms", "batch sampling", "push", "evaluation",
                           "snapshot write", "checkpoint write", "metrics write", "plots"}) {
    CHECK_MESSAGE(t.names.count(name) == 1, "no span " << name);
  }
  CHECK(t.tids.count(0) == 1);
  CHECK(t.coverage >= 0.95);
  CHECK(t.last_counter.at("gemm_flops") > 0);
  CHECK(t.last_counter.at("pairs") > 0);
  CHECK(t.last_counter.at("bytes_written") > 0);
}

}  // namespace

TEST_CASE("--trace: valid, nested, covering; manifest phases; the final line's top phases") {
  const std::string dir = fresh("trace_cli");
  const std::string config = write_config(dir);
  const std::string trace = dir + "/sub/dir/trace.json";  // missing directories are made
  const auto r = nwgf::test::run_cli("--threads 2 run '" + config + "' --out '" + dir +
                                     "/run' --trace '" + trace + "'");
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  check_trace_file(trace);
  CHECK_FALSE(fs::exists(dir + "/run/trace.json"));

  const JsonValue m = nwgf::test::parse_json(nwgf::test::slurp(dir + "/run/manifest.json"));
  CHECK(m["status"].string == "done");
  REQUIRE(m.has("phases"));
  double share = 0, top = 0;
  std::string top_name;
  for (const auto& [name, p] : m["phases"].object) {
    CHECK(p["seconds"].number >= 0);
    share += p["share"].number;
    if (p["seconds"].number > top) {
      top = p["seconds"].number;
      top_name = name;
    }
  }
  CHECK(share <= 1.0 + 1e-6);
  CHECK(share >= 0.95);
  CHECK(m["phases"].has("network backward"));
  CHECK(m["counters"]["gemm_flops"].number > 0);
  // The last stderr line names the top phases, the longest first.
  const std::string last = r.err.substr(r.err.rfind("done: "));
  CHECK(last.find("top phases: " + top_name + " ") != std::string::npos);
}

TEST_CASE("[output] trace = true: trace.json in the run directory; off: none") {
  const std::string dir = fresh("trace_cli_config");
  const std::string config = write_config(dir);
  auto r = nwgf::test::run_cli("--threads 1 run '" + config + "' --out '" + dir +
                               "/on' --set output.trace=true --set output.plots=false");
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const JsonValue doc = nwgf::test::parse_json(nwgf::test::slurp(dir + "/on/trace.json"));
  const nwgf::test::TraceSummary t = nwgf::test::summarise_trace(doc);
  CHECK(t.problem.empty());
  CHECK(t.names.count("step") == 1);
  CHECK(t.coverage >= 0.95);
  r = nwgf::test::run_cli("--threads 1 run '" + config + "' --out '" + dir +
                          "/off' --set output.plots=false");
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(fs::exists(dir + "/off/trace.json"));
  // The phase summary is there without a trace file too.
  const JsonValue m = nwgf::test::parse_json(nwgf::test::slurp(dir + "/off/manifest.json"));
  CHECK(m["phases"].has("step"));
}

TEST_CASE("--trace: empty, a directory, below a file: exit 2 before anything runs") {
  const std::string dir = fresh("trace_cli_bad");
  const std::string config = write_config(dir);
  std::ofstream(dir + "/file") << "in the way\n";
  for (const std::string& bad : {std::string(""), dir, dir + "/file/trace.json"}) {
    const auto r = nwgf::test::run_cli("run '" + config + "' --out '" + dir + "/run' --trace '" +
                                       bad + "'");
    INFO("--trace '" << bad << "': " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("error: --trace", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK_FALSE(fs::exists(dir + "/run/manifest.json"));
  }
}
