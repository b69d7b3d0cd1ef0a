// `nwgf mmd --sliced P`: the sliced estimate agrees with the exact V-statistic, is reproducible
// from --seed, and is refused for r != 1 (exit 2 naming --sliced).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/rng.hpp"
#include "tests/helpers.hpp"

using nwgf::test::run_cli;

namespace {
double field(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\": ");
  REQUIRE(at != std::string::npos);
  return std::stod(json.substr(at + key.size() + 4));
}
}  // namespace

TEST_CASE("sliced MMD^2 through the CLI") {
  nwgf::Context ctx(nwgf::Device::cpu, 2);
  const nwgf::index_t n = 400, m = 300, d = 3;
  std::vector<double> a(n * d), b(m * d);
  nwgf::rng_normal<double>(ctx, 11, 0, 0, a.data(), n * d);
  nwgf::rng_normal<double>(ctx, 11, 1, 0, b.data(), m * d, 0.5, 1.5);
  const std::string pa = nwgf::test::tmp_path("sliced_a.npy"), pb = nwgf::test::tmp_path("sliced_b.npy");
  nwgf::write_npy(pa, a.data(), n, d);
  nwgf::write_npy(pb, b.data(), m, d);

  const auto exact = run_cli("mmd " + pa + " " + pb);
  REQUIRE(exact.exit_code == 0);
  const auto sliced = run_cli("mmd " + pa + " " + pb + " --sliced 4096 --seed 5");
  REQUIRE(sliced.exit_code == 0);
  CHECK(sliced.out.find("\"method\": \"sliced\"") != std::string::npos);
  const double e = field(exact.out, "mmd2"), s = field(sliced.out, "mmd2");
  CHECK(e > 0.1);
  CHECK(std::fabs(s - e) < 0.05 * e);
  // Same seed, same estimate; another seed, another estimate.
  CHECK(run_cli("mmd " + pa + " " + pb + " --sliced 4096 --seed 5").out == sliced.out);
  CHECK(field(run_cli("mmd " + pa + " " + pb + " --sliced 64 --seed 6").out, "mmd2") != s);

  const auto bad = run_cli("mmd " + pa + " " + pb + " --sliced 16 --r 0.5");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--sliced") != std::string::npos);
  CHECK(run_cli("mmd " + pa + " " + pb + " --sliced 0").exit_code == 2);
}
