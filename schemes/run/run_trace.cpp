#include "nwgf/schemes/run/run_trace.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/io/json.hpp"

namespace nwgf {
namespace {

namespace fs = std::filesystem;

// Bad input unless `path` names a file that can be created: not a directory, and its nearest
// existing ancestor a writable directory (the missing ones are made when the trace is written).
void check_writable(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) throw_bad_input("--trace " + path + ": is a directory");
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  while (!fs::exists(dir, ec) && dir.has_parent_path() && dir.parent_path() != dir) {
    dir = dir.parent_path();
  }
  if (!fs::is_directory(dir, ec)) {
    throw_bad_input("--trace " + path + ": " + dir.string() + " is not a directory");
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw_bad_input("--trace " + path + ": directory " + dir.string() + " is not writable");
  }
}

}  // namespace

std::string run_trace_file(const FlowConfig& cfg, const RunOptions& opt) {
  if (!opt.trace_path.empty()) {
    check_writable(opt.trace_path);
    return opt.trace_path;
  }
  if (cfg.trace && !opt.out_dir.empty()) return (fs::path(opt.out_dir) / "trace.json").string();
  return "";
}

std::vector<PhaseSeconds> phase_summary(const TraceSession& session) {
  std::vector<PhaseSeconds> out;
  for (const PhaseTime& p : session.phases()) out.push_back({phase_name(p.phase), p.seconds, p.share});
  return out;
}

std::vector<std::pair<std::string, double>> counter_summary(const TraceSession& session) {
  std::vector<std::pair<std::string, double>> out;
  for (std::size_t c = 0; c < std::size_t(Counter::count); ++c) {
    out.emplace_back(counter_names[c], session.counter(Counter(c)));
  }
  return out;
}

std::string phases_json(const std::vector<PhaseSeconds>& phases) {
  JsonObject o;
  for (const PhaseSeconds& p : phases) {
    o.add(p.name, JsonObject().add("seconds", p.seconds).add("share", p.share));
  }
  return o.str();
}

std::string counters_json(const std::vector<std::pair<std::string, double>>& counters) {
  JsonObject o;
  for (const auto& [name, value] : counters) o.add(name, value);
  return o.str();
}

std::string top_phases(const std::vector<PhaseSeconds>& phases, std::size_t top) {
  std::string out;
  for (std::size_t i = 0; i < phases.size() && i < top; ++i) {
    char b[64];
    std::snprintf(b, sizeof b, " %.0f%%", 100 * phases[i].share);
    out += (i ? ", " : "") + phases[i].name + b;
  }
  return out;
}

void write_run_trace(const TraceSession& session, const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) throw_bad_input("--trace " + path + ": " + ec.message());
  write_file_atomic(path, session.chrome_json("nwgf run"));
}

}  // namespace nwgf
