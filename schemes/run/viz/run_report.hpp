#pragma once
// A run directory's summary as one self-contained file (`nwgf report RUN_DIR --out F.pdf|.html`):
//   the run (scheme, n, d, steps, time, wall time per step) and its config.toml
//   metrics.csv over time: F, MMD^2 to the closed form (where there is one), the loss, and the
//   wall time per step
//   the first, middle and last snapshots in one frame (tiles for image data)
// as a PDF of three pages (one per part), or as one HTML page (engine/viz/html.hpp: the config
// as text, the pictures embedded as PNG data: URIs). Bad input (exit 2) names the run directory
// or the file: no such directory, no snapshots, a damaged metrics.csv or snapshot.
#include <string>
#include <vector>

#include "nwgf/engine/viz/picture.hpp"
#include "nwgf/schemes/run/run_dir.hpp"

namespace nwgf {

// The report's content, whatever its format.
struct RunReport {
  std::string title;                 // "nwgf report: RUN_DIR"
  std::vector<std::string> summary;  // the run, one line each
  std::string config;                // config.toml's text; empty when the run has none
  bool has_config = false;
  std::vector<Picture> metrics;    // up to four panels, each one column over time
  std::vector<Picture> snapshots;  // first, middle, last, in one frame
  std::vector<std::string> metric_titles, snapshot_titles;  // one per picture
};
RunReport run_report(const RunDirectory& run);

// The report's pages (A4 landscape, in points).
std::vector<Picture> run_report_pages(const RunDirectory& run);
// The report's HTML page.
std::string run_report_html(const RunDirectory& run);
// The report as a PDF (`path` ending in .pdf) or an HTML page (.html or .htm, any case); any
// other extension is bad input naming --out.
void write_run_report(const RunDirectory& run, const std::string& path);

}  // namespace nwgf
