#include "nwgf/engine/io/image_io.hpp"

#include <stb_image.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <memory>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"

namespace nwgf {
namespace {

constexpr std::int64_t max_pixels = std::int64_t(1) << 26;

[[noreturn]] void unreadable(const std::string& name) {
  const char* why = stbi_failure_reason();
  throw_bad_input(name + ": not a readable image (" + (why ? why : "unknown reason") + ")");
}

void check_size(const std::string& name, std::int64_t w, std::int64_t h) {
  if (w > max_pixels || h > max_pixels || w * h > max_pixels) {
    throw_bad_input(name + ": image of " + std::to_string(w) + "x" + std::to_string(h) +
                    " pixels (at most 2^26 pixels)");
  }
}

std::uint32_t be32(const stbi_uc* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

// stb_image 2.27 (Debian's libstb) builds a Huffman table from a JPEG DHT segment's 16 code
// counts without checking that they sum to at most 256, and writes past its 257-entry arrays
// when they do (found by tools/fuzz/fuzz_image; fixed upstream in 2.28). The walk below visits
// every DHT segment stb_image could read, as stb_image reads it (bytes past the end read as 0),
// and reports whether all of them are safe.
bool jpeg_huffman_tables_safe(const std::string& b) {
  const auto at = [&](std::size_t k) -> unsigned { return k < b.size() ? std::uint8_t(b[k]) : 0; };
  std::size_t i = 0;
  while (i < b.size()) {
    if (at(i) != 0xFF) {  // entropy-coded data, or bytes stb_image skips between segments
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < b.size() && at(j) == 0xFF) ++j;  // fill bytes
    if (j >= b.size()) break;
    const unsigned m = at(j);
    if (m == 0xD9) break;                         // EOI: stb_image reads no further
    if (m == 0x00 || (m >= 0xD0 && m <= 0xD8)) {  // stuffed byte, RSTn, SOI: no segment
      i = j + 1;
      continue;
    }
    const std::size_t length = (at(j + 1) << 8) | at(j + 2);
    if (m == 0xC4) {
      std::size_t p = j + 3;
      for (long left = long(length) - 2; left > 0;) {
        if ((at(p) >> 4) > 1 || (at(p) & 15) > 3) break;  // stb_image refuses this table
        unsigned n = 0;
        for (std::size_t k = 1; k <= 16; ++k) n += at(p + k);
        if (n > 256) return false;
        p += 17 + n;
        left -= long(17 + n);
      }
    }
    i = j + 1 + std::max<std::size_t>(length, 2);
  }
  return true;
}

// stb_image 2.27 reads a binary PNM's (P5/P6) width, height and maximum as int without an
// overflow check (signed overflow, found by tools/fuzz/fuzz_image). The walk reads the three
// header numbers as stb_image does (whitespace and # comments between them) and reports whether
// each has at most 9 digits.
bool pnm_header_safe(const std::string& b) {
  std::size_t i = 2;
  for (int number = 0; number < 3; ++number) {
    for (;;) {  // whitespace and comments
      while (i < b.size() && std::isspace(static_cast<unsigned char>(b[i]))) ++i;
      if (i >= b.size() || b[i] != '#') break;
      while (i < b.size() && b[i] != '\n' && b[i] != '\r') ++i;
    }
    std::size_t digits = 0;
    while (i < b.size() && b[i] >= '0' && b[i] <= '9') ++i, ++digits;
    if (digits > 9) return false;
  }
  return true;
}

// A PNG without its zero-length IDAT chunks (which carry no data): stb_image 2.27 copies a
// zero-length IDAT that comes before any image data with memcpy from a null buffer (undefined,
// found by tools/fuzz/fuzz_image). Other bytes are kept as they are; empty when there is none.
std::string without_empty_idat(const std::string& b) {
  const auto* u = reinterpret_cast<const stbi_uc*>(b.data());
  std::string out;
  std::size_t copied = 0;
  for (std::size_t i = 8; i + 12 <= b.size();) {
    const std::size_t length = be32(u + i);
    if (length > b.size() - i - 12) break;
    if (length == 0 && b.compare(i + 4, 4, "IDAT") == 0) {
      out.append(b, copied, i - copied);
      copied = i + 12;
    }
    i += 12 + length;
  }
  if (copied == 0) return out;
  out.append(b, copied, std::string::npos);
  return out;
}

// Whether every chunk up to IEND lies inside the file. stb_image grows its IDAT buffer to a
// chunk's declared length (up to 1 GiB, doubled) before it reads the chunk, so a short file
// claiming a long chunk would allocate gigabytes (found by fuzz_image).
bool png_chunks_inside(const std::string& b) {
  const auto* u = reinterpret_cast<const stbi_uc*>(b.data());
  for (std::size_t i = 8; i + 8 <= b.size();) {
    const std::size_t length = be32(u + i);
    if (length > b.size() - i - 8) return false;
    if (b.compare(i + 4, 4, "IEND") == 0) return true;
    i += 12 + length;
  }
  return true;
}

// (height, width) pixels of `channels` (2: gray + alpha, 4: RGBA) samples in [0, max] into
// intensities: Rec. 601 luma, composited over white.
template <class Sample>
void to_gray(const Sample* px, int channels, double max, std::vector<float>& out) {
  const double inv = 1.0 / max;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Sample* p = px + i * std::size_t(channels);
    double luma, alpha;
    if (channels == 2) {
      luma = p[0] * inv;
      alpha = p[1] * inv;
    } else {
      luma = (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) * inv;
      alpha = p[3] * inv;
    }
    out[i] = float(alpha * luma + (1.0 - alpha));
  }
}

}  // namespace

GrayImage decode_gray_image(const std::string& bytes, const std::string& name) {
  if (bytes.empty()) throw_bad_input(name + ": not a readable image (empty file)");
  if (bytes.size() > std::size_t(INT_MAX)) throw_bad_input(name + ": image file larger than 2 GiB");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = int(bytes.size());
  if (std::uint8_t(bytes[0]) == 0xFF && !jpeg_huffman_tables_safe(bytes)) {
    throw_bad_input(name + ": not a readable image (corrupt JPEG: Huffman table with more than " +
                    "256 codes)");
  }
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '6') &&
      !pnm_header_safe(bytes)) {
    throw_bad_input(name + ": not a readable image (corrupt PNM: a header number of more than 9 " +
                    "digits)");
  }
  // The header's size is checked before anything is decoded. stb_image refuses large PNGs
  // itself but reports only "unknown image type"; their IHDR names the size.
  if (bytes.size() >= 24 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 &&
      bytes.compare(12, 4, "IHDR") == 0) {
    check_size(name, be32(data + 16), be32(data + 20));
  }
  if (bytes.size() >= 8 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) {
    if (!png_chunks_inside(bytes)) {
      throw_bad_input(name + ": not a readable image (corrupt PNG: a chunk longer than the rest " +
                      "of the file)");
    }
    const std::string cleaned = without_empty_idat(bytes);
    if (!cleaned.empty()) return decode_gray_image(cleaned, name);
  }
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &comp)) unreadable(name);
  if (w <= 0 || h <= 0) {
    throw_bad_input(name + ": not a readable image (" + std::to_string(w) + "x" +
                    std::to_string(h) + " pixels)");
  }
  check_size(name, w, h);
  const int channels = comp <= 2 ? 2 : 4;
  const bool wide = stbi_is_16_bit_from_memory(data, len);
  int dw = 0, dh = 0, dcomp = 0;
  std::unique_ptr<void, void (*)(void*)> px(
      wide ? static_cast<void*>(stbi_load_16_from_memory(data, len, &dw, &dh, &dcomp, channels))
           : static_cast<void*>(stbi_load_from_memory(data, len, &dw, &dh, &dcomp, channels)),
      stbi_image_free);
  if (!px) unreadable(name);
  if (dw != w || dh != h) {
    throw_bad_input(name + ": not a readable image (header says " + std::to_string(w) + "x" +
                    std::to_string(h) + ", decoded " + std::to_string(dw) + "x" +
                    std::to_string(dh) + ")");
  }
  GrayImage img;
  img.width = w;
  img.height = h;
  img.v.resize(std::size_t(w) * std::size_t(h));
  if (wide) {
    to_gray(static_cast<const std::uint16_t*>(px.get()), channels, 65535.0, img.v);
  } else {
    to_gray(static_cast<const stbi_uc*>(px.get()), channels, 255.0, img.v);
  }
  return img;
}

GrayImage load_gray_image(const std::string& path) {
  return decode_gray_image(read_file(path), path);
}

}  // namespace nwgf
