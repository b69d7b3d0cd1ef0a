// `nwgf mmd` and `nwgf bench pairwise` through the CLI: the exact MMD^2 against a naive V-statistic
// computed here, f32 and f64 inputs, and bad inputs (exit 2 naming the culprit).
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "nwgf/engine/io/npy.hpp"
#include "tests/helpers.hpp"

namespace nwgf {
namespace {

using test::run_cli;
using test::tmp_path;

std::vector<double> random_points(index_t n, index_t d, double shift, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> p(std::size_t(n * d));
  for (auto& e : p) e = g(gen) + shift;
  return p;
}

// mean_ij |x_i - y_j|^r, naive.
double mean_dist(const std::vector<double>& x, index_t n, const std::vector<double>& y, index_t m,
                 index_t d, double r) {
  long double s = 0;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < m; ++j) {
      long double q = 0;
      for (index_t k = 0; k < d; ++k) {
        const long double z = x[std::size_t(i * d + k)] - y[std::size_t(j * d + k)];
        q += z * z;
      }
      s += std::pow(q, (long double)r / 2);
    }
  return double(s / (long double)(n * m));
}

// The value of "key": in a one-line JSON object.
double json_number(const std::string& json, const std::string& key) {
  const auto p = json.find("\"" + key + "\":");
  REQUIRE(p != std::string::npos);
  return std::stod(json.substr(p + key.size() + 3));
}

TEST_CASE("nwgf mmd: exact V-statistic for f32 and f64 files, any r") {
  const index_t n = 37, m = 29, d = 3;
  const auto x = random_points(n, d, 0.0, 1u), y = random_points(m, d, 0.7, 2u);
  const std::string a = tmp_path("pw_mmd_a.npy"), b = tmp_path("pw_mmd_b.npy");
  write_npy<double>(a, x.data(), n, d);
  const std::vector<float> yf(y.begin(), y.end());
  write_npy<float>(b, yf.data(), m, d);
  const std::vector<double> yr(yf.begin(), yf.end());  // what the file holds
  for (double r : {1.0, 0.5, 1.5}) {
    const auto res = run_cli("--threads 2 mmd '" + a + "' '" + b + "' --r " + std::to_string(r));
    REQUIRE(res.exit_code == 0);
    const double want = mean_dist(x, n, yr, m, d, r) - 0.5 * mean_dist(x, n, x, n, d, r) -
                        0.5 * mean_dist(yr, m, yr, m, d, r);
    CHECK(json_number(res.out, "mmd2") == doctest::Approx(want).epsilon(1e-12));
    CHECK(json_number(res.out, "n") == n);
    CHECK(json_number(res.out, "m") == m);
    CHECK(json_number(res.out, "d") == d);
    CHECK(json_number(res.out, "r") == doctest::Approx(r));
  }
  // Same set twice: exactly zero up to rounding; default r = 1.
  const auto same = run_cli("mmd '" + a + "' '" + a + "'");
  REQUIRE(same.exit_code == 0);
  CHECK(std::fabs(json_number(same.out, "mmd2")) < 1e-12);
}

TEST_CASE("nwgf mmd: bad input exits 2 naming the culprit") {
  const auto x = random_points(5, 2, 0, 3u), y = random_points(6, 3, 0, 4u);
  const std::string a = tmp_path("pw_bad_a.npy"), b = tmp_path("pw_bad_b.npy");
  write_npy<double>(a, x.data(), 5, 2);
  write_npy<double>(b, y.data(), 6, 3);
  const auto dim = run_cli("mmd '" + a + "' '" + b + "'");
  CHECK(dim.exit_code == 2);
  CHECK(dim.err.find("dimension mismatch") != std::string::npos);
  for (const char* r : {"0", "2", "-1", "nan"}) {
    const auto bad_r = run_cli("mmd '" + a + "' '" + a + "' --r " + r);
    CHECK(bad_r.exit_code == 2);
    CHECK(bad_r.err.find("--r") != std::string::npos);
  }
  const auto missing = run_cli("mmd '" + a + "' '" + tmp_path("pw_no_such.npy") + "'");
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("pw_no_such.npy") != std::string::npos);
}

TEST_CASE("nwgf bench pairwise prints one JSON line with seconds and gpairs_per_s") {
  const auto res = run_cli("--threads 1 bench pairwise --n 600 --d 2 --dtype f64 --repeats 1");
  REQUIRE(res.exit_code == 0);
  CHECK(json_number(res.out, "seconds") > 0);
  CHECK(json_number(res.out, "gpairs_per_s") > 0);
  CHECK(run_cli("bench pairwise --n 0").exit_code == 2);
  CHECK(run_cli("bench pairwise --r 2").exit_code == 2);
}

TEST_CASE("nwgf bench pairwise --directional --value-gradient --one-pair-rows: the directional and "
          "value-gradient rates, the rows named") {
  for (const bool one_pair : {false, true}) {
    const auto res = run_cli(std::string("--threads 1 bench pairwise --n 300 --d 20 --dtype f32 "
                                         "--repeats 1 --directional --value-gradient") +
                             (one_pair ? " --one-pair-rows" : ""));
    REQUIRE(res.exit_code == 0);
    CHECK(json_number(res.out, "directional_gpairs_per_s") > 0);
    CHECK(json_number(res.out, "directional_cpu_gpairs_per_s") > 0);
    CHECK(json_number(res.out, "energy_cpu_gpairs_per_s") > 0);
    CHECK(json_number(res.out, "value_gradient_gpairs_per_s") > 0);
    CHECK(json_number(res.out, "value_gradient_cpu_gpairs_per_s") > 0);
    CHECK((res.out.find("\"one_pair_rows\": true") != std::string::npos) == one_pair);
  }
}

TEST_CASE("nwgf bench pairwise --sharded in one process: the stream's times and buffers") {
  // 3000 points, chunks of 16 columns rounded up to the tile (1024 at d = 5): three chunks at one
  // rank.
  const auto res =
      run_cli("--threads 1 bench pairwise --sharded --n 3000 --d 5 --chunk 16 --repeats 2");
  REQUIRE(res.exit_code == 0);
  CHECK(json_number(res.out, "seconds") > 0);
  CHECK(json_number(res.out, "ranks") == 1);
  CHECK(json_number(res.out, "chunks") > 1);
  CHECK(res.out.find("\"wait_seconds_per_rank\": [") != std::string::npos);
  CHECK(res.out.find("\"buffer_bytes_per_rank\": [") != std::string::npos);
  const auto bad = run_cli("bench pairwise --sharded --chunk -1");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--chunk") != std::string::npos);
}

}  // namespace
}  // namespace nwgf
