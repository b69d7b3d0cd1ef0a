#pragma once
// Internal to the viz library (not installed): the cairo helpers every picture shares (text
// placed by an anchor, 1-2-5 ticks, axis frames). Layout is computed here; cairo draws.
#include <cairo.h>

#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/viz/png.hpp"

namespace nwgf::viz {

inline constexpr const char* font_family = "DejaVu Sans";

void set_colour(cairo_t* cr, Rgb c, double alpha = 1);
void set_font(cairo_t* cr, double size, bool bold = false);

// Text width (advance) and the font's line height (ascent + descent) at the current font.
struct TextSize {
  double width, height;
};
TextSize measure(cairo_t* cr, const std::string& text);
// Draws text with its anchor at (x, y): ax 0 left, 0.5 centre, 1 right; ay 0 top, 0.5 middle,
// 1 bottom of the line (ascent + descent). Rotated by `angle` radians about the anchor.
void draw_text(cairo_t* cr, double x, double y, const std::string& text, double ax, double ay,
               double angle = 0);
// The largest font size <= size at which `text` is at most `width` wide.
double fit_font(cairo_t* cr, const std::string& text, double size, double width);

// A context on a 1x1 surface for measuring text before the canvas exists.
struct Measurer {
  Measurer();
  ~Measurer();
  Measurer(const Measurer&) = delete;
  Measurer& operator=(const Measurer&) = delete;
  cairo_surface_t* surface;
  cairo_t* cr;
};

// A tick step of 1, 2 or 5 times a power of ten giving about `count` intervals over `range`.
double nice_step(double range, int count);
// Multiples of `step` in [lo, hi] (ends included up to rounding).
std::vector<double> ticks_between(double lo, double hi, double step);
// A tick label with as many decimals as the step needs (scientific for tiny or huge values).
std::string tick_label(double v, double step);

}  // namespace nwgf::viz
