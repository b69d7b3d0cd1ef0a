// `nwgf bench <name> ...`: dispatches to the benchmarks in tools/nwgf/bench_*.cpp.
#include <memory>
#include <string>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/error.hpp"
#include "tools/nwgf/bench.hpp"

namespace nwgf::cli {

std::vector<CommandSpec>& bench_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

namespace {
CommandRegistrar reg_cmd_bench("bench", "Benchmarks (one JSON object per line on stdout)",
                     [](CLI::App& sub, const GlobalOptions& g) {
                       sub.require_subcommand(1);
                       sub.fallthrough();
                       auto runners = std::make_shared<
                           std::vector<std::pair<CLI::App*, std::function<int()>>>>();
                       auto& reg = bench_registry();
                       std::sort(reg.begin(), reg.end(), [](const auto& a, const auto& b) {
                         return a.name < b.name;
                       });
                       for (auto& spec : reg) {
                         CLI::App* b = sub.add_subcommand(spec.name, spec.description);
                         b->fallthrough();
                         runners->emplace_back(b, spec.setup(*b, g));
                       }
                       return [runners, &g]() -> int {
                         for (auto& [b, run] : *runners) {
                           if (!b->parsed()) continue;
                           // Across ranks only bench pairwise and sliced run (they refuse
                           // without --sharded); every other benchmark is one process's.
                           if (g.comm && g.comm->size() > 1 && b->get_name() != "pairwise" &&
                               b->get_name() != "sliced") {
                             throw_bad_input("nwgf bench " + b->get_name() +
                                             " runs as one process; across MPI ranks only "
                                             "`nwgf bench pairwise|sliced --sharded` runs "
                                             "(mpirun -np " +
                                             std::to_string(g.comm->size()) + ")");
                           }
                           return run();
                         }
                         return 2;
                       };
                     });
}  // namespace
}  // namespace nwgf::cli
