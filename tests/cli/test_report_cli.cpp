// `nwgf report RUN_DIR --out F.pdf`: a PDF of three pages (the run and its config, the metrics,
// the first/middle/last snapshots); `--out F.html`: the same as one self-contained HTML page that
// parses, holds the config as text and one embedded PNG per picture, and names no other file;
// bad input is exit 2 with one `error:` line naming the flag or the directory.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
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

// A run directory of 5 snapshots of 30 points, metrics.csv and config.toml.
std::string fake_run(const std::string& name) {
  const std::string dir = test::tmp_path(name);
  fs::remove_all(dir);
  fs::create_directories(dir + "/snapshots");
  std::string csv = "step,time,tau,loss,functional,wall_seconds,mmd2_analytic,mmd2_iterate\n";
  for (int s = 0; s <= 4; ++s) {
    std::vector<double> x;
    for (int i = 0; i < 30; ++i)
      x.push_back(0.1 * s * std::cos(i)), x.push_back(0.1 * s * std::sin(i));
    char file[64];
    std::snprintf(file, sizeof file, "/snapshots/step_%06d.npy", s);
    write_npy<double>(dir + file, x.data(), 30, 2);
    csv += std::to_string(s) + "," + std::to_string(0.1 * s) + ",0.1,," +
           std::to_string(1.0 / (s + 1)) + ",0.01," + std::to_string(1e-3 * (s + 1)) + ",\n";
  }
  std::ofstream(dir + "/metrics.csv") << csv;
  std::ofstream(dir + "/config.toml") << "seed = 1\n[flow]\nscheme = \"backward\"\ntau = 0.1\n";
  return dir;
}

}  // namespace

TEST_CASE("nwgf report: a run directory as a three-page PDF") {
  const std::string dir = fake_run("report_run");
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

TEST_CASE("nwgf report: --out F.html is one self-contained page with the PDF's content") {
  const std::string dir = fake_run("report_html_run");
  const std::string html = test::tmp_path("report_run.html");
  auto r = test::run_cli("report " + q(dir) + " --out " + q(html));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("report_run.html") != std::string::npos);
  const std::string page = test::slurp(html);
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("</html>") != std::string::npos);
  // The config as text (escaped), the summary, the section headings.
  CHECK(page.find("scheme = &quot;backward&quot;") != std::string::npos);
  CHECK(page.find("tau = 0.1") != std::string::npos);
  CHECK(page.find("n = 30, d = 2, snapshots 5") != std::string::npos);
  CHECK(page.find("alt=\"functional F over time\"") != std::string::npos);
  CHECK(page.find("alt=\"the samples at step 4\"") != std::string::npos);
  // One embedded PNG per picture: 3 metrics panels (F, MMD^2, wall time; no loss values) and
  // the 3 snapshots, and no reference to any other file.
  CHECK(count(page, "<img ") == 6);
  CHECK(count(page, "src=\"data:image/png;base64,") == 6);
  CHECK(count(page, "src=") == 6);
  std::string text = page;  // the page without the images' base64 payloads
  for (auto at = text.find("base64,"); at != std::string::npos; at = text.find("base64,", at)) {
    at += 7;
    text.erase(at, text.find('"', at) - at);
  }
  CHECK(text.size() < 20000);
  for (const char* external : {"href=", "url(", "<link", "<script", "<svg", "file:", "http"}) {
    CAPTURE(external);
    CHECK(text.find(external) == std::string::npos);
  }
  // It parses (Python's html.parser, where there is a python3): tags balanced, every image a
  // base64 PNG whose size is twice the width/height it is shown at.
  if (std::system("python3 -c 'import html.parser' >/dev/null 2>&1") == 0) {
    const std::string check = test::tmp_path("report_html_check.py");
    std::ofstream(check) << R"(import base64, html.parser, struct, sys
VOID = {"meta", "img", "br", "hr", "input", "link"}
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.images = [], 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            src = a["src"]
            assert src.startswith("data:image/png;base64,"), src[:40]
            png = base64.b64decode(src.split(",", 1)[1], validate=True)
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            w, h = struct.unpack(">II", png[16:24])
            assert (w, h) == (2 * int(a["width"]), 2 * int(a["height"])), (w, h, a["width"])
            self.images += 1
        elif tag not in VOID:
            self.stack.append(tag)
    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, tag
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
assert not p.stack, p.stack
assert p.images == 6, p.images
)";
    CHECK(std::system(("python3 " + q(check) + " " + q(html)).c_str()) == 0);
    fs::remove(check);
  }
  // .htm too; other extensions exit 2 naming --out.
  const std::string htm = test::tmp_path("report_run.HTM");
  CHECK(test::run_cli("report " + q(dir) + " --out " + q(htm)).exit_code == 0);
  CHECK(test::slurp(htm).rfind("<!DOCTYPE html>", 0) == 0);
  r = test::run_cli("report " + q(dir) + " --out " + q(test::tmp_path("report.txt")));
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: --out", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);
  fs::remove_all(dir);
  fs::remove(html);
  fs::remove(htm);
}
