// `nwgf plot RUN_DIR... --column C --out F.png`: one curve per run (the paper's Fig. 8), the
// picture changes with the runs and the scale; bad input is exit 2 with one `error:` line naming
// the flag or file.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/helpers.hpp"

using namespace nwgf;
namespace fs = std::filesystem;

namespace {

// A run directory with the given metrics.csv and, when `scheme` is not empty, a manifest.json
// naming it as `nwgf run` does.
std::string fake_run(const std::string& name, const std::string& csv, const std::string& scheme) {
  const std::string dir = test::tmp_path("plot_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir + "/metrics.csv") << csv;
  if (!scheme.empty()) {
    std::ofstream(dir + "/manifest.json")
        << "{\"status\": \"done\", \"config\": {\n\"flow\" : {\n\"scheme\" : \"" << scheme
        << "\",\n\"tau\" : 0.01\n}\n}}\n";
  }
  return dir;
}

const char* header = "step,time,tau,loss,functional,wall_seconds,mmd2_analytic,mmd2_iterate\n";

// metrics.csv with the header and `rows`.
std::string with_header(const char* rows) {
  std::string csv = header;
  csv.append(rows);
  return csv;
}

std::string metrics(double scale) {
  std::string csv = header;
  for (int k = 0; k <= 20; ++k) {
    const double t = 0.05 * k;
    csv += std::to_string(k) + "," + std::to_string(t) + ",0.05,," + std::to_string(1 - t) +
           ",0.1," + (k == 0 ? std::string("0") : std::to_string(scale * t * t)) + ",\n";
  }
  return csv;
}

// Shell-quoted; built by appending (gcc 12 misreads "'" + std::string as an overlapping copy).
std::string q(const std::string& s) {
  std::string r = "'";
  r += s;
  r += "'";
  return r;
}

test::CliResult plot(const std::string& args) { return test::run_cli("plot " + args); }

void check_bad(const test::CliResult& r, const std::string& culprit) {
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK(r.err.find(culprit) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("nwgf plot: one curve per run; the picture depends on the runs and the scale") {
  const std::string a = fake_run("a", metrics(1e-3), "backward");
  const std::string b = fake_run("b", metrics(5e-2), "particle");
  const std::string one = test::tmp_path("plot_one.png"), two = test::tmp_path("plot_two.png"),
                    lin = test::tmp_path("plot_lin.png");
  auto r = plot(q(a) + " --column mmd2_analytic --log --out " + q(one));
  REQUIRE(r.exit_code == 0);
  // Step 0's value 0 has no place on a log scale: 20 points.
  CHECK(r.out.find("\"points\": 20") != std::string::npos);
  CHECK(r.out.find("\"runs\": 1") != std::string::npos);
  r = plot(q(a) + " " + q(b) + " --column mmd2_analytic --log --title 'Fig. 8' --out " + q(two));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"points\": 40") != std::string::npos);
  CHECK(r.out.find("\"width\": 720, \"height\": 480") != std::string::npos);
  r = plot(q(a) + " " + q(b) + " --column mmd2_analytic --title 'Fig. 8' --out " + q(lin));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"points\": 42") != std::string::npos);
  const std::string p1 = test::slurp(one), p2 = test::slurp(two), p3 = test::slurp(lin);
  CHECK(p1.substr(1, 3) == "PNG");
  CHECK(p2.substr(1, 3) == "PNG");
  CHECK(p1 != p2);  // the second run's curve and legend entry
  CHECK(p2 != p3);  // log vs linear axis

  // Without a manifest (or with two runs of one scheme) the curves are named by their directories.
  const std::string c = fake_run("c", metrics(2e-2), "");
  r = plot(q(a) + " " + q(c) + " --column functional --out " + q(two));
  CHECK(r.exit_code == 0);
  // SVG and PDF from the same drawing.
  const std::string svg = test::tmp_path("plot_two.svg"), pdf = test::tmp_path("plot_two.pdf");
  r = plot(q(a) + " " + q(b) + " --column mmd2_analytic --log --out " + q(svg));
  REQUIRE(r.exit_code == 0);
  CHECK(test::slurp(svg).find("<svg") != std::string::npos);
  r = plot(q(a) + " " + q(b) + " --column mmd2_analytic --log --out " + q(pdf));
  REQUIRE(r.exit_code == 0);
  CHECK(test::slurp(pdf).rfind("%PDF-", 0) == 0);
}

TEST_CASE("nwgf plot: bad input names the flag or file") {
  const std::string a = fake_run("bad_a", metrics(1e-3), "forward");
  const std::string out = test::tmp_path("plot_bad.png");
  check_bad(plot(q(a) + " --column nope --out " + q(out)), "--column");
  check_bad(plot(q(a) + " --column functional --out " + q(test::tmp_path("plot.jpg"))), "--out");
  check_bad(plot(q(a) + " --column functional --out " + q(test::tmp_path("plot.svg.gif"))), "--out");
  check_bad(plot(q(test::tmp_path("plot_missing_dir")) + " --column functional --out " + q(out)),
            "RUN_DIR");
  const std::string empty = fake_run("bad_empty", "", "forward");
  fs::remove(empty + "/metrics.csv");
  check_bad(plot(q(empty) + " --column functional --out " + q(out)), "no metrics.csv");
  const std::string word = fake_run("bad_word", with_header("0,0,0,,abc,0,,\n"), "");
  check_bad(plot(q(word) + " --column functional --out " + q(out)), "metrics.csv:2");
  const std::string cells = fake_run("bad_cells", with_header("0,0,0\n"), "");
  check_bad(plot(q(cells) + " --column functional --out " + q(out)), "metrics.csv:2");
  const std::string no_time = fake_run("bad_time", "step,functional\n0,1\n", "");
  check_bad(plot(q(no_time) + " --column functional --out " + q(out)), "'time'");
  // Only non-positive values: nothing to draw on a log scale.
  const std::string neg = fake_run("bad_neg", with_header("0,0,0,,-1,0,-2,\n"), "");
  check_bad(plot(q(neg) + " --column mmd2_analytic --log --out " + q(out)), "--column");
  // CLI11: a missing required flag.
  CHECK(plot(q(a) + " --out " + q(out)).exit_code == 2);
}
