// The CLI skeleton: --version, --help, devices, and bad invocations (exit 2, one `error:` line).
#include <doctest/doctest.h>

#include <string>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/version.hpp"
#include "tests/helpers.hpp"

using nwgf::test::run_cli;

namespace {
int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
void expect_bad_input(const std::string& args, const std::string& needle, const std::string& env = "") {
  CAPTURE(args);
  const auto r = run_cli(args, env);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find(needle) != std::string::npos);
}
}  // namespace

TEST_CASE("--version and --help") {
  const auto v = run_cli("--version");
  CHECK(v.exit_code == 0);
  CHECK(v.out.find(NWGF_VERSION_STRING) != std::string::npos);
  const auto h = run_cli("--help");
  CHECK(h.exit_code == 0);
  CHECK(h.out.find("devices") != std::string::npos);
  const auto hd = run_cli("devices --help");
  CHECK(hd.exit_code == 0);
}

TEST_CASE("devices lists cpu and says why cuda is or is not usable") {
  const auto r = run_cli("devices");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("cpu: usable") != std::string::npos);
  CHECK(r.out.find("cuda: ") != std::string::npos);
  const nwgf::CudaStatus s = nwgf::cuda_status();
  if (!s.usable) CHECK(r.out.find(s.reason) != std::string::npos);
  const auto j = run_cli("--threads 3 devices --json");
  CHECK(j.exit_code == 0);
  CHECK(j.out.find("\"cpu_threads\": 3") != std::string::npos);
  const auto e = run_cli("devices --json", "NWGF_THREADS=5");
  CHECK(e.out.find("\"cpu_threads\": 5") != std::string::npos);
}

TEST_CASE("bad invocations exit 2 with one error line naming the culprit") {
  expect_bad_input("", "subcommand");
  expect_bad_input("frobnicate", "frobnicate");
  expect_bad_input("devices --bogus", "--bogus");
  expect_bad_input("--threads 0 devices", "--threads");
  expect_bad_input("--threads abc devices", "--threads");
  expect_bad_input("devices", "NWGF_THREADS", "NWGF_THREADS=lots");
}

TEST_CASE("nwgf run --help-config prints the config reference") {
  const auto t = run_cli("run --help-config");
  CHECK(t.exit_code == 0);
  CHECK(t.out.find("[functional]") != std::string::npos);
  CHECK(t.out.find("kind (interaction | mmd | barycenter | energy33 | kl | entropy | potential | sum; required)") !=
        std::string::npos);
  CHECK(t.out.find("  tau (number; default 0.05)") != std::string::npos);
  const auto m = run_cli("run --help-config=markdown");
  CHECK(m.exit_code == 0);
  CHECK(m.out.rfind("| key | type | default | meaning |\n", 0) == 0);
  CHECK(m.out.find("| `[flow] scheme` | backward \\| forward \\| particle \\| ift \\| variational | `\"forward\"` |") !=
        std::string::npos);
  expect_bad_input("run --help-config=yaml", "--help-config");
  expect_bad_input("run", "config");
}
