// `nwgf run --trace FILE` and `[output] trace = true`: a valid Chrome Trace Event JSON with
// properly nested spans on each track that cover >= 95% of the run; manifest.json's per-phase
// summary and the final line's top phases; a bad --trace is exit 2 with one `error:` line.
//
// Coverage is wall time: on an idle machine the spans cover 99.98% of this run (gaps of a few
// microseconds between spans), but a process descheduled in a gap on a loaded machine leaves
// gaps of 10-20 ms (seen at load 7 on 2 cores: 0.991). An uninstrumented phase is in every run,
// a preemption is not: the run is repeated (at most three times) until one attempt covers 95%,
// and the check fails only if none does.
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

constexpr int kAttempts = 3;

double trace_coverage(const std::string& path) {
  return nwgf::test::summarise_trace(nwgf::test::parse_json(nwgf::test::slurp(path))).coverage;
}

// The share of the run that manifest.json's phases cover.
double phase_share(const std::string& run_dir) {
  const JsonValue m = nwgf::test::parse_json(nwgf::test::slurp(run_dir + "/manifest.json"));
  double share = 0;
  if (m.has("phases")) {
    for (const auto& [name, p] : m["phases"].object) share += p["share"].number;
  }
  return share;
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
  CHECK(t.last_counter.at("gemm_flops") > 0);
  CHECK(t.last_counter.at("pairs") > 0);
  CHECK(t.last_counter.at("bytes_written") > 0);
}

}  // namespace

TEST_CASE("--trace: valid, nested, covering; manifest phases; the final line's top phases") {
  const std::string dir = fresh("trace_cli");
  const std::string config = write_config(dir);
  const std::string trace = dir + "/sub/dir/trace.json";  // missing directories are made
  nwgf::test::CliResult r;
  double coverage = 0, phases = 0;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    fs::remove_all(dir + "/sub");
    fs::remove_all(dir + "/run");
    r = nwgf::test::run_cli("--threads 2 run '" + config + "' --out '" + dir + "/run' --trace '" +
                            trace + "'");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    coverage = trace_coverage(trace);
    phases = phase_share(dir + "/run");
    MESSAGE("attempt " << attempt + 1 << ": spans cover " << coverage << " of the run, phases "
                       << phases);
    if (coverage >= 0.95 && phases >= 0.95) break;
  }
  INFO("stderr: " << r.err);
  CHECK(coverage >= 0.95);
  CHECK(phases >= 0.95);
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
  CHECK(share == doctest::Approx(phases).epsilon(1e-12));
  CHECK(m["phases"].has("network backward"));
  CHECK(m["counters"]["gemm_flops"].number > 0);
  // The last stderr line names the top phases, the longest first.
  const std::string last = r.err.substr(r.err.rfind("done: "));
  CHECK(last.find("top phases: " + top_name + " ") != std::string::npos);
}

TEST_CASE("[output] trace = true: trace.json in the run directory; off: none") {
  const std::string dir = fresh("trace_cli_config");
  const std::string config = write_config(dir);
  nwgf::test::CliResult r;
  double coverage = 0;
  for (int attempt = 0; attempt < kAttempts && coverage < 0.95; ++attempt) {
    fs::remove_all(dir + "/on");
    r = nwgf::test::run_cli("--threads 1 run '" + config + "' --out '" + dir +
                            "/on' --set output.trace=true --set output.plots=false");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    coverage = trace_coverage(dir + "/on/trace.json");
    MESSAGE("attempt " << attempt + 1 << ": spans cover " << coverage << " of the run");
  }
  CHECK(coverage >= 0.95);
  const JsonValue doc = nwgf::test::parse_json(nwgf::test::slurp(dir + "/on/trace.json"));
  const nwgf::test::TraceSummary t = nwgf::test::summarise_trace(doc);
  CHECK(t.problem.empty());
  CHECK(t.names.count("step") == 1);
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
