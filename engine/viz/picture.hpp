#pragma once
// A picture: its size and how to draw it with cairo, written as PNG, SVG or PDF from the same
// drawing code, or rasterized into an Image (GIF frames, tests). Units are pixels for PNG and
// points (1/72 in) for SVG and PDF, so one picture has the same layout in every format.
// cairo is an implementation detail of the viz library: this header only names its context.
#include <functional>
#include <string>
#include <vector>

#include "nwgf/engine/viz/png.hpp"

struct _cairo;  // cairo_t (cairo.h: typedef struct _cairo cairo_t)

namespace nwgf {

struct Picture {
  int width = 0, height = 0;
  // Draws onto a white canvas of width x height; owns the data it draws.
  std::function<void(_cairo*)> draw;
};

enum class PictureFormat { png, svg, pdf };

// The format of `path` by its extension (.png, .svg, .pdf, any case); anything else is bad input
// naming `flag` and the path.
PictureFormat picture_format(const std::string& path, const std::string& flag = "--out");
// The file's bytes.
std::string encode_picture(const Picture& pic, PictureFormat format);
// Writes atomically in the format of the path's extension; failure is bad input naming the path.
void write_picture(const std::string& path, const Picture& pic);
// The picture's pixels (RGB, width x height).
Image rasterize(const Picture& pic);

// A picture placed on a larger one: its top-left corner at (x, y), scaled by `scale`.
struct Placed {
  Picture picture;
  double x = 0, y = 0, scale = 1;
};
// Pictures side by side on one canvas of width x height (a figure of panels).
Picture arrange(int width, int height, std::vector<Placed> panels);
// A multi-page PDF, one page per picture (each page the picture's size); atomically written.
void write_pdf_pages(const std::string& path, const std::vector<Picture>& pages);

}  // namespace nwgf
