// Crash safety: `nwgf run` killed with SIGKILL at random points and resumed with --resume ends
// with the same snapshots, byte for byte, as an uninterrupted run; no file under its final name
// is ever half-written.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "tests/helpers.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// A particle flow of 100 steps (a fraction of a second in Release, tens of seconds in the
// sanitizer build); a snapshot and a checkpoint after every step. The kills follow the
// checkpoints' progress, not the clock, so the run's length does not matter for the test.
const char* particle_config = R"(
seed = 5
[flow]
scheme = "particle"
tau = 0.01
steps = 100
[functional]
kind = "interaction"
r = 1.0
[initial]
kind = "square"
n = 1000
d = 2
radius = 0.5
[output]
every = 1
checkpoint_every = 1
plots = false
progress = false
[eval]
mmd = false
)";

// A neural backward flow (network and Adam state in the checkpoint), 30 steps.
const char* backward_config = R"(
seed = 9
[flow]
scheme = "backward"
tau = 0.05
steps = 30
[functional]
kind = "mmd"
r = 1.0
[initial]
kind = "dirac"
n = 400
d = 2
[target]
kind = "circle"
n = 300
d = 2
radius = 1.0
[network]
hidden = [24, 24]
[train]
iterations = 40
batch = 200
[output]
every = 1
checkpoint_every = 1
plots = false
progress = false
[eval]
mmd = false
)";

// Starts `nwgf --threads 2 run cfg --out out [--resume]` with output discarded.
pid_t spawn_run(const std::string& cfg, const std::string& out, bool resume) {
  std::vector<std::string> args = {NWGF_CLI_PATH, "--threads", "2", "run", cfg, "--out", out};
  if (resume) args.push_back("--resume");
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Exit code, or 128 + signal.
int wait_for(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool run_done(const std::string& out) {
  return nwgf::test::slurp(out + "/manifest.json").find("\"status\": \"done\"") !=
         std::string::npos;
}

// Every file under its final name is complete: .npy files parse, manifest.json is one JSON
// object, no temporary file carries a final extension.
void check_no_half_written_files(const std::string& out) {
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if (name.find(".tmp.") != std::string::npos) continue;  // a killed writer's scratch file
    INFO(e.path().string());
    if (e.path().extension() == ".npy") {
      CHECK_NOTHROW(nwgf::read_npy<double>(e.path().string()));
    } else if (name == "manifest.json") {
      const std::string m = nwgf::test::slurp(e.path().string());
      CHECK(m.rfind("{", 0) == 0);
      CHECK(m.find("\"status\"") != std::string::npos);
    }
  }
}

// Three trials of two SIGKILLs at random points each, then resumes to the end; every snapshot
// equals the uninterrupted run's byte for byte.
// The step of out/checkpoint.bin (magic(8) | i64 step | ...).
std::int64_t checkpoint_step(const std::string& out) {
  const std::string b = nwgf::test::slurp(out + "/checkpoint.bin");
  std::int64_t step = 0;
  if (b.size() >= 16) std::memcpy(&step, b.data() + 8, 8);
  return step;
}

void kill_resume_trials(const std::string& name, const char* config, std::size_t snapshot_count,
                        std::uint64_t seed) {
  const std::int64_t steps = std::int64_t(snapshot_count) - 1;
  const std::string cfg = nwgf::test::tmp_path(name + ".toml");
  std::ofstream(cfg) << config;
  const std::string ref = nwgf::test::tmp_path(name + "_ref");
  fs::remove_all(ref);
  const auto t0 = Clock::now();
  REQUIRE(wait_for(spawn_run(cfg, ref, false)) == 0);
  const double ref_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  REQUIRE(run_done(ref));
  std::vector<fs::path> snapshots;
  for (const auto& e : fs::directory_iterator(ref + "/snapshots")) snapshots.push_back(e.path());
  REQUIRE(snapshots.size() == snapshot_count);

  std::mt19937_64 rng(seed);
  int kills = 0, resumes = 0;
  for (int trial = 0; trial < 3; ++trial) {
    const std::string out = nwgf::test::tmp_path(name + "_" + std::to_string(trial));
    fs::remove_all(out);
    // Two kills at random points of the run (the second one of a resumed run), then resume to
    // the end; a kill before the first checkpoint leaves nothing to resume from: start afresh.
    std::uniform_real_distribution<double> when(0.02, 0.6);
    for (int k = 0; k < 2; ++k) {
      const bool resume = fs::exists(out + "/checkpoint.bin");
      resumes += resume;
      // The kill point follows the run's progress, not the clock (a loaded or a fast machine
      // shifts the clock): once the checkpoint passes a random step between 2% and 60% of the
      // steps left, plus a random part of one step's time.
      const std::int64_t from = resume ? checkpoint_step(out) : 0;
      const pid_t pid = spawn_run(cfg, out, resume);
      const std::int64_t target = from + std::int64_t(when(rng) * double(std::int64_t(steps) - from));
      const double step_seconds = ref_seconds / double(steps);
      const double extra = std::uniform_real_distribution<double>(0.0, 1.0)(rng) * step_seconds;
      const auto give_up = Clock::now() + std::chrono::duration<double>(20 * ref_seconds + 60);
      const auto running = [pid] {
        siginfo_t info{};
        return ::waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == 0;
      };
      while (running() && Clock::now() < give_up &&
             (!fs::exists(out + "/checkpoint.bin") || checkpoint_step(out) < target)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(extra));
      ::kill(pid, SIGKILL);
      const int code = wait_for(pid);
      CHECK((code == 128 + SIGKILL || code == 0));
      kills += code == 128 + SIGKILL;
      if (fs::exists(out)) check_no_half_written_files(out);
    }
    for (int attempt = 0; attempt < 3 && !run_done(out); ++attempt) {
      const bool resume = fs::exists(out + "/checkpoint.bin");
      resumes += resume;
      CHECK(wait_for(spawn_run(cfg, out, resume)) == 0);
    }
    REQUIRE(run_done(out));
    check_no_half_written_files(out);
    for (const auto& s : snapshots) {
      INFO("trial " << trial << ": " << s.filename().string());
      const std::string mine = nwgf::test::slurp(out + "/snapshots/" + s.filename().string());
      CHECK(!mine.empty());
      CHECK(mine == nwgf::test::slurp(s.string()));
    }
    fs::remove_all(out);
  }
  MESSAGE(name << ": SIGKILLs that hit a running process: " << kills
                << " of 6; runs resumed from a checkpoint: " << resumes);
  CHECK(kills >= 3);
  CHECK(resumes >= 3);
  fs::remove_all(ref);
}

}  // namespace

TEST_CASE("particle flow killed with SIGKILL and resumed: the same snapshots, byte for byte") {
  kill_resume_trials("kill_resume_particle", particle_config, 101, 20261123);  // steps 0..100
}

TEST_CASE("neural backward flow killed and resumed: network and Adam state survive, bit for bit") {
  kill_resume_trials("kill_resume_backward", backward_config, 31, 20261124);  // steps 0..30
}
