#include "nwgf/engine/viz/picture.hpp"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <memory>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"

namespace nwgf {
namespace {

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using ContextPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

cairo_status_t append(void* ctx, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void check(cairo_status_t status, const char* what) {
  if (status != CAIRO_STATUS_SUCCESS) {
    throw_runtime(std::string(what) + ": cairo: " + cairo_status_to_string(status));
  }
}

void check_size(const Picture& pic) {
  if (pic.width < 1 || pic.height < 1 || pic.width > 32768 || pic.height > 32768 || !pic.draw) {
    throw_runtime("picture: empty or too large (" + std::to_string(pic.width) + "x" +
                  std::to_string(pic.height) + ")");
  }
}

// White background, then the picture.
void paint(cairo_surface_t* surface, const Picture& pic) {
  ContextPtr cr(cairo_create(surface), cairo_destroy);
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());
  pic.draw(cr.get());
  check(cairo_status(cr.get()), "drawing");
}

SurfacePtr raster(const Picture& pic) {
  check_size(pic);
  SurfacePtr s(cairo_image_surface_create(CAIRO_FORMAT_RGB24, pic.width, pic.height),
               cairo_surface_destroy);
  check(cairo_surface_status(s.get()), "image surface");
  paint(s.get(), pic);
  cairo_surface_flush(s.get());
  return s;
}

std::string png_bytes(cairo_surface_t* s) {
  std::string bytes;
  check(cairo_surface_write_to_png_stream(s, append, &bytes), "PNG encoding");
  return bytes;
}

}  // namespace

PictureFormat picture_format(const std::string& path, const std::string& flag) {
  std::string e = std::filesystem::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  if (e == ".png") return PictureFormat::png;
  if (e == ".svg") return PictureFormat::svg;
  if (e == ".pdf") return PictureFormat::pdf;
  throw_bad_input(flag + ": " + path + " must end in .png, .svg or .pdf");
}

std::string encode_picture(const Picture& pic, PictureFormat format) {
  if (format == PictureFormat::png) return png_bytes(raster(pic).get());
  check_size(pic);
  std::string bytes;
  {
    SurfacePtr s(format == PictureFormat::svg
                     ? cairo_svg_surface_create_for_stream(append, &bytes, pic.width, pic.height)
                     : cairo_pdf_surface_create_for_stream(append, &bytes, pic.width, pic.height),
                 cairo_surface_destroy);
    check(cairo_surface_status(s.get()), "vector surface");
    if (format == PictureFormat::pdf) {
      cairo_pdf_surface_set_metadata(s.get(), CAIRO_PDF_METADATA_CREATOR, "nwgf");
    }
    paint(s.get(), pic);
    cairo_surface_finish(s.get());
    check(cairo_surface_status(s.get()), "vector output");
  }
  return bytes;
}

void write_picture(const std::string& path, const Picture& pic) {
  const PictureFormat f = picture_format(path);
  write_file_atomic(path, encode_picture(pic, f));
}

Picture arrange(int width, int height, std::vector<Placed> panels) {
  return {width, height, [panels = std::move(panels)](cairo_t* cr) {
            for (const Placed& p : panels) {
              cairo_save(cr);
              cairo_translate(cr, p.x, p.y);
              cairo_scale(cr, p.scale, p.scale);
              cairo_rectangle(cr, 0, 0, p.picture.width, p.picture.height);
              cairo_clip(cr);
              p.picture.draw(cr);
              cairo_restore(cr);
            }
          }};
}

void write_pdf_pages(const std::string& path, const std::vector<Picture>& pages) {
  if (pages.empty()) throw_runtime("write_pdf_pages: no pages");
  for (const Picture& p : pages) check_size(p);
  std::string bytes;
  {
    SurfacePtr s(
        cairo_pdf_surface_create_for_stream(append, &bytes, pages[0].width, pages[0].height),
        cairo_surface_destroy);
    check(cairo_surface_status(s.get()), "PDF surface");
    cairo_pdf_surface_set_metadata(s.get(), CAIRO_PDF_METADATA_CREATOR, "nwgf");
    for (const Picture& p : pages) {
      cairo_pdf_surface_set_size(s.get(), p.width, p.height);
      paint(s.get(), p);
      cairo_surface_show_page(s.get());
    }
    cairo_surface_finish(s.get());
    check(cairo_surface_status(s.get()), "PDF output");
  }
  write_file_atomic(path, bytes);
}

Image rasterize(const Picture& pic) {
  const SurfacePtr s = raster(pic);
  Image img(pic.width, pic.height);
  const unsigned char* data = cairo_image_surface_get_data(s.get());
  const int stride = cairo_image_surface_get_stride(s.get());
  for (int y = 0; y < pic.height; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(data + std::ptrdiff_t(y) * stride);
    for (int x = 0; x < pic.width; ++x) {
      const std::uint32_t p = row[x];  // 0x00RRGGBB
      img.set(x, y, Rgb{std::uint8_t(p >> 16), std::uint8_t(p >> 8), std::uint8_t(p)});
    }
  }
  return img;
}

std::string encode_png(const Image& img) {
  SurfacePtr s(cairo_image_surface_create(CAIRO_FORMAT_RGB24, img.width(), img.height()),
               cairo_surface_destroy);
  check(cairo_surface_status(s.get()), "image surface");
  cairo_surface_flush(s.get());
  unsigned char* data = cairo_image_surface_get_data(s.get());
  const int stride = cairo_image_surface_get_stride(s.get());
  for (int y = 0; y < img.height(); ++y) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + std::ptrdiff_t(y) * stride);
    for (int x = 0; x < img.width(); ++x) {
      const Rgb c = img.get(x, y);
      row[x] = (std::uint32_t(c.r) << 16) | (std::uint32_t(c.g) << 8) | std::uint32_t(c.b);
    }
  }
  cairo_surface_mark_dirty(s.get());
  return png_bytes(s.get());
}

}  // namespace nwgf
