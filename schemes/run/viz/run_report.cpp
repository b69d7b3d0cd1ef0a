#include "nwgf/schemes/run/viz/run_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/viz/picture.hpp"
#include "nwgf/engine/viz/plot.hpp"
#include "nwgf/engine/viz/render.hpp"

namespace nwgf {
namespace {

// A4 landscape in points.
constexpr int page_w = 842, page_h = 595;

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// The finite values of column `name` against time (empty when there is no such column).
Series column_series(const MetricsTable& t, const std::string& name, Rgb colour) {
  Series s{name, {}, {}, colour};
  const std::size_t c = t.column(name), time = t.column("time");
  if (c == t.columns.size() || time == t.columns.size()) return s;
  for (const auto& row : t.rows) {
    if (std::isfinite(row[c]) && std::isfinite(row[time])) {
      s.x.push_back(row[time]);
      s.y.push_back(row[c]);
    }
  }
  return s;
}

}  // namespace

void write_run_report(const RunDirectory& run, const std::string& pdf_path) {
  if (picture_format(pdf_path, "--out") != PictureFormat::pdf) {
    throw_bad_input("--out: " + pdf_path + " must end in .pdf (a report has several pages)");
  }
  write_pdf_pages(pdf_path, run_report_pages(run));
}

std::vector<Picture> run_report_pages(const RunDirectory& run) {
  std::error_code ec;
  if (!std::filesystem::is_directory(run.dir(), ec)) {
    throw_bad_input("RUN_DIR: " + run.dir() + " is not a directory");
  }
  const std::vector<SnapshotFile> snaps = run.snapshots();
  const MetricsTable table = run.has_metrics() ? run.read_metrics() : MetricsTable{};
  const std::string scheme = run.manifest_scheme();

  // Page 1: the run and its config.
  std::vector<std::string> lines;
  const HostMatrix<double> first = read_npy<double>(snaps.front().path);
  lines.push_back("scheme " + (scheme.empty() ? std::string("(no manifest)") : scheme) +
                  ", n = " + std::to_string(first.rows) + ", d = " + std::to_string(first.cols) +
                  ", snapshots " + std::to_string(snaps.size()) + " (steps " +
                  std::to_string(snaps.front().step) + " .. " + std::to_string(snaps.back().step) +
                  ")");
  // metrics.csv's wall_seconds is each step's own wall time.
  Series per_step = column_series(table, "wall_seconds", Rgb{127, 127, 127});
  const Series time = column_series(table, "time", Rgb{});
  if (!time.y.empty()) {
    lines.push_back("metrics.csv: " + std::to_string(table.rows.size()) + " rows, t = " +
                    fmt("%.6g", time.y.front()) + " .. " + fmt("%.6g", time.y.back()));
  }
  if (!per_step.y.empty()) {
    std::vector<double> w = per_step.y;
    double total = 0;
    for (double v : w) total += v;
    std::sort(w.begin(), w.end());
    lines.push_back("wall time of the steps " + fmt("%.4g", total) + " s, per step median " +
                    fmt("%.4g", w[w.size() / 2]) + " s, max " + fmt("%.4g", w.back()) + " s");
  }
  lines.push_back("");
  lines.push_back("config.toml:");
  const std::string config = run.path("config.toml");
  if (std::filesystem::exists(config, ec)) {
    std::istringstream in(read_file(config));
    for (std::string l; std::getline(in, l);) lines.push_back("  " + l);
  } else {
    lines.push_back("  (none)");
  }
  std::vector<Picture> pages{render_text_page("nwgf report: " + run.dir(), lines, page_w, page_h)};

  // Page 2: metrics, up to four panels.
  std::vector<Picture> panels;
  auto add = [&](Series s, const std::string& title, bool log) {
    bool any = false;
    for (double y : s.y) any = any || (std::isfinite(y) && (!log || y > 0));
    if (!any) return;
    LinePlotOptions o;
    o.width = 400;
    o.height = 262;
    o.log_y = log;
    o.title = title;
    o.x_label = "time";
    s.name.clear();
    panels.push_back(render_lines({s}, o));
  };
  add(column_series(table, "functional", Rgb{31, 119, 180}), "functional F", false);
  add(column_series(table, "mmd2_analytic", Rgb{214, 39, 40}), "MMD^2 to the closed form", true);
  add(column_series(table, "loss", Rgb{44, 160, 44}), "training loss", false);
  add(per_step, "wall seconds per step", true);
  if (!panels.empty()) {
    std::vector<Placed> placed;
    for (std::size_t i = 0; i < panels.size(); ++i) {
      placed.push_back({panels[i], 14.0 + 414.0 * double(i % 2), 28.0 + 280.0 * double(i / 2), 1});
    }
    pages.push_back(arrange(page_w, page_h, placed));
  }

  // Page 3: the first, middle and last snapshots, one frame for all.
  const std::size_t picks[3] = {0, (snaps.size() - 1) / 2, snaps.size() - 1};
  std::vector<HostMatrix<double>> shown;
  for (std::size_t k : picks) {
    shown.push_back(k == 0 ? first : read_npy<double>(snaps[k].path));
    if (shown.back().cols != first.cols) {
      throw_bad_input(snaps[k].path + ": " + std::to_string(shown.back().cols) +
                      " columns, the first snapshot has " + std::to_string(first.cols));
    }
  }
  RenderOptions ro;
  ro.scatter.size = 270;
  ro.max_tiles = 25;
  ro.tiles.columns = 5;
  ro.tiles.scale = 1;
  double extent = 0;
  for (const auto& m : shown)
    extent = std::max(extent, fit_extent(m.data.data(), m.rows, m.cols, ro.scatter));
  ro.scatter.extent = extent;
  std::vector<Placed> snaps_placed;
  for (int k = 0; k < 3; ++k) {
    const std::size_t i = picks[k];
    ro.scatter.title = ro.tiles.title = "step " + std::to_string(snaps[i].step);
    const HostMatrix<double>& m = shown[std::size_t(k)];
    const Picture p = render_points(m.data.data(), m.rows, m.cols, ro);
    const double scale = std::min(1.0, 270.0 / std::max(p.width, p.height));
    snaps_placed.push_back({p, 8.0 + 278.0 * k, 120.0, scale});
  }
  pages.push_back(arrange(page_w, page_h, snaps_placed));
  return pages;
}

}  // namespace nwgf
