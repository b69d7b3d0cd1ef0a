// The variational JKO scheme on CUDA against the CPU path (every CUDA piece of a step: batch
// gather, Philox samples of Gamma, the map and critic networks with PReLU, the critic and map
// rows, Adam, the push; the potential rows and the fb forward step of a sum): a few steps of kl,
// entropy, a potential and a sum in double precision, the particles and
// the metrics must agree to rounding.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "nwgf/schemes/flow.hpp"

using namespace nwgf;

namespace {

RunResult run(const std::string& text, BackendChoice backend) {
  RunOptions opt;
  opt.backend = backend;
  opt.threads = 2;
  return run_flow(parse_flow_config(text, "variational.toml"), opt);
}

void compare(const std::string& text) {
  const RunResult c = run(text, BackendChoice::cpu), g = run(text, BackendChoice::cuda);
  CHECK(g.device == Device::cuda);
  REQUIRE(c.samples.data.size() == g.samples.data.size());
  double e = 0, s = 1e-30;
  for (std::size_t i = 0; i < c.samples.data.size(); ++i) {
    e = std::max(e, std::fabs(c.samples.data[i] - g.samples.data[i]));
    s = std::max(s, std::fabs(c.samples.data[i]));
  }
  CHECK(e / s < 1e-8);
  REQUIRE(c.metrics.size() == g.metrics.size());
  for (std::size_t k = 1; k < c.metrics.size(); ++k) {
    CHECK(g.metrics[k].loss == doctest::Approx(c.metrics[k].loss).epsilon(1e-8));
    CHECK(g.metrics[k].functional == doctest::Approx(c.metrics[k].functional).epsilon(1e-8));
  }
}

const char* common = R"(
seed = 4
[flow]
scheme = "variational"
tau = 0.05
steps = 2
dtype = "f64"
[initial]
kind = "gaussian"
n = 700
d = 2
radius = 0.5
[network]
hidden = [16, 16]
activation = "prelu"
[critic]
hidden = [16]
[train]
iterations = 6
inner = 2
batch = 100
[output]
progress = false
)";

}  // namespace

TEST_CASE("CUDA variational JKO steps (kl, entropy) match the CPU path") {
  compare(std::string(common) + R"(
[functional]
kind = "kl"
[target]
kind = "gaussian"
points = [[0.5, 0.2]]
radius = 0.7
)");
  compare(std::string(common) + R"(
[functional]
kind = "entropy"
m = 2
)");
}

TEST_CASE("CUDA variational sums (potential rows, a weighted kl, the fb forward step), interaction and potential alone match the CPU path") {
  std::string text = common;
  const std::string steps = "steps = 2\n";
  text.replace(text.find(steps), steps.size(), steps + "fb = true\n");
  compare(text + R"(
[functional]
kind = "sum"
[[functional.terms]]
kind = "kl"
weight = 0.5
[[functional.terms]]
kind = "potential"
weight = 0.3
[[functional.terms]]
kind = "interaction"
kernel = "gaussian_attraction"
weight = 2.0
[target]
kind = "mixture"
[[target.components]]
mean = [0.5, 0.2]
cov = [[0.5, 0.1], [0.1, 0.4]]
weight = 1.0
[[target.components]]
mean = [-0.5, 0.3]
cov = [[0.3, 0.0], [0.0, 0.6]]
weight = 2.0
)");
  // The backward interaction step (no critic): the batch U-statistic and its gradient.
  compare(std::string(common) + R"(
[functional]
kind = "interaction"
kernel = "quartic_quadratic"
)");
  // A potential alone: no critic.
  compare(std::string(common) + R"(
[functional]
kind = "potential"
[target]
kind = "gaussian"
points = [[0.5, 0.2]]
cov = [[0.5, 0.1], [0.1, 0.4]]
)");
}
