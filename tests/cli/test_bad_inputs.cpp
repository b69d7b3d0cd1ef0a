// The bad-input corpus (tests/bad_inputs/cases.txt): every case exits 2 with exactly one stderr
// line `error: ...` naming the culprit, and no run directory claims success.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <utility>
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

TEST_CASE("bad inputs: damaged checkpoints are refused by --resume") {
  const std::string cfg = std::string(NWGF_SOURCE_DIR) + "/tests/bad_inputs/base.toml";
  const std::string good = nwgf::test::tmp_path("bad_checkpoint_good");
  fs::remove_all(good);
  REQUIRE(nwgf::test::run_cli("run '" + cfg + "' --out '" + good + "'").exit_code == 0);
  const std::string bytes = nwgf::test::slurp(good + "/checkpoint.bin");
  // magic(8) step(8) time(8) sizeof(T)(4) n(8) d(8) x(n d) | u64 state length ...
  const std::size_t x_end = 44 + 40 * 2 * sizeof(double);
  REQUIRE(bytes.size() > x_end + 8);
  auto patched = [&](std::size_t at, const void* p, std::size_t k) {
    std::string b = bytes;
    b.replace(at, k, static_cast<const char*>(p), k);
    return b;
  };
  const std::int64_t minus_five = -5, other_n = 41;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::uint64_t huge = ~std::uint64_t(0);
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"", "truncated checkpoint"},
      {"NWGFCKP9" + bytes.substr(8), "not a checkpoint"},
      {bytes.substr(0, bytes.size() / 2), "truncated checkpoint"},
      {bytes.substr(0, 20), "truncated checkpoint"},
      {patched(28, &other_n, 8), "different dtype or shape"},
      {patched(8, &minus_five, 8), "checkpoint.bin"},
      {patched(16, &nan, 8), "checkpoint.bin"},
      {patched(x_end, &huge, 8), "truncated checkpoint"},
  };
  int i = 0;
  for (const auto& [content, expected] : damaged) {
    const std::string out = nwgf::test::tmp_path("bad_checkpoint_" + std::to_string(i++));
    fs::remove_all(out);
    fs::copy(good, out, fs::copy_options::recursive);
    std::ofstream(out + "/checkpoint.bin", std::ios::binary | std::ios::trunc) << content;
    const auto r = nwgf::test::run_cli("run '" + cfg + "' --out '" + out + "' --resume");
    INFO("case " << i << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(r.err.find(expected) != std::string::npos);
    CHECK(r.err.find("checkpoint") != std::string::npos);
    fs::remove_all(out);
  }
  fs::remove_all(good);
}
