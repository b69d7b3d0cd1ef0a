#pragma once
// Pictures of point sets and of metric curves (engine/viz/picture.hpp: PNG, SVG or PDF from the
// same drawing). Text is DejaVu Sans through cairo; tick steps are 1, 2 or 5 times a power of ten
// and the margins are measured from the labels, so no label is clipped.
#include <string>
#include <vector>

#include "nwgf/engine/types.hpp"
#include "nwgf/engine/viz/picture.hpp"
#include "nwgf/engine/viz/png.hpp"

namespace nwgf {

// How render_density estimates the density: counts per cell, or a Gaussian kernel density
// estimate (engine/viz/kde.hpp).
enum class DensityEstimate { histogram, kde };

struct ScatterOptions {
  int size = 512;               // pixels (square canvas)
  double extent = 0;            // half-width of the shown box around `centre`; 0: fit the data
  std::vector<double> centre;   // default: the origin
  std::vector<double> circles;  // radii of circles drawn around `centre` (e.g. supp gamma(t))
  std::vector<double> target;   // (m, 2) row-major: target samples, drawn in a second colour
  std::string title;            // above the frame
  DensityEstimate density = DensityEstimate::histogram;  // render_density only
  double bandwidth = 0;  // kde: the Gaussian's standard deviation; 0: Scott's rule
};

// Where the data box of a scatter or density picture lies on its canvas: a square of `side`
// pixels with its top-left corner at (left, top); x1 grows to the right, x2 upwards, one scale
// for both (equal aspect). Room is left for the tick labels, axis labels, title and (density)
// the colour bar.
struct ScatterBox {
  double left = 0, top = 0, side = 0;
  double cx = 0, cy = 0, extent = 1;
  double u(double x1) const { return left + (x1 - (cx - extent)) / (2 * extent) * side; }
  double v(double x2) const { return top + ((cy + extent) - x2) / (2 * extent) * side; }
};
ScatterBox scatter_box(const ScatterOptions& opt, double extent, bool colour_bar);

// The dots of n samples: radius in pixels and opacity, large and opaque for a few points, small
// and faint for many, so that 1e2 and 1e6 points both read well.
struct DotStyle {
  double radius, alpha;
};
DotStyle dot_style(index_t n, int size);

// 2-D scatter of n points in R^d (row-major) with axes, ticks and labels; for d > 2 the
// projection onto the first two coordinates, for d = 1 the points on a line. The target samples
// (opt.target) in orange under the samples in blue; circles in black.
Picture render_scatter(const double* x, index_t n, index_t d, const ScatterOptions& opt);
// The half-width render_scatter and render_density show: opt.extent when > 0, else 1.1 times
// the largest |x1 - centre1|, |x2 - centre2| of the finite points and circle radii (1 if none).
double fit_extent(const double* x, index_t n, index_t d, const ScatterOptions& opt);

// Weighted points (w: (n) >= 0), as in the IFT paper's Fig. 4/5: a disc per point whose colour
// intensity grows with w / max w, and a hollow grey circle where w = 0.
Picture render_weighted_scatter(const double* x, const double* w, index_t n, index_t d,
                                const ScatterOptions& opt);

// The density of the same points, framed like render_scatter, on square cells of about 2 pixels
// with a colour bar beside the frame. opt.density histogram: counts per cell coloured with viridis
// by log(1 + count) / log(1 + max count), empty cells white. kde: the Gaussian kernel density
// estimate (kde.hpp; bandwidth opt.bandwidth, or Scott's rule when 0) averaged over each cell,
// coloured linearly from 0 to its peak and drawn smoothly (bilinear), white where it is below
// 1/1000 of its peak. Bad bandwidths are bad input naming --bandwidth.
Picture render_density(const double* x, index_t n, index_t d, const ScatterOptions& opt);

// Viridis (matplotlib's perceptual colour map) at t in [0, 1].
Rgb viridis(double t);

struct TileOptions {
  int tile_height = 28, tile_width = 28;  // one row of x is a tile_height x tile_width image
  int columns = 10;                       // tiles per grid row
  int scale = 2;                          // pixels per image pixel
  int gap = 2;                            // pixels between tiles
  std::string title;                      // drawn above the grid when not empty
  // Labels of the grid's rows (left of each row, e.g. the sample) and columns (above each
  // column, e.g. the time), as many as there are rows / columns; empty: none (no margin).
  std::vector<std::string> row_labels, column_labels;
};

// Where render_tiles puts things: the canvas size, the grid's top-left corner, the distance
// from one tile to the next, and the label fonts (pixels; 0 without labels). Tile k (grid row
// k / columns, column k % columns) has its top-left pixel at (tile_x(k), tile_y(k)); the gaps
// between tiles, around the grid, are the grid's grey lines.
struct TileLayout {
  int width = 0, height = 0;
  int grid_left = 0, grid_top = 0, grid_width = 0, grid_height = 0;
  int step_x = 0, step_y = 0, gap = 0, columns = 1, rows = 1;
  double title_fs = 0, row_fs = 0, column_fs = 0;
  int tile_x(index_t k) const { return grid_left + gap + int(k % columns) * step_x; }
  int tile_y(index_t k) const { return grid_top + gap + int(k / columns) * step_y; }
};
// Bad input: tile size, columns or scale not positive, a negative gap, n < 1, more labels than
// rows or columns, a canvas over 32768 pixels a side.
TileLayout tile_layout(index_t n, const TileOptions& opt);

// Rows of x (n, d = tile_height * tile_width, row-major image rows) as a grid of grayscale tiles,
// `columns` per grid row, on a grey background (the grid). Values are clipped to [0, 1]; 1 is
// dark ink on white (dark = mass, as in the image targets). With labels, each grid row's label
// sits left of it (right-aligned, vertically centred) and each column's above it (centred),
// their fonts shrunk to fit a tile's height / width. d != tile_height * tile_width is bad input.
Picture render_tiles(const double* x, index_t n, index_t d, const TileOptions& opt);

struct Series {
  std::string name;
  std::vector<double> x, y;  // non-finite or (log scale) non-positive y are skipped
  Rgb color{31, 119, 180};
  // Optional band (as long as x, e.g. mean -+ standard deviation of seeds): filled in the
  // series' colour, translucent, under the curve; points where either end is unusable skipped.
  std::vector<double> low = {}, high = {};
};

struct LinePlotOptions {
  int width = 720, height = 480;
  bool log_y = true;
  std::string title, x_label, y_label;
};

// Curves with axes, 1-2-5 ticks (decades on a log axis spanning several) and a legend to the
// right of the data (the paper's Fig. 4 style: MMD^2 over time, log scale); series with an empty
// name are left out of the legend.
Picture render_lines(const std::vector<Series>& series, const LinePlotOptions& opt);

// Where render_lines puts the data: its plot area in pixels (for tests and overlays).
struct LineBox {
  double left = 0, top = 0, width = 0, height = 0;
};
LineBox line_box(const std::vector<Series>& series, const LinePlotOptions& opt);

// Lines of text on a page of width x height: a title, then the lines in DejaVu Sans Mono, in
// as many columns as they need (the font shrinks when they do not fit).
Picture render_text_page(const std::string& title, const std::vector<std::string>& lines, int width,
                         int height);

}  // namespace nwgf
