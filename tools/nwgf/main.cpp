// nwgf: the command-line client. Exit codes (CONTRACT.md): 0 success, 2 bad input with one line
// `error: ...` on stderr, 3 numerical failure, 1 anything else.
// Under an MPI launcher (a build with MPI: engine/comm/comm.hpp) every rank runs this; errors
// are printed by rank 0 only (every rank leaves with the same error and exit code), and only
// `nwgf run` runs across more than one rank.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "nwgf/engine/comm/comm.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/version.hpp"
#include "tools/nwgf/bench.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {
std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}
}  // namespace nwgf::cli

namespace {
// CLI11 messages may span lines; the contract promises one line.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace nwgf::cli;
  const nwgf::CommSession comm_session;
  const nwgf::Comm& comm = comm_session.comm();
  // Rank 0 speaks for all (a build without MPI started by a launcher: the launcher's rank 0).
  const bool speaks = comm.root() && comm_session.launcher_rank() == 0;
  const auto print_error = [speaks](const std::string& message) {
    if (speaks) std::fprintf(stderr, "error: %s\n", message.c_str());
  };
  if (!comm_session.problem().empty()) {
    print_error(comm_session.problem());
    return 2;
  }
  CLI::App app{"nwgf: neural Wasserstein gradient flows of MMD functionals with Riesz kernels"};
  app.set_version_flag("--version", std::string("nwgf ") + NWGF_VERSION_STRING);
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions global;
  global.comm = &comm;
  app.add_option("--threads", global.threads, "CPU threads (default: NWGF_THREADS, else all cores)")
      ->check(CLI::Range(1, 4096));

  auto& registry = command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const CommandSpec& a, const CommandSpec& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (auto& spec : registry) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    runners.emplace_back(sub, spec.setup(*sub, global));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // CLI11 says "A subcommand is required" for a mistyped one; name it instead.
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--threads") {
        ++i;
        continue;
      }
      if (a.empty() || a[0] == '-') continue;
      const bool known = std::any_of(registry.begin(), registry.end(),
                                     [&](const CommandSpec& c) { return c.name == a; });
      if (!known) {
        print_error("unknown subcommand '" + a + "' (see nwgf --help)");
        return 2;
      }
      if (a == "bench" && i + 1 < argc && argv[i + 1][0] != '-') {
        const std::string b = argv[i + 1];
        const auto& benches = bench_registry();
        if (std::none_of(benches.begin(), benches.end(),
                         [&](const CommandSpec& c) { return c.name == b; })) {
          print_error("unknown benchmark '" + b + "' (see nwgf bench --help)");
          return 2;
        }
      }
      break;
    }
    print_error(one_line(e.what()));
    return 2;
  }
  try {
    for (auto& [sub, run] : runners) {
      if (!sub->parsed()) continue;
      // `nwgf bench` checks its own benchmark (bench pairwise --sharded runs across ranks).
      if (comm.size() > 1 && sub->get_name() != "run" && sub->get_name() != "bench") {
        print_error("nwgf " + sub->get_name() +
                    " runs as one process; of the subcommands only "
                    "`nwgf run` (and `nwgf bench pairwise|sliced --sharded`) runs across MPI ranks "
                    "(mpirun -np " +
                    std::to_string(comm.size()) + ")");
        return 2;
      }
      return run();
    }
    return 1;
  } catch (const nwgf::Error& e) {
    print_error(one_line(e.what()));
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
    return 1;
  } catch (const std::exception& e) {
    print_error(one_line(e.what()));
    return 1;
  }
}
