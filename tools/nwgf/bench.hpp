#pragma once
// `nwgf bench <name>`: each benchmark registers itself with a static BenchRegistrar (same shape
// as a subcommand) and prints one JSON object per line on stdout.
#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/kernels/pairwise_ranks.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {

std::vector<CommandSpec>& bench_registry();

struct BenchRegistrar {
  BenchRegistrar(std::string name, std::string description, CommandSetup setup) {
    bench_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

struct Timing {
  double median = 0, min = 0, max = 0;
  int repeats = 0;
};

// The median, min and max of per-call times t (not empty).
inline Timing summarise_times(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  Timing r;
  r.repeats = int(t.size());
  r.median = t.size() % 2 ? t[t.size() / 2] : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]);
  r.min = t.front();
  r.max = t.back();
  return r;
}

// Runs fn once to warm up, then `repeats` times (at least; more while the total stays under
// min_total seconds, up to 10 * repeats) and returns the wall time per call. `around`, if given,
// is called with true before and false after each timed call (e.g. to read a CPU clock).
inline Timing time_repeats(const std::function<void()>& fn, int repeats, double min_total = 0.5,
                           const std::function<void(bool)>& around = {}) {
  using clock = std::chrono::steady_clock;
  fn();
  std::vector<double> t;
  double total = 0;
  while (int(t.size()) < repeats || (total < min_total && int(t.size()) < 10 * repeats)) {
    if (around) around(true);
    const auto a = clock::now();
    fn();
    const double s = std::chrono::duration<double>(clock::now() - a).count();
    if (around) around(false);
    t.push_back(s);
    total += s;
  }
  return summarise_times(std::move(t));
}

// The rows [r0, r1) of an n-point `--sharded` benchmark this rank owns (the fixed 64-row grid of
// owned_rows), after the checks every sharded benchmark makes: the CPU backend unless cuda_ok,
// no more ranks than points.
inline std::pair<index_t, index_t> sharded_bench_rows(const Comm& comm, const std::string& backend,
                                                      index_t n, bool cuda_ok = false) {
  if (!cuda_ok && parse_backend(backend) == BackendChoice::cuda) {
    throw_bad_input("--sharded: the sharded pass runs on the CPU backend only");
  }
  if (index_t(comm.size()) > n) {
    throw_bad_input("--sharded: more ranks (" + std::to_string(comm.size()) + ") than points (" +
                    std::to_string(n) + ")");
  }
  return owned_rows(n, comm.rank(), comm.size());
}

}  // namespace nwgf::cli
