#pragma once
// Shared test helpers: running the CLI and capturing its output, temporary paths.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace nwgf::test {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string tmp_path(const std::string& name) {
  std::filesystem::create_directories(NWGF_TEST_TMP);
  return std::string(NWGF_TEST_TMP) + "/" + name;
}

inline std::string slurp(const std::string& path) {
  std::string s;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) s.append(buf.data(), n);
    std::fclose(f);
  }
  return s;
}

// Runs `nwgf <args>` (args already shell-quoted) and captures exit code, stdout and stderr.
inline CliResult run_cli(const std::string& args, const std::string& env = "") {
  static int counter = 0;
  const std::string base = tmp_path("cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  const std::string cmd = env + (env.empty() ? "" : " ") + "'" + NWGF_CLI_PATH + "' " + args +
                          " >'" + base + ".out' 2>'" + base + ".err' </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  return r;
}

// The file names under a run directory's snapshots/ (step_*.npy, weights_*.npy), sorted.
inline std::vector<std::string> snapshot_names(const std::string& run_dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(run_dir + "/snapshots")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// max_i |x_i - ref_i| / max_i |ref_i|, x and ref of one size (an all-zero ref gives NaN or Inf,
// which fails any bound).
inline double max_relative_difference(const std::vector<double>& x, const std::vector<double>& ref) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < x.size() && i < ref.size(); ++i) {
    diff = std::max(diff, std::fabs(x[i] - ref[i]));
    scale = std::max(scale, std::fabs(ref[i]));
  }
  return diff / scale;
}

}  // namespace nwgf::test
