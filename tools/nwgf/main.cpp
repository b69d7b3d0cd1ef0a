// nwgf: the command-line client. Exit codes (CONTRACT.md): 0 success, 2 bad input with one line
// `error: ...` on stderr, 3 numerical failure, 1 anything else.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

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
  CLI::App app{"nwgf: neural Wasserstein gradient flows of MMD functionals with Riesz kernels"};
  app.set_version_flag("--version", std::string("nwgf ") + NWGF_VERSION_STRING);
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions global;
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
        std::fprintf(stderr, "error: unknown subcommand '%s' (see nwgf --help)\n", a.c_str());
        return 2;
      }
      if (a == "bench" && i + 1 < argc && argv[i + 1][0] != '-') {
        const std::string b = argv[i + 1];
        const auto& benches = bench_registry();
        if (std::none_of(benches.begin(), benches.end(),
                         [&](const CommandSpec& c) { return c.name == b; })) {
          std::fprintf(stderr, "error: unknown benchmark '%s' (see nwgf bench --help)\n",
                       b.c_str());
          return 2;
        }
      }
      break;
    }
    std::fprintf(stderr, "error: %s\n", one_line(e.what()).c_str());
    return 2;
  }
  try {
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) return run();
    }
    return 1;
  } catch (const nwgf::Error& e) {
    std::fprintf(stderr, "error: %s\n", one_line(e.what()).c_str());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", one_line(e.what()).c_str());
    return 1;
  }
}
