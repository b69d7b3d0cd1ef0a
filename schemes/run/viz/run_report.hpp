#pragma once
// A run directory's summary as one self-contained PDF (`nwgf report RUN_DIR --out F.pdf`):
//   page 1  the run (scheme, n, d, steps, time, wall time per step) and its config.toml
//   page 2  metrics.csv over time: F, MMD^2 to the closed form (where there is one), the loss,
//           and the wall time per step
//   page 3  the first, middle and last snapshots in one frame (tiles for image data)
// Bad input (exit 2) names the run directory or the file: no such directory, no snapshots, a
// damaged metrics.csv or snapshot.
#include <string>
#include <vector>

#include "nwgf/engine/viz/picture.hpp"
#include "nwgf/schemes/run/run_dir.hpp"

namespace nwgf {

// The report's pages (A4 landscape, in points).
std::vector<Picture> run_report_pages(const RunDirectory& run);
// The pages as one PDF; `pdf_path` must end in .pdf (bad input naming --out otherwise).
void write_run_report(const RunDirectory& run, const std::string& pdf_path);

}  // namespace nwgf
