// `nwgf report RUN_DIR --out F.pdf|F.html`: a run's summary as one PDF or one self-contained HTML
// page (schemes/run/viz/run_report.hpp).
// Prints one JSON object: out, run.
#include <cstdio>
#include <memory>
#include <string>

#include "nwgf/engine/io/json.hpp"
#include "nwgf/schemes/run/viz/run_report.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {
namespace {

struct ReportCliOptions {
  std::string run, out;
};

CommandRegistrar reg_cmd_report(
    "report",
    "A run directory's summary as a PDF or HTML page: config, metrics plots, first/middle/last "
    "snapshots",
    [](CLI::App& sub, const GlobalOptions&) {
      auto o = std::make_shared<ReportCliOptions>();
      sub.add_option("RUN_DIR", o->run, "A run directory of `nwgf run`")->required();
      sub.add_option("--out", o->out, "Output file: .pdf, or .html (one page, pictures embedded)")
          ->required();
      return [o] {
        write_run_report(RunDirectory(o->run), o->out);
        JsonObject out;
        out.add("out", o->out).add("run", o->run);
        std::printf("%s\n", out.str().c_str());
        return 0;
      };
    });

}  // namespace
}  // namespace nwgf::cli
