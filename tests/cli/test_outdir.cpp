// Output locations that cannot be written: exit 2, one `error:` line naming the path, and no
// run directory that claims success.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/helpers.hpp"

namespace fs = std::filesystem;

namespace {

const std::string base_config = std::string(NWGF_SOURCE_DIR) + "/tests/bad_inputs/base.toml";

std::string fresh(const std::string& name) {
  const std::string p = nwgf::test::tmp_path(name);
  fs::remove_all(p);
  return p;
}

void touch(const std::string& p) { std::ofstream(p) << "in the way\n"; }

// `nwgf run` into `out` fails with exit 2 naming `culprit`; nothing claims status done.
void check_refused(const std::string& out, const std::string& culprit) {
  const auto r = nwgf::test::run_cli("--threads 1 run '" + base_config + "' --out '" + out + "'");
  INFO("--out " << out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CHECK(r.err.find(culprit) != std::string::npos);
  std::error_code ec;
  if (fs::is_directory(out, ec)) {
    const std::string m = nwgf::test::slurp(out + "/manifest.json");
    CHECK(m.find("\"done\"") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("--out below a regular file, or a regular file itself") {
  const std::string dir = fresh("outdir_file");
  fs::create_directories(dir);
  touch(dir + "/file");
  check_refused(dir + "/file", dir + "/file");
  check_refused(dir + "/file/run", dir + "/file/run");
  check_refused(dir + "/file/a/b/c", dir + "/file/a/b/c");
  CHECK(nwgf::test::slurp(dir + "/file") == "in the way\n");  // left alone
  fs::remove_all(dir);
}

TEST_CASE("--out that cannot be created") {
  check_refused("/dev/null/run", "/dev/null/run");
  // A read-only directory; root writes through mode bits, so use a path no one can create.
  if (::geteuid() != 0) {
    const std::string ro = fresh("outdir_readonly");
    fs::create_directories(ro);
    ::chmod(ro.c_str(), 0555);
    check_refused(ro + "/run", ro + "/run");
    CHECK(fs::is_empty(ro));
    ::chmod(ro.c_str(), 0755);
    fs::remove_all(ro);
  } else {
    check_refused("/proc/nwgf_no_such_dir/run", "/proc/nwgf_no_such_dir/run");
  }
}

TEST_CASE("files of the run directory blocked by directories or files in their way") {
  for (const char* blocker : {"manifest.json", "checkpoint.bin", "metrics.csv"}) {
    const std::string out = fresh(std::string("outdir_blocked_") + blocker);
    fs::create_directories(out + "/" + blocker);
    check_refused(out, out + "/" + blocker);
    fs::remove_all(out);
  }
  const std::string out = fresh("outdir_blocked_snapshots");
  fs::create_directories(out);
  touch(out + "/snapshots");
  check_refused(out, out);
  fs::remove(out + "/snapshots");
  fs::create_directories(out + "/snapshots/step_000001.npy");
  check_refused(out, "step_000001.npy");
  fs::remove_all(out);
}

TEST_CASE("sample-analytic --out that cannot be written") {
  const std::string dir = fresh("outdir_sample");
  fs::create_directories(dir);
  touch(dir + "/file");
  for (const std::string& out : {dir + "/file/x.npy", dir + "/missing/x.npy", dir}) {
    const auto r =
        nwgf::test::run_cli("sample-analytic --d 2 --r 1 --t 1 --n 10 --out '" + out + "'");
    INFO("--out " << out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(r.err.find(out) != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("a refused --resume leaves the directory as it was") {
  // No checkpoint: nothing is created.
  const std::string empty = fresh("outdir_resume_empty");
  fs::create_directories(empty);
  auto r = nwgf::test::run_cli("run '" + base_config + "' --out '" + empty + "' --resume");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--resume") != std::string::npos);
  CHECK(fs::is_empty(empty));
  fs::remove_all(empty);
  // Other dynamics than the checkpoint's: config.toml and manifest.json keep the first run's.
  const std::string out = fresh("outdir_resume_other");
  REQUIRE(nwgf::test::run_cli("run '" + base_config + "' --out '" + out + "'").exit_code == 0);
  const std::string config = nwgf::test::slurp(out + "/config.toml");
  const std::string manifest = nwgf::test::slurp(out + "/manifest.json");
  r = nwgf::test::run_cli("run '" + base_config + "' --out '" + out +
                          "' --resume --set flow.tau=0.07");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--resume") != std::string::npos);
  CHECK(nwgf::test::slurp(out + "/config.toml") == config);
  CHECK(nwgf::test::slurp(out + "/manifest.json") == manifest);
  fs::remove_all(out);
}
