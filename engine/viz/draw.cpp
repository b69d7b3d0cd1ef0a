#include "nwgf/engine/viz/draw.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace nwgf::viz {

void set_colour(cairo_t* cr, Rgb c, double alpha) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, alpha);
}

void set_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, font_family, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

TextSize measure(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t te;
  cairo_font_extents_t fe;
  cairo_text_extents(cr, text.c_str(), &te);
  cairo_font_extents(cr, &fe);
  return {te.x_advance, fe.ascent + fe.descent};
}

void draw_text(cairo_t* cr, double x, double y, const std::string& text, double ax, double ay,
               double angle) {
  if (text.empty()) return;
  cairo_text_extents_t te;
  cairo_font_extents_t fe;
  cairo_text_extents(cr, text.c_str(), &te);
  cairo_font_extents(cr, &fe);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  cairo_move_to(cr, -ax * te.x_advance, -ay * (fe.ascent + fe.descent) + fe.ascent);
  cairo_show_text(cr, text.c_str());
  cairo_restore(cr);
}

double fit_font(cairo_t* cr, const std::string& text, double size, double width) {
  cairo_set_font_size(cr, size);
  const double w = measure(cr, text).width;
  const double fitted = w > width && w > 0 ? size * width / w : size;
  cairo_set_font_size(cr, fitted);
  return fitted;
}

Measurer::Measurer()
    : surface(cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1)), cr(cairo_create(surface)) {}
Measurer::~Measurer() {
  cairo_destroy(cr);
  cairo_surface_destroy(surface);
}

double nice_step(double range, int count) {
  const double raw = range / count;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * p >= raw * (1 - 1e-9)) return m * p;
  }
  return 10 * p;
}

std::vector<double> ticks_between(double lo, double hi, double step) {
  std::vector<double> t;
  const double first = std::ceil(lo / step - 1e-9);
  for (double k = first; k * step <= hi + 1e-9 * step && t.size() < 64; k += 1) {
    t.push_back(std::fabs(k) < 0.5 ? 0.0 : k * step);
  }
  return t;
}

std::string tick_label(double v, double step) {
  char b[32];
  if (std::fabs(v) < 0.5 * step) v = 0;
  const double big = std::max(std::fabs(v), step);
  if (step < 1e-3 || big >= 1e6) {
    std::snprintf(b, sizeof b, "%.3g", v);
  } else {
    const int decimals = std::max(0, int(std::ceil(-std::log10(step) - 1e-9)));
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
  }
  return b;
}

}  // namespace nwgf::viz
