// `nwgf bench sweep`: one JSON line per point and a slope line per series (the least-squares
// fit of log seconds on log N of those points); sweep.csv, sweep.json and sweep.png in --out;
// bad grids and kernels are exit 2 with one `error:` line. No check depends on how fast the
// machine is: the measured slope (2 for the deliberately quadratic synthetic-n2 kernel) is
// printed, not asserted (a CI run fitted 1.90 and 1.83, a loaded core's frequency changing
// between the points); engine/scaling's fit is tested on exact data in test_scaling.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/helpers.hpp"
#include "tests/json_reader.hpp"

namespace fs = std::filesystem;
using nwgf::test::JsonValue;

namespace {

std::vector<JsonValue> json_lines(const std::string& out) {
  std::vector<JsonValue> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) v.push_back(nwgf::test::parse_json(line));
  return v;
}

}  // namespace

TEST_CASE("sweep: the synthetic O(N^2) kernel: a line per point, the fit of those points; the files") {
  const std::string dir = nwgf::test::tmp_path("sweep_cli");
  // N = 2000 .. 16000: 2 M to 128 M pair evaluations, milliseconds to a few tenths of a second
  // per call (more under a sanitizer); the fit is on the process CPU time of the fastest repeat
  // (--stat cpu-min).
  fs::remove_all(dir);
  const nwgf::test::CliResult r = nwgf::test::run_cli(
      "--threads 1 bench sweep --kernel synthetic-n2 --n 2000:16000:x2 --d 2 --repeats 5 "
      "--min-seconds 0 --stat cpu-min --out '" + dir + "'");
  const std::vector<JsonValue> lines = r.exit_code == 0 ? json_lines(r.out) : std::vector<JsonValue>{};
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(lines.size() == 5);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(lines[i]["n"].number == 2000 * (1 << i));
    CHECK(lines[i]["seconds"].number > 0);
    CHECK(lines[i]["peak_rss_bytes"].number > 0);
    CHECK(lines[i]["series"].string == "d=2");
  }
  const JsonValue& fit = lines[4];
  CHECK(fit["points"].number == 4);
  MESSAGE("synthetic-n2 measured slope " << fit["slope"].number << " (2 expected; not asserted)");
  // The slope line is the least-squares fit of ln seconds on ln N of the four points printed
  // (recomputed here; any log base gives the same slope).
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    mx += std::log(lines[i]["n"].number) / 4;
    my += std::log(lines[i]["seconds"].number) / 4;
  }
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const double dx = std::log(lines[i]["n"].number) - mx;
    const double dy = std::log(lines[i]["seconds"].number) - my;
    sxx += dx * dx, sxy += dx * dy, syy += dy * dy;
  }
  const double slope = sxy / sxx;
  CHECK(fit["slope"].number == doctest::Approx(slope).epsilon(1e-9));
  CHECK(fit["r2"].number == doctest::Approx(sxy * sxy / (sxx * syy)).epsilon(1e-9));
  CHECK(fit["slope_low"].number <= fit["slope"].number);
  CHECK(fit["slope_high"].number >= fit["slope"].number);
  const std::string csv = nwgf::test::slurp(dir + "/sweep.csv");
  CHECK(csv.rfind("kernel,series,n,d,seconds,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 5);
  const JsonValue j = nwgf::test::parse_json(nwgf::test::slurp(dir + "/sweep.json"));
  CHECK(j["points"].array.size() == 4);
  CHECK(j["fits"].array.size() == 1);
  CHECK(j["fits"].array[0]["slope"].number == fit["slope"].number);
  CHECK(nwgf::test::slurp(dir + "/sweep.png").rfind("\x89PNG", 0) == 0);
  CHECK_FALSE(fs::exists(dir + "/sweep_roofline.png"));  // only with --peak
}

TEST_CASE("sweep: a series per d; memory per point grows with N (mlp: O(N) activations)") {
  const auto r = nwgf::test::run_cli(
      "--threads 1 bench sweep --kernel mlp --hidden 32,32 --n 1e4,1e5 --d 2,3 --repeats 1 "
      "--min-seconds 0");
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<JsonValue> lines = json_lines(r.out);
  REQUIRE(lines.size() == 6);
  CHECK(lines[2]["series"].string == "d=2");
  CHECK(lines[2].has("slope"));
  CHECK(lines[5]["series"].string == "d=3");
  CHECK(lines[0]["gflops_per_s"].number > 0);
  // A batch of 1e5 rows holds several (1e5, 32) float activations and gradients: megabytes
  // above the resident set before the point (when the high-water mark can be reset).
  if (lines[1]["peak_rss_since"].string == "point") {
    const double small = lines[0]["peak_rss_bytes"].number - lines[0]["rss_before_bytes"].number;
    const double big = lines[1]["peak_rss_bytes"].number - lines[1]["rss_before_bytes"].number;
    CHECK(big > 5e6);
    CHECK(big > 3 * small);
  }
}

TEST_CASE("sweep: every kernel runs (small sizes): a line per point and the series' slope") {
  for (const char* kernel : {"pairwise", "sliced", "step"}) {
    const auto r = nwgf::test::run_cli(std::string("--threads 1 bench sweep --kernel ") + kernel +
                                       " --n 200,400 --d 3 --hidden 8 --directions 16 "
                                       "--repeats 1 --min-seconds 0");
    INFO(kernel << ": stdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    const std::vector<JsonValue> lines = json_lines(r.out);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0]["kernel"].string == kernel);
    CHECK(lines[1]["n"].number == 400);
    CHECK(lines[1]["seconds"].number > 0);
    CHECK(lines[2]["points"].number == 2);
    CHECK(std::isfinite(lines[2]["slope"].number));
  }
}

TEST_CASE("sweep: bad grids, lists and kernels are exit 2 naming the flag") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--n", "--kernel synthetic-n2 --n 10:1:x2"},
      {"--n", "--kernel synthetic-n2 --n 1:10:x1"},
      {"--n", "--kernel synthetic-n2 --n 1:10"},
      {"--n", "--kernel synthetic-n2 --n 0:10:x2"},
      {"--d", "--kernel synthetic-n2 --n 10 --d 2,,3"},
      {"--d", "--kernel synthetic-n2 --n 10 --d 0"},
      {"--kernel", "--kernel cubic --n 10"},
      {"--stat", "--kernel synthetic-n2 --n 10 --stat mean"},
      {"--repeats", "--kernel synthetic-n2 --n 10 --repeats 0"}};
  for (const auto& [flag, args] : cases) {
    const auto r = nwgf::test::run_cli("bench sweep " + args);
    INFO("nwgf bench sweep " << args << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(r.err.find(flag) != std::string::npos);
  }
}
