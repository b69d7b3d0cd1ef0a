// `nwgf plot RUN_DIR... --column C --out F.png [--log] [--title T]`: one column of several runs'
// metrics.csv over time in one picture (the paper's Fig. 8: MMD^2 to the exact flow of each
// scheme). One curve per run, named by the run's scheme (manifest.json) or else its directory.
// Prints one JSON object: out, column, runs, points, width, height.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/io/file_io.hpp"
#include "engine/io/json.hpp"
#include "engine/viz/plot.hpp"
#include "engine/viz/png.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {
namespace {

namespace fs = std::filesystem;

struct PlotCliOptions {
  std::vector<std::string> runs;
  std::string column, out, title;
  bool log = false;
};

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream ls(line);
  std::string cell;
  while (std::getline(ls, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// A cell of metrics.csv: empty is NaN (not evaluated); anything else must be a number.
double parse_cell(const std::string& s, const std::string& file, std::size_t line) {
  if (s.empty()) return std::nan("");
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size()) {
    throw_bad_input(file + ":" + std::to_string(line) + ": '" + s + "' is not a number");
  }
  return v;
}

// The scheme named in the run's manifest.json ("scheme" : "backward"), or "" when there is none.
std::string manifest_scheme(const std::string& dir) {
  const fs::path p = fs::path(dir) / "manifest.json";
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return "";
  const std::string text = read_file(p.string());
  const std::size_t key = text.find("\"scheme\"");
  if (key == std::string::npos) return "";
  const std::size_t colon = text.find(':', key);
  const std::size_t open = colon == std::string::npos ? colon : text.find('"', colon);
  const std::size_t close = open == std::string::npos ? open : text.find('"', open + 1);
  if (close == std::string::npos) return "";
  return text.substr(open + 1, close - open - 1);
}

// (time, column) of one run's metrics.csv.
Series read_series(const std::string& dir, const std::string& column) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw_bad_input("RUN_DIR: " + dir + " is not a directory");
  const std::string file = (fs::path(dir) / "metrics.csv").string();
  if (!fs::is_regular_file(file, ec)) throw_bad_input("RUN_DIR: no metrics.csv in " + dir);
  std::istringstream in(read_file(file));
  std::string line;
  if (!std::getline(in, line)) throw_bad_input(file + ": empty, expected a header line");
  const std::vector<std::string> header = split_csv_line(line);
  const auto find = [&](const std::string& name) {
    return std::size_t(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const std::size_t t = find("time"), c = find(column);
  if (t == header.size()) throw_bad_input(file + ": no 'time' column in the header");
  if (c == header.size()) {
    throw_bad_input("--column: '" + column + "' is not a column of " + file + " (columns: " + line +
                    ")");
  }
  Series s;
  std::size_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const std::vector<std::string> cells = split_csv_line(line);
    if (cells.size() != header.size()) {
      throw_bad_input(file + ":" + std::to_string(number) + ": " + std::to_string(cells.size()) +
                      " cells, the header has " + std::to_string(header.size()));
    }
    s.x.push_back(parse_cell(cells[t], file, number));
    s.y.push_back(parse_cell(cells[c], file, number));
  }
  return s;
}

int run_plot(const PlotCliOptions& o) {
  std::string ext = fs::path(o.out).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return char(std::tolower(ch)); });
  if (ext != ".png") throw_bad_input("--out: " + o.out + " must end in .png");
  // Matplotlib's tab10 colours.
  static const Rgb palette[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                {188, 189, 34},  {23, 190, 207}};
  std::vector<Series> series;
  std::vector<std::string> schemes;
  long long points = 0;
  for (std::size_t i = 0; i < o.runs.size(); ++i) {
    Series s = read_series(o.runs[i], o.column);
    for (std::size_t k = 0; k < s.y.size(); ++k) {
      if (std::isfinite(s.x[k]) && std::isfinite(s.y[k]) && (!o.log || s.y[k] > 0)) ++points;
    }
    s.color = palette[i % (sizeof palette / sizeof palette[0])];
    schemes.push_back(manifest_scheme(o.runs[i]));
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
  LinePlotOptions po;
  po.log_y = o.log;
  po.title = o.title.empty() ? o.column : o.title;
  po.x_label = "time";
  if (!o.title.empty()) po.y_label = o.column;  // else the title is the column
  const Image img = render_lines(series, po);
  write_png(o.out, img);
  JsonObject out;
  out.add("out", o.out)
      .add("column", o.column)
      .add("runs", (long long)series.size())
      .add("points", points)
      .add("width", img.width())
      .add("height", img.height());
  std::printf("%s\n", out.str().c_str());
  return 0;
}

CommandRegistrar reg(
    "plot", "One metrics.csv column of several runs over time, as a PNG line plot",
    [](CLI::App& sub, const GlobalOptions&) {
      auto o = std::make_shared<PlotCliOptions>();
      sub.add_option("RUN_DIR", o->runs, "Run directories of `nwgf run`")->required();
      sub.add_option("--column", o->column, "metrics.csv column, e.g. mmd2_analytic or functional")
          ->required();
      sub.add_option("--out", o->out, "Output picture (.png)")->required();
      sub.add_flag("--log", o->log, "Logarithmic y axis (non-positive values skipped)");
      sub.add_option("--title", o->title, "Title (default: the column)");
      return [o] { return run_plot(*o); };
    });

}  // namespace
}  // namespace nwgf::cli
