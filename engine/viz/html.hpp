#pragma once
// Self-contained HTML pages of text and pictures (`nwgf report RUN_DIR --out R.html`). Every
// picture is embedded in the page as a PNG data: URI (RFC 2397; base64, RFC 4648), rasterized
// at twice its size and shown at its size, so it stays sharp on high-density screens; the page
// needs no other file. (Not inline SVG: cairo names the glyphs and clips of every SVG it writes
// glyph0-1, clip1, ... afresh, and those ids would clash between the pictures of one page.)
#include <string>
#include <string_view>

#include "nwgf/engine/viz/picture.hpp"

namespace nwgf {

class HtmlPage {
 public:
  // `title`: the page's <title> and its first heading.
  explicit HtmlPage(std::string title);
  void heading(const std::string& text);       // <h2>
  void paragraph(const std::string& text);     // <p>
  void preformatted(const std::string& text);  // <pre>, e.g. a config file
  // <img> of the picture, `alt` its text; pictures follow each other left to right, wrapping.
  void picture(const Picture& pic, const std::string& alt);
  // The whole document, UTF-8.
  std::string str() const;

 private:
  std::string title_, body_;
};

// Text with &, <, >, " and ' replaced by character references.
std::string html_escape(std::string_view text);
// RFC 4648 base64 of the bytes, padded with '='.
std::string base64(std::string_view bytes);
// Writes the page atomically; failure is bad input naming the path.
void write_html(const std::string& path, const HtmlPage& page);

}  // namespace nwgf
