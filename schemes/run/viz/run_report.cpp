#include "nwgf/schemes/run/viz/run_report.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/viz/html.hpp"
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

std::string lower_extension(const std::string& path) {
  std::string e = std::filesystem::path(path).extension().string();
  for (char& c : e) c = char(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

}  // namespace

void write_run_report(const RunDirectory& run, const std::string& path) {
  const std::string ext = lower_extension(path);
  if (ext == ".html" || ext == ".htm") {
    write_file_atomic(path, run_report_html(run));
    return;
  }
  if (ext != ".pdf") {
    throw_bad_input("--out: " + path + " must end in .pdf or .html (a report has several parts)");
  }
  write_pdf_pages(path, run_report_pages(run));
}

RunReport run_report(const RunDirectory& run) {
  std::error_code ec;
  if (!std::filesystem::is_directory(run.dir(), ec)) {
    throw_bad_input("RUN_DIR: " + run.dir() + " is not a directory");
  }
  const std::vector<SnapshotFile> snaps = run.snapshots();
  const MetricsTable table = run.has_metrics() ? run.read_metrics() : MetricsTable{};
  const std::string scheme = run.manifest_scheme();
  RunReport report;
  report.title = "nwgf report: " + run.dir();

  // The run and its config.
  std::vector<std::string>& lines = report.summary;
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
  const std::string config = run.path("config.toml");
  report.has_config = std::filesystem::exists(config, ec);
  if (report.has_config) report.config = read_file(config);

  // Metrics, up to four panels.
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
    report.metrics.push_back(render_lines({s}, o));
    report.metric_titles.push_back(title + " over time");
  };
  add(column_series(table, "functional", Rgb{31, 119, 180}), "functional F", false);
  add(column_series(table, "mmd2_analytic", Rgb{214, 39, 40}), "MMD^2 to the closed form", true);
  add(column_series(table, "loss", Rgb{44, 160, 44}), "training loss", false);
  add(per_step, "wall seconds per step", true);

  // The first, middle and last snapshots, one frame for all, each at most 270 a side.
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
  for (int k = 0; k < 3; ++k) {
    const std::size_t i = picks[k];
    ro.scatter.title = ro.tiles.title = "step " + std::to_string(snaps[i].step);
    report.snapshot_titles.push_back("the samples at " + ro.scatter.title);
    const HostMatrix<double>& m = shown[std::size_t(k)];
    const Picture p = render_points(m.data.data(), m.rows, m.cols, ro);
    const double scale = std::min(1.0, 270.0 / std::max(p.width, p.height));
    report.snapshots.push_back(arrange(int(std::ceil(p.width * scale)),
                                       int(std::ceil(p.height * scale)), {Placed{p, 0, 0, scale}}));
  }
  return report;
}

std::vector<Picture> run_report_pages(const RunDirectory& run) {
  const RunReport report = run_report(run);
  // Page 1: the run and its config.
  std::vector<std::string> lines = report.summary;
  lines.push_back("");
  lines.push_back("config.toml:");
  if (report.has_config) {
    std::istringstream in(report.config);
    for (std::string l; std::getline(in, l);) lines.push_back("  " + l);
  } else {
    lines.push_back("  (none)");
  }
  std::vector<Picture> pages{render_text_page(report.title, lines, page_w, page_h)};
  // Page 2: the metrics, two by two.
  if (!report.metrics.empty()) {
    std::vector<Placed> placed;
    for (std::size_t i = 0; i < report.metrics.size(); ++i) {
      placed.push_back(
          {report.metrics[i], 14.0 + 414.0 * double(i % 2), 28.0 + 280.0 * double(i / 2), 1});
    }
    pages.push_back(arrange(page_w, page_h, placed));
  }
  // Page 3: the snapshots side by side.
  std::vector<Placed> snaps_placed;
  for (std::size_t k = 0; k < report.snapshots.size(); ++k) {
    snaps_placed.push_back({report.snapshots[k], 8.0 + 278.0 * double(k), 120.0, 1});
  }
  pages.push_back(arrange(page_w, page_h, snaps_placed));
  return pages;
}

std::string run_report_html(const RunDirectory& run) {
  const RunReport report = run_report(run);
  HtmlPage page(report.title);
  page.heading("The run");
  for (const std::string& l : report.summary) page.paragraph(l);
  page.heading("config.toml");
  if (report.has_config) {
    page.preformatted(report.config);
  } else {
    page.paragraph("(none)");
  }
  if (!report.metrics.empty()) {
    page.heading("Metrics");
    for (std::size_t i = 0; i < report.metrics.size(); ++i)
      page.picture(report.metrics[i], report.metric_titles[i]);
  }
  page.heading("First, middle and last snapshots");
  for (std::size_t i = 0; i < report.snapshots.size(); ++i)
    page.picture(report.snapshots[i], report.snapshot_titles[i]);
  return page.str();
}

}  // namespace nwgf
