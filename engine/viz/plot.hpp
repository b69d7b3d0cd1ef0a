#pragma once
// Pictures of point sets and of metric curves, drawn into engine/viz/png.hpp images.
#include <string>
#include <vector>

#include "nwgf/engine/viz/png.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

struct ScatterOptions {
  int size = 512;               // pixels (square)
  double extent = 0;            // half-width of the shown box around `centre`; 0: fit the data
  std::vector<double> centre;   // default: the origin
  std::vector<double> circles;  // radii of circles drawn around `centre` (e.g. supp gamma(t))
  std::string title;            // top-left label
};

// 2-D scatter of n points in R^d (row-major); for d > 2 the projection onto the first two
// coordinates, for d = 1 the points on a line. Dot opacity adapts to n.
Image render_scatter(const double* x, index_t n, index_t d, const ScatterOptions& opt);
// The half-width render_scatter and render_density show: opt.extent when > 0, else 1.1 times
// the largest |x1 - centre1|, |x2 - centre2| of the finite points and circle radii (1 if none).
double fit_extent(const double* x, index_t n, index_t d, const ScatterOptions& opt);

// Weighted points (w: (n) >= 0), as in the IFT paper's Fig. 4/5: a disc per point whose colour
// intensity grows with w / max w, and a hollow grey circle where w = 0.
Image render_weighted_scatter(const double* x, const double* w, index_t n, index_t d,
                              const ScatterOptions& opt);

// 2-D histogram of the same points, framed like render_scatter (extent, centre, circles, title):
// cells of 2x2 pixels shaded by log(1 + count) / log(1 + max count), so both dense cores and
// sparse tails stay visible when n is large.
Image render_density(const double* x, index_t n, index_t d, const ScatterOptions& opt);

struct TileOptions {
  int tile_height = 28, tile_width = 28;  // one row of x is a tile_height x tile_width image
  int columns = 10;                       // tiles per grid row
  int scale = 2;                          // pixels per image pixel
  int gap = 2;                            // pixels between tiles
  std::string title;                      // drawn above the grid when not empty
};

// Rows of x (n, d = tile_height * tile_width, row-major image rows) as a grid of grayscale tiles,
// `columns` per grid row. Values are clipped to [0, 1]; 1 is dark ink on white (dark = mass, as
// in the image targets). d != tile_height * tile_width is bad input.
Image render_tiles(const double* x, index_t n, index_t d, const TileOptions& opt);

struct Series {
  std::string name;
  std::vector<double> x, y;  // non-finite or (log scale) non-positive y are skipped
  Rgb color{31, 119, 180};
};

struct LinePlotOptions {
  int width = 720, height = 480;
  bool log_y = true;
  std::string title, x_label, y_label;
};

// Curves with axes, ticks and a legend (the paper's Fig. 4 style: MMD^2 over time, log scale);
// series with an empty name are left out of the legend.
Image render_lines(const std::vector<Series>& series, const LinePlotOptions& opt);

// Text with stb_easy_font glyphs, `scale` pixels per font unit; returns the width drawn.
int draw_text(Image& img, int x, int y, const std::string& text, Rgb color, int scale = 1);
void draw_line(Image& img, double x0, double y0, double x1, double y1, Rgb color);
void draw_circle(Image& img, double cx, double cy, double radius, Rgb color);

}  // namespace nwgf
