// The bad-input corpus (tests/bad_inputs/cases.txt): every case exits 2 with exactly one stderr
// line `error: ...` naming the culprit, and no run directory claims success.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/helpers.hpp"

namespace fs = std::filesystem;

namespace {

struct Case {
  int line = 0;
  std::string expected;  // substring of the error line
  std::string args;      // with {dir} and {out} placeholders
};

std::vector<Case> read_cases(const std::string& path) {
  std::vector<Case> cases;
  std::ifstream in(path);
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    REQUIRE_MESSAGE(tab != std::string::npos, path << ":" << no << ": no tab");
    cases.push_back({no, line.substr(0, tab), line.substr(tab + 1)});
  }
  return cases;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

}  // namespace

TEST_CASE("bad inputs: exit 2, one `error:` line naming the culprit, nothing claims success") {
  const std::string dir = std::string(NWGF_SOURCE_DIR) + "/tests/bad_inputs";
  const auto cases = read_cases(dir + "/cases.txt");
  CHECK(cases.size() >= 100);
  for (const Case& c : cases) {
    const std::string out = nwgf::test::tmp_path("bad_input_" + std::to_string(c.line));
    fs::remove_all(out);
    const std::string args = replace_all(replace_all(c.args, "{dir}", dir), "{out}", out);
    const auto r = nwgf::test::run_cli(args);
    INFO("cases.txt:" << c.line << ": nwgf " << args << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);  // exactly one line
    CHECK(r.err.find(c.expected) != std::string::npos);
    const std::string manifest = nwgf::test::slurp(out + "/manifest.json");
    CHECK(manifest.find("\"done\"") == std::string::npos);
    fs::remove_all(out);
  }
}
