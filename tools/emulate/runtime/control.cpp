// nwgf CUDA emulator: the process-wide state (the schedule from NWGF_EMU_SCHEDULE, statistics,
// the launch log, the sticky error) and the control API of nwgf_emu/control.hpp.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "internal.hpp"

namespace nwgf::emu::impl {

std::mutex g_mutex;
Schedule g_schedule = [] {
  Schedule s;
  if (const char* e = std::getenv("NWGF_EMU_SCHEDULE")) {
    const std::string v = e;
    if (v == "forward") {
      s.policy = Policy::forward;
    } else if (v == "reverse") {
      s.policy = Policy::reverse;
    } else if (!v.empty()) {
      s.policy = Policy::random;
      s.seed = std::strtoull(v.c_str(), nullptr, 10);
    }
  }
  if (const char* e = std::getenv("NWGF_EMU_YIELD")) s.yield_percent = std::atoi(e);
  if (const char* e = std::getenv("NWGF_EMU_GRID_CAP")) s.grid_cap = unsigned(std::atoi(e));
  return s;
}();
Stats g_stats;
std::set<std::string> g_kernels;

// NWGF_EMU_LAUNCH_LOG=DIR: at exit, the kernels this process launched go to DIR/<pid>.txt
// (tools/emulate/kernel_coverage.py checks that the tests launch every kernel).
struct LaunchLog {
  ~LaunchLog() {
    const char* dir = std::getenv("NWGF_EMU_LAUNCH_LOG");
    if (!dir || g_kernels.empty()) return;
    mkdir(dir, 0755);
    const std::string path = std::string(dir) + "/" + std::to_string(getpid()) + ".txt";
    if (FILE* f = std::fopen(path.c_str(), "w")) {
      for (const std::string& k : g_kernels) std::fprintf(f, "%s\n", k.c_str());
      std::fclose(f);
    }
  }
} g_launch_log;

cudaError_t g_error = cudaSuccess;
std::string g_fault;

void set_error(cudaError_t err, const std::string& why) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_error == cudaSuccess) {
    g_error = err;
    g_fault = why;
  }
  std::fprintf(stderr, "nwgf CUDA emulator: %s\n", why.c_str());
}

cudaError_t pending_error() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_error;
}

cudaError_t invalid(const std::string& why, cudaError_t err) {
  set_error(err, why);
  return err;
}

}  // namespace nwgf::emu::impl

namespace nwgf::emu {
using namespace impl;

void set_schedule(const Schedule& s) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_schedule = s;
}
Schedule schedule() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_schedule;
}
std::string to_string(const Schedule& s) {
  switch (s.policy) {
    case Policy::forward:
      return "forward";
    case Policy::reverse:
      return "reverse";
    default:
      return "random(seed " + std::to_string(s.seed) + ", yield " +
             std::to_string(s.yield_percent) + "%)";
  }
}
std::string last_fault() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_fault;
}
Stats stats() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_stats;
}
std::vector<std::string> launched_kernels() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return {g_kernels.begin(), g_kernels.end()};
}
std::size_t device_bytes_in_use() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_bytes_in_use;
}
bool is_device_range(const void* p, std::size_t bytes) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return find_allocation(p, bytes) != nullptr;
}

}  // namespace nwgf::emu
