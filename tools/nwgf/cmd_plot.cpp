// `nwgf plot RUN_DIR... --column C --out F.png|.svg|.pdf [--log] [--title T]`: one column of several runs'
// metrics.csv over time in one picture (the paper's Fig. 8: MMD^2 to the exact flow of each
// scheme). One curve per run, named by the run's scheme (manifest.json) or else its directory.
// With --seeds, runs whose directory names differ only in a trailing _s<digits> (seeds of one
// config) are one curve: the mean over the seeds, with mean +- standard deviation as a translucent
// band (the IFT paper's Fig. 3); the rows are matched by position (same config, same rows).
// --x picks the x column (default time; e.g. paper_step).
// Prints one JSON object: out, column, runs, points, width, height.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/viz/plot.hpp"
#include "nwgf/engine/viz/picture.hpp"
#include "nwgf/schemes/run/run_dir.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {
namespace {

namespace fs = std::filesystem;

struct PlotCliOptions {
  std::vector<std::string> runs;
  std::string column, out, title, x = "time";
  bool log = false, seeds = false;
};

// (x column, column) of one run's metrics.csv.
Series read_series(const std::string& dir, const std::string& column, const std::string& x) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw_bad_input("RUN_DIR: " + dir + " is not a directory");
  const RunDirectory run(dir);
  if (!run.has_metrics()) throw_bad_input("RUN_DIR: no metrics.csv in " + dir);
  const MetricsTable table = run.read_metrics();
  const std::size_t t = table.column(x), c = table.column(column);
  const std::string file = run.path("metrics.csv");
  if (t == table.columns.size()) throw_bad_input("--x: no '" + x + "' column in " + file);
  if (c == table.columns.size()) {
    std::string names;
    for (const auto& n : table.columns) names += (names.empty() ? "" : ",") + n;
    throw_bad_input("--column: '" + column + "' is not a column of " + file + " (columns: " +
                    names + ")");
  }
  Series s;
  for (const auto& row : table.rows) {
    s.x.push_back(row[t]);
    s.y.push_back(row[c]);
  }
  return s;
}

// The seed group of a run directory: its name without a trailing _s<digits>.
std::string seed_group(const std::string& dir) {
  const std::string name = fs::path(dir).lexically_normal().filename().string();
  const auto at = name.rfind("_s");
  if (at == std::string::npos || at + 2 == name.size()) return name;
  for (std::size_t k = at + 2; k < name.size(); ++k) {
    if (!std::isdigit((unsigned char)name[k])) return name;
  }
  return name.substr(0, at);
}

// Mean and mean +- standard deviation over the runs of one group (rows matched by position;
// a row is kept where every run has a finite value).
std::vector<Series> seed_band(const std::vector<Series>& runs, const std::string& name, Rgb color) {
  std::size_t rows = runs.front().y.size();
  for (const auto& r : runs) rows = std::min(rows, r.y.size());
  Series mean, lo, hi;
  for (std::size_t k = 0; k < rows; ++k) {
    double s = 0, s2 = 0;
    bool ok = true;
    for (const auto& r : runs) {
      ok = ok && std::isfinite(r.y[k]);
      s += r.y[k];
      s2 += r.y[k] * r.y[k];
    }
    if (!ok) continue;
    const double n = double(runs.size()), m = s / n;
    const double sd = runs.size() > 1 ? std::sqrt(std::max(0.0, (s2 - n * m * m) / (n - 1))) : 0;
    for (Series* p : {&mean, &lo, &hi}) p->x.push_back(runs.front().x[k]);
    mean.y.push_back(m);
    lo.y.push_back(m - sd);
    hi.y.push_back(m + sd);
  }
  mean.name = name + " (" + std::to_string(runs.size()) + ")";
  mean.color = color;
  mean.low = std::move(lo.y);
  mean.high = std::move(hi.y);
  return {mean};
}

int run_plot(const PlotCliOptions& o) {
  picture_format(o.out, "--out");  // .png, .svg or .pdf
  // Matplotlib's tab10 colours.
  static const Rgb palette[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                {188, 189, 34},  {23, 190, 207}};
  std::vector<Series> series;
  std::vector<std::string> schemes;
  long long points = 0;
  for (std::size_t i = 0; i < o.runs.size(); ++i) {
    Series s = read_series(o.runs[i], o.column, o.x);
    for (std::size_t k = 0; k < s.y.size(); ++k) {
      if (std::isfinite(s.x[k]) && std::isfinite(s.y[k]) && (!o.log || s.y[k] > 0)) ++points;
    }
    s.color = palette[i % (sizeof palette / sizeof palette[0])];
    schemes.push_back(RunDirectory(o.runs[i]).manifest_scheme());
    series.push_back(std::move(s));
  }
  if (points == 0) {
    throw_bad_input("--column: no " + std::string(o.log ? "positive " : "finite ") + "values of '" +
                    o.column + "' in the runs given");
  }
  // The scheme names the curve unless it is missing or two runs share it.
  bool by_scheme = true;
  for (std::size_t i = 0; i < schemes.size(); ++i) {
    by_scheme = by_scheme && !schemes[i].empty() &&
                std::count(schemes.begin(), schemes.end(), schemes[i]) == 1;
  }
  for (std::size_t i = 0; i < series.size(); ++i) {
    series[i].name =
        by_scheme ? schemes[i] : fs::path(o.runs[i]).lexically_normal().filename().string();
    if (series[i].name.empty()) series[i].name = o.runs[i];
  }
  if (o.seeds) {
    std::vector<std::string> groups;
    for (const auto& r : o.runs) {
      const std::string g = seed_group(r);
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
    std::vector<Series> banded;
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      std::vector<Series> members;
      for (std::size_t i = 0; i < o.runs.size(); ++i) {
        if (seed_group(o.runs[i]) == groups[gi]) members.push_back(series[i]);
      }
      for (auto& s : seed_band(members, groups[gi], palette[gi % (sizeof palette / sizeof palette[0])])) {
        banded.push_back(std::move(s));
      }
    }
    series = std::move(banded);
  }
  LinePlotOptions po;
  po.log_y = o.log;
  po.title = o.title.empty() ? o.column : o.title;
  po.x_label = o.x;
  if (!o.title.empty()) po.y_label = o.column;  // else the title is the column
  const Picture img = render_lines(series, po);
  write_picture(o.out, img);
  JsonObject out;
  out.add("out", o.out)
      .add("column", o.column)
      .add("runs", (long long)o.runs.size())
      .add("points", points)
      .add("width", img.width)
      .add("height", img.height);
  std::printf("%s\n", out.str().c_str());
  return 0;
}

CommandRegistrar reg_cmd_plot(
    "plot", "One metrics.csv column of several runs over time, as a line plot (PNG, SVG or PDF)",
    [](CLI::App& sub, const GlobalOptions&) {
      auto o = std::make_shared<PlotCliOptions>();
      sub.add_option("RUN_DIR", o->runs, "Run directories of `nwgf run`")->required();
      sub.add_option("--column", o->column, "metrics.csv column, e.g. mmd2_analytic or functional")
          ->required();
      sub.add_option("--out", o->out, "Output picture (.png, .svg or .pdf)")->required();
      sub.add_flag("--log", o->log, "Logarithmic y axis (non-positive values skipped)");
      sub.add_option("--title", o->title, "Title (default: the column)");
      sub.add_option("--x", o->x, "metrics.csv column of the x axis (default time), e.g. paper_step");
      sub.add_flag("--seeds", o->seeds,
                   "Runs named NAME_s<digits> are seeds of one curve: mean, and mean +- std");
      return [o] { return run_plot(*o); };
    });

}  // namespace
}  // namespace nwgf::cli
