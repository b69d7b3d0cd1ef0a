// Flow configs: parsing, --set overrides, and errors that name the key (exit 2 from the CLI).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "engine/error.hpp"
#include "schemes/config.hpp"
#include "schemes/time_steps.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {

const char* base = R"(
seed = 7
[flow]
scheme = "backward"
tau = 0.1
steps = 3
[functional]
kind = "interaction"
r = 1.5
[initial]
kind = "dirac"
n = 50
d = 2
)";

// The message of the bad-input error parse throws.
std::string parse_error(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    parse_flow_config(text, "test.toml", sets);
  } catch (const Error& e) {
    CHECK(e.exit_code() == 2);
    return e.what();
  }
  return "";
}

std::string write_config(const std::string& name, const std::string& text) {
  const std::string p = test::tmp_path(name);
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST_CASE("config: values are read and defaults resolved") {
  const FlowConfig c = parse_flow_config(base, "test.toml");
  CHECK(c.seed == 7);
  CHECK(c.scheme == "backward");
  CHECK(c.tau == doctest::Approx(0.1));
  CHECK(c.steps == 3);
  CHECK(c.r == doctest::Approx(1.5));
  CHECK(c.initial.n == 50);
  CHECK(resolved_dtype(c) == DType::f32);
  CHECK(latent_dim(c) == 2);
  CHECK_FALSE(warmup_enabled(c));
}

TEST_CASE("config: the resolved TOML round-trips") {
  FlowConfig c = parse_flow_config(base, "test.toml", {"flow.schedule=[[0, 0.1], [1, 0.5]]"});
  const FlowConfig d = parse_flow_config(to_toml(c), "resolved.toml");
  CHECK(to_toml(d) == to_toml(c));
  CHECK(d.schedule.size() == 2);
  CHECK(to_json(c).find("\"scheme\"") != std::string::npos);
}

TEST_CASE("config: --set overrides any key, values parsed as TOML") {
  const FlowConfig c = parse_flow_config(
      base, "test.toml",
      {"flow.tau=0.25", "network.hidden=[8, 4]", "flow.scheme=particle", "train.lr=1e-2"});
  CHECK(c.tau == doctest::Approx(0.25));
  CHECK(c.hidden == std::vector<index_t>{8, 4});
  CHECK(c.scheme == "particle");
  CHECK(resolved_dtype(c) == DType::f64);
  CHECK(c.lr == doctest::Approx(1e-2));
}

TEST_CASE("config: errors name the key") {
  CHECK(parse_error(std::string(base) + "[train]\nbogus = 1\n").find("train.bogus") !=
        std::string::npos);
  CHECK(parse_error(base, {"flow.tau=\"fast\""}).find("flow.tau") != std::string::npos);
  CHECK(parse_error(base, {"flow.tau=-1"}).find("flow.tau") != std::string::npos);
  CHECK(parse_error(base, {"functional.r=2.5"}).find("functional.r") != std::string::npos);
  CHECK(parse_error(base, {"flow.scheme=sideways"}).find("flow.scheme") != std::string::npos);
  CHECK(parse_error(base, {"initial.n=0"}).find("initial.n") != std::string::npos);
  CHECK(parse_error(base, {"network.hidden=[0]"}).find("network.hidden") != std::string::npos);
  CHECK(parse_error(base, {"initial.points=[[1, 2, 3]]"}).find("initial.points") !=
        std::string::npos);
  CHECK(parse_error(base, {"functional.estimator=\"sliced\""}).find("functional.estimator") !=
        std::string::npos);
  CHECK(parse_error(base, {"nonsense=1"}).find("nonsense") != std::string::npos);
  CHECK(parse_error("[flow\n").find("test.toml") != std::string::npos);
}

TEST_CASE("config: the forward scheme with r < 1 from a Dirac is rejected with the reason") {
  const std::string msg = parse_error(base, {"flow.scheme=forward", "functional.r=0.5"});
  CHECK(msg.find("functional.r") != std::string::npos);
  CHECK(msg.find("undefined for r < 1") != std::string::npos);
  CHECK(msg.find("atoms") != std::string::npos);
}

TEST_CASE("time steps: the paper's geometric warm-up for r < 1, then tau") {
  FlowConfig c = parse_flow_config(base, "test.toml", {"functional.r=0.5", "flow.tau=0.05"});
  REQUIRE(warmup_enabled(c));
  const TimeSteps ts(c);
  double t = 0;
  std::vector<double> taus;
  for (index_t n = 1; n <= 10; ++n) {
    taus.push_back(ts.tau(n, t));
    t += taus.back();
  }
  // run_interaction.py: 1e-8 ... 1e-2, then 0.05 - time, then 0.05.
  for (int k = 0; k < 7; ++k) CHECK(taus[std::size_t(k)] == doctest::Approx(std::pow(10.0, k - 8)));
  CHECK(taus[7] == doctest::Approx(0.05 - 0.01111111));
  CHECK(taus[8] == doctest::Approx(0.05));
  CHECK(t == doctest::Approx(0.05 * 3));
  CHECK_FALSE(ts.constant());
}

TEST_CASE("time steps: piecewise schedule and t_end") {
  FlowConfig c = parse_flow_config(
      base, "test.toml", {"flow.steps=0", "flow.t_end=3.0", "flow.schedule=[[0, 0.5], [1, 1.0]]"});
  const TimeSteps ts(c);
  double t = 0;
  index_t n = 0;
  std::vector<double> taus;
  while (ts.more(n + 1, t)) {
    ++n;
    taus.push_back(ts.tau(n, t));
    t += taus.back();
  }
  CHECK(taus == std::vector<double>{0.5, 0.5, 1.0, 1.0});
  CHECK(t == doctest::Approx(3.0));
}

TEST_CASE("nwgf run: config errors exit 2 naming the key") {
  const std::string p = write_config("cfg_errors.toml", base);
  auto r = test::run_cli("run '" + p + "' --out '" + test::tmp_path("cfg_err_out") +
                         "' --set train.nonsense=3");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("error: train.nonsense") != std::string::npos);
  r = test::run_cli("run '" + p + "' --set flow.steps=\"many\"");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("flow.steps") != std::string::npos);
  r = test::run_cli("run '" + p + "' --set functional.r=0");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("functional.r") != std::string::npos);
  r = test::run_cli("run '" + p + "' --set flow.scheme=forward --set functional.r=0.5");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("undefined for r < 1") != std::string::npos);
  r = test::run_cli("run '" + test::tmp_path("missing.toml") + "'");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("missing.toml") != std::string::npos);
  r = test::run_cli("run '" + p + "' --backend gpu");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--backend") != std::string::npos);
}
