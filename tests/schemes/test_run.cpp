// `nwgf run`: the run directory (manifest, metrics, snapshots, plots), --resume bit for bit,
// NaN -> exit 3 with the last good checkpoint kept.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/helpers.hpp"

using namespace nwgf;
namespace fs = std::filesystem;

namespace {

const char* small_backward = R"(
seed = 11
[flow]
scheme = "backward"
tau = 0.05
steps = 4
[functional]
kind = "interaction"
r = 1.0
[initial]
kind = "dirac"
n = 300
d = 2
[network]
hidden = [32, 32]
[train]
iterations = 25
iterations_first = 40
batch = 100
[output]
every = 2
progress = false
[eval]
reference = 600
)";

std::string config_file(const std::string& name, const std::string& text) {
  const std::string p = test::tmp_path(name);
  std::ofstream(p) << text;
  return p;
}

std::string fresh_dir(const std::string& name) {
  const std::string d = test::tmp_path(name);
  fs::remove_all(d);
  return d;
}

test::CliResult run(const std::string& cfg, const std::string& out, const std::string& extra = "") {
  return test::run_cli("--threads 2 run '" + cfg + "' --out '" + out + "' " + extra);
}

int count_lines(const std::string& text) {
  return int(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("nwgf run: run directory layout") {
  const std::string cfg = config_file("run_layout.toml", small_backward);
  const std::string out = fresh_dir("run_layout");
  const auto r = run(cfg, out, "--set flow.steps=3");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::string manifest = test::slurp(out + "/manifest.json");
  CHECK(manifest.find("\"status\": \"done\"") != std::string::npos);
  CHECK(manifest.find("\"backend\": \"cpu\"") != std::string::npos);
  CHECK(manifest.find("\"seed\": 11") != std::string::npos);
  CHECK(manifest.find("\"version\"") != std::string::npos);
  CHECK(manifest.find("\"scheme\"") != std::string::npos);
  const std::string metrics = test::slurp(out + "/metrics.csv");
  CHECK(metrics.rfind("step,time,tau,loss,functional,wall_seconds,mmd2_analytic,mmd2_iterate\n", 0) ==
        0);
  CHECK(count_lines(metrics) == 5);  // header + steps 0..3
  for (const char* f : {"snapshots/step_000000.npy", "snapshots/step_000002.npy",
                        "snapshots/step_000003.npy", "plots/step_000000.png",
                        "plots/step_000003.png", "plots/metrics.png", "checkpoint.bin",
                        "config.toml"}) {
    CHECK_MESSAGE(fs::exists(out + "/" + f), f);
  }
  CHECK_FALSE(fs::exists(out + "/snapshots/step_000001.npy"));
  // PNG signature.
  CHECK(test::slurp(out + "/plots/metrics.png").substr(1, 3) == "PNG");
  // The resolved config is a valid config.
  const auto again = run(out + "/config.toml", fresh_dir("run_layout_again"), "--set flow.steps=1");
  CHECK_MESSAGE(again.exit_code == 0, again.err);
}

TEST_CASE("nwgf run --resume: same final snapshot, bit for bit") {
  const std::string cfg = config_file("run_resume.toml", small_backward);
  const std::string full = fresh_dir("run_full"), part = fresh_dir("run_part");
  auto r = run(cfg, full);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = run(cfg, part, "--set flow.steps=2");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  r = run(cfg, part, "--resume");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::string a = test::slurp(full + "/snapshots/step_000004.npy");
  const std::string b = test::slurp(part + "/snapshots/step_000004.npy");
  REQUIRE(a.size() > 128);
  CHECK(a == b);
  CHECK(count_lines(test::slurp(part + "/metrics.csv")) == 6);
  // Changing the dynamics on resume is refused.
  r = run(cfg, part, "--resume --set flow.tau=0.1");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--resume") != std::string::npos);
  // Nothing to resume from.
  r = run(cfg, fresh_dir("run_nothing"), "--resume");
  CHECK(r.exit_code == 2);
}

TEST_CASE("nwgf run: NaN exits 3 and keeps the last good checkpoint") {
  const std::string cfg = config_file("run_nan.toml", small_backward);
  const std::string full = fresh_dir("run_nan_full"), bad = fresh_dir("run_nan");
  auto r = run(cfg, full);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  // Test hook: poison the samples with NaN after step 3.
  r = run(cfg, bad, "--set output.blowup_step=3");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("NaN") != std::string::npos);
  CHECK(test::slurp(bad + "/manifest.json").find("\"status\": \"failed\"") != std::string::npos);
  // The checkpoint is the one of step 2: resuming from it reproduces the clean run.
  r = run(cfg, bad, "--resume");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(test::slurp(full + "/snapshots/step_000004.npy") ==
        test::slurp(bad + "/snapshots/step_000004.npy"));
}

TEST_CASE("nwgf run: the particle flow and the forward scheme run from the CLI") {
  const std::string cfg = config_file("run_schemes.toml", small_backward);
  auto r = run(cfg, fresh_dir("run_particle"),
               "--set flow.scheme=particle --set initial.kind=square --set output.plots=false");
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  r = run(cfg, fresh_dir("run_forward"), "--set flow.scheme=forward --set flow.steps=2");
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  r = run(cfg, fresh_dir("run_forward_r05"),
          "--set flow.scheme=forward --set functional.r=0.5");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("undefined for r < 1") != std::string::npos);
}
