// A run directory on a full disk (a 320 KiB tmpfs): `nwgf run` stops with exit 2 and one
// `error:` line naming the file it could not write, the manifest never claims success, the last
// checkpoint stays loadable, and after space is freed `--resume` finishes with the same final
// snapshot, byte for byte, as an uninterrupted run. Needs permission to mount a tmpfs (root or
// CAP_SYS_ADMIN); skipped with the reason otherwise.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/helpers.hpp"

namespace fs = std::filesystem;

namespace {

// 2000 points in f64 = 32 KB per snapshot and per checkpoint: the tmpfs fills within 10 steps.
const char* config = R"(
seed = 3
[flow]
scheme = "particle"
tau = 0.02
steps = 40
[functional]
kind = "interaction"
r = 1.0
[initial]
kind = "square"
n = 2000
d = 2
radius = 0.5
[output]
every = 1
plots = false
progress = false
[eval]
mmd = false
)";

// A tmpfs mounted for the test's lifetime.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& dir) : dir_(dir) {
    fs::create_directories(dir_);
    const std::string cmd =
        "mount -t tmpfs -o size=320k nwgf_test_tmpfs '" + dir_ + "' >/dev/null 2>&1";
    mounted_ = std::system(cmd.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) {
      const std::string cmd = "umount '" + dir_ + "' >/dev/null 2>&1";
      (void)std::system(cmd.c_str());
    }
  }
  bool mounted() const { return mounted_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("disk full: exit 2 naming the file, nothing claims success, --resume after freeing space") {
  const std::string cfg = nwgf::test::tmp_path("disk_full.toml");
  std::ofstream(cfg) << config;
  const std::string ref = nwgf::test::tmp_path("disk_full_ref");
  fs::remove_all(ref);
  REQUIRE(nwgf::test::run_cli("--threads 2 run '" + cfg + "' --out '" + ref + "'").exit_code == 0);

  const std::string mnt = nwgf::test::tmp_path("disk_full_mnt");
  SmallDisk disk(mnt);
  if (!disk.mounted()) {
    MESSAGE("skipped: cannot mount a tmpfs at " << mnt << " (needs root or CAP_SYS_ADMIN)");
    return;
  }
  const std::string out = mnt + "/run";
  const auto r = nwgf::test::run_cli("--threads 2 run '" + cfg + "' --out '" + out + "'");
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CHECK(r.err.find(out) != std::string::npos);  // names the file it could not write
  CHECK(r.err.find("No space left on device") != std::string::npos);
  const std::string manifest = nwgf::test::slurp(out + "/manifest.json");
  CHECK(manifest.find("\"done\"") == std::string::npos);
  const std::string status = manifest.find("\"failed\"") != std::string::npos ? "failed"
                             : manifest.find("\"running\"") != std::string::npos
                                 ? "running (no space to mark it failed)"
                                 : "absent";
  MESSAGE("manifest after the failed write: " << status);
  // No temporary file is left behind by the failed writes.
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    CHECK_MESSAGE(e.path().filename().string().find(".tmp.") == std::string::npos, e.path());
  }

  // Free space the way a user would (drop intermediate snapshots) and resume with the final
  // snapshot only: the result equals the uninterrupted run.
  for (const auto& e : fs::directory_iterator(out + "/snapshots")) {
    if (e.path().filename() != "step_000000.npy") fs::remove(e.path());
  }
  const auto resumed = nwgf::test::run_cli("--threads 2 run '" + cfg + "' --out '" + out +
                                           "' --resume --set output.every=0");
  INFO("resume stderr: " << resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(nwgf::test::slurp(out + "/manifest.json").find("\"done\"") != std::string::npos);
  const std::string last = "/snapshots/step_000040.npy";
  CHECK(!nwgf::test::slurp(out + last).empty());
  CHECK(nwgf::test::slurp(out + last) == nwgf::test::slurp(ref + last));
  fs::remove_all(ref);
}
