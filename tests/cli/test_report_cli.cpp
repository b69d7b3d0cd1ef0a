// `nwgf report RUN_DIR --out F.pdf`: a PDF of three pages (the run and its config, the metrics,
// the first/middle/last snapshots); bad input is exit 2 with one `error:` line naming the flag or
// the directory.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nwgf/engine/io/npy.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;
namespace fs = std::filesystem;

namespace {

std::string q(const std::string& s) {
  std::string r = "'";
  r += s;
  r += "'";
  return r;
}

// Occurrences of `what` in `s`.
int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("nwgf report: a run directory as a three-page PDF") {
  const std::string dir = test::tmp_path("report_run");
  fs::remove_all(dir);
  fs::create_directories(dir + "/snapshots");
  std::string csv = "step,time,tau,loss,functional,wall_seconds,mmd2_analytic,mmd2_iterate\n";
  for (int s = 0; s <= 4; ++s) {
    std::vector<double> x;
    for (int i = 0; i < 30; ++i)
      x.push_back(0.1 * s * std::cos(i)), x.push_back(0.1 * s * std::sin(i));
    char name[64];
    std::snprintf(name, sizeof name, "/snapshots/step_%06d.npy", s);
    write_npy<double>(dir + name, x.data(), 30, 2);
    csv += std::to_string(s) + "," + std::to_string(0.1 * s) + ",0.1,," +
           std::to_string(1.0 / (s + 1)) + ",0.01," + std::to_string(1e-3 * (s + 1)) + ",\n";
  }
  std::ofstream(dir + "/metrics.csv") << csv;
  std::ofstream(dir + "/config.toml") << "seed = 1\n[flow]\nscheme = \"backward\"\ntau = 0.1\n";
  const std::string pdf = test::tmp_path("report_run.pdf");
  auto r = test::run_cli("report " + q(dir) + " --out " + q(pdf));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"out\"") != std::string::npos);
  const std::string bytes = test::slurp(pdf);
  CHECK(bytes.rfind("%PDF-", 0) == 0);
  CHECK(bytes.find("%%EOF", bytes.size() - 16) != std::string::npos);
  CHECK(count(bytes, "/Type /Page\n") + count(bytes, "/Type /Page ") +
            count(bytes, "/Type /Page>") ==
        3);

  // Bad input: exit 2, one error line naming the culprit.
  const std::string empty = test::tmp_path("report_empty");
  fs::create_directories(empty);
  const struct {
    std::string args, culprit;
  } bad[] = {
      {q(dir) + " --out " + q(test::tmp_path("report.png")), "--out"},
      {q(test::tmp_path("report_missing")) + " --out " + q(pdf), "report_missing"},
      {q(empty) + " --out " + q(pdf), "report_empty"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.args);
    r = test::run_cli("report " + b.args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(r.err.find(b.culprit) != std::string::npos);
  }
  fs::remove_all(dir);
  fs::remove_all(empty);
  fs::remove(pdf);
}
