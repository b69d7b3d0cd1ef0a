// `nwgf run CONFIG.toml [--out DIR] [--backend auto|cpu|cuda] [--set key=value]... [--resume]
// [--trace FILE]`:
// a thin client of schemes/flow.hpp (run_flow) that installs the run's pictures
// (schemes/run/viz/run_plots.hpp). Exit codes: 0 done, 2 bad config/flag, 3 NaN/Inf.
// `nwgf run --help-config[=text|markdown]`: the reference of every config key (the README's
// table is the markdown form).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/types.hpp"
#include "nwgf/schemes/flow.hpp"
#include "nwgf/schemes/run/run_trace.hpp"
#include "nwgf/schemes/run/viz/run_plots.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {
namespace {

struct RunArgs {
  std::string config;
  std::string out;
  std::string backend = "auto";
  std::vector<std::string> sets;
  bool resume = false;
  std::string trace;
  bool trace_given = false;
  std::string help_config;  // "": run; "text" | "markdown": print the config reference
};

int run_command(const GlobalOptions& g, const RunArgs& a) {
  if (!a.help_config.empty()) {
    if (a.help_config != "text" && a.help_config != "markdown") {
      throw_bad_input("--help-config: '" + a.help_config + "' is not one of text, markdown");
    }
    std::fputs(config_reference(a.help_config == "markdown" ? ReferenceFormat::markdown
                                                            : ReferenceFormat::text)
                   .c_str(),
               stdout);
    return 0;
  }
  if (a.config.empty()) throw_bad_input("config: a config file is required (nwgf run CONFIG.toml)");
  if (a.trace_given && a.trace.empty()) throw_bad_input("--trace: a file name is required");
  const Comm& comm = g.comm ? *g.comm : single_process_comm();
  // Each rank reads the config (a rank that cannot is every rank's error: no rank waits).
  FlowConfig cfg;
  collective(comm, [&] { cfg = load_flow_config(a.config, a.sets); });
  RunOptions opt;
  opt.comm = &comm;
  opt.backend = parse_backend(a.backend);
  opt.threads = g.threads;
  opt.out_dir = a.out.empty()
                    ? "runs/" + std::filesystem::path(a.config).stem().string()
                    : a.out;
  opt.resume = a.resume;
  opt.trace_path = a.trace;
  if (comm.root()) opt.observers.push_back(make_run_plots());
  const RunResult r = run_flow(cfg, opt);
  if (!comm.root()) return 0;
  // The final line names where the time went (manifest.json `phases` has every phase).
  std::fprintf(stderr, "done: %lld steps, t = %.6g, output in %s; %.3g s, top phases: %s\n",
               (long long)r.steps, r.time, opt.out_dir.c_str(), r.wall_seconds,
               top_phases(r.phases).c_str());
  return 0;
}

CommandRegistrar reg_cmd_run("run", "Run a flow (backward, forward or particle scheme) from a TOML config",
                     [](CLI::App& sub, const GlobalOptions& g) {
                       auto a = std::make_shared<RunArgs>();
                       sub.add_option("config", a->config, "Config file (TOML)");
                       sub.add_option("--out", a->out, "Run directory (default runs/<config name>)");
                       sub.add_option("--backend", a->backend, "auto | cpu | cuda");
                       sub.add_option("--set", a->sets,
                                      "Override a config key: key=value (value is TOML)")
                           ->allow_extra_args(false)
                           ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
                       sub.add_flag("--resume", a->resume,
                                    "Continue from the checkpoint in the run directory");
                       sub.add_option("--trace", a->trace,
                                      "Write a Chrome Trace Event / Perfetto JSON of the run's "
                                      "phases to this file")
                           ->each([a](const std::string&) { a->trace_given = true; });
                       sub.add_option("--help-config", a->help_config,
                                      "Print the reference of every config key (text | markdown) "
                                      "and exit")
                           ->expected(0, 1)
                           ->default_str("text");
                       return [&g, a] { return run_command(g, *a); };
                     });

}  // namespace
}  // namespace nwgf::cli
