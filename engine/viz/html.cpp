#include "nwgf/engine/viz/html.hpp"

#include <cstdint>
#include <utility>

#include "nwgf/engine/io/file_io.hpp"

namespace nwgf {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char digits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return std::uint32_t(std::uint8_t(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += digits[(v >> s) & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    const std::uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out += digits[(v >> 18) & 63];
    out += digits[(v >> 12) & 63];
    out += rest == 2 ? digits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

HtmlPage::HtmlPage(std::string title) : title_(std::move(title)) {}

void HtmlPage::heading(const std::string& text) { body_ += "<h2>" + html_escape(text) + "</h2>\n"; }

void HtmlPage::paragraph(const std::string& text) { body_ += "<p>" + html_escape(text) + "</p>\n"; }

void HtmlPage::preformatted(const std::string& text) {
  body_ += "<pre>" + html_escape(text) + "</pre>\n";
}

void HtmlPage::picture(const Picture& pic, const std::string& alt) {
  // Twice the pixels, shown at the picture's size.
  const Picture sharp = arrange(2 * pic.width, 2 * pic.height, {Placed{pic, 0, 0, 2}});
  body_ += "<img width=\"" + std::to_string(pic.width) + "\" height=\"" +
           std::to_string(pic.height) + "\" alt=\"" + html_escape(alt) +
           "\" src=\"data:image/png;base64," + base64(encode_picture(sharp, PictureFormat::png)) +
           "\">\n";
}

std::string HtmlPage::str() const {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         html_escape(title_) +
         "</title>\n<style>\nbody { font-family: 'DejaVu Sans', sans-serif; margin: 2em; }\n"
         "pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; }\n"
         "img { margin: 0 0.5em 0.5em 0; vertical-align: top; }\n</style>\n</head>\n<body>\n<h1>" +
         html_escape(title_) + "</h1>\n" + body_ + "</body>\n</html>\n";
}

void write_html(const std::string& path, const HtmlPage& page) {
  write_file_atomic(path, page.str());
}

}  // namespace nwgf
