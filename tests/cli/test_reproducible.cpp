// Reproducibility of `nwgf run`: the same seed and thread count give bitwise identical snapshots;
// 1 vs 2 threads agree to 1e-6 relative on a particle flow (reductions may split differently).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nwgf/engine/io/npy.hpp"
#include "tests/helpers.hpp"

namespace fs = std::filesystem;

namespace {

using nwgf::test::snapshot_names;

const char* particle = R"(
seed = 3
[flow]
scheme = "particle"
tau = 0.02
steps = 20
[functional]
kind = "interaction"
r = 1.5
[initial]
kind = "gaussian"
n = 1500
d = 3
radius = 0.5
[output]
every = 5
plots = false
progress = false
)";

// The neural forward scheme (random batches, network initialisation, Adam).
const char* forward = R"(
seed = 9
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
iterations = 10
batch = 100
[output]
every = 1
plots = false
progress = false
[eval]
reference = 300
)";

// Runs `config` into a fresh directory with `threads` threads; returns the directory.
std::string run(const std::string& name, const char* config, int threads) {
  const std::string cfg = nwgf::test::tmp_path(name + ".toml");
  std::ofstream(cfg) << config;
  const std::string out = nwgf::test::tmp_path(name);
  fs::remove_all(out);
  const auto r = nwgf::test::run_cli("--threads " + std::to_string(threads) + " run '" + cfg +
                                     "' --out '" + out + "'");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return out;
}

void check_bitwise_identical(const std::string& a, const std::string& b) {
  const auto names = snapshot_names(a);
  REQUIRE(names.size() >= 2);
  CHECK(names == snapshot_names(b));
  for (const auto& n : names) {
    INFO(n);
    const std::string x = nwgf::test::slurp(a + "/snapshots/" + n);
    CHECK(!x.empty());
    CHECK(x == nwgf::test::slurp(b + "/snapshots/" + n));
  }
}

}  // namespace

TEST_CASE("same seed, same threads: bitwise identical snapshots") {
  for (int threads : {1, 2}) {
    const std::string t = std::to_string(threads);
    check_bitwise_identical(run("repro_particle_a" + t, particle, threads),
                            run("repro_particle_b" + t, particle, threads));
  }
  check_bitwise_identical(run("repro_forward_a", forward, 2), run("repro_forward_b", forward, 2));
}

TEST_CASE("particle flow: 1 vs 2 threads agree to 1e-6 relative") {
  const std::string one = run("repro_threads_1", particle, 1);
  const std::string two = run("repro_threads_2", particle, 2);
  const auto names = snapshot_names(one);
  CHECK(names == snapshot_names(two));
  double worst = 0;
  for (const auto& n : names) {
    const auto a = nwgf::read_npy<double>(one + "/snapshots/" + n);
    const auto b = nwgf::read_npy<double>(two + "/snapshots/" + n);
    REQUIRE(a.data.size() == b.data.size());
    worst = std::max(worst, nwgf::test::max_relative_difference(a.data, b.data));
  }
  MESSAGE("max |x_1 - x_2| / max |x_2| over all snapshots: " << worst);
  CHECK(worst <= 1e-6);
}
