// Grayscale image loading: PNGs from engine/viz/png.hpp, stb_image_write (gray, gray + alpha, RGB,
// RGBA, BMP, TGA, JPEG) and a hand-made 16-bit PNG decode to Rec. 601 luma composited over
// white, row 0 at the top; damaged files are bad input naming the file.
#include <doctest/doctest.h>
#include <stb/stb_image_write.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/image_io.hpp"
#include "nwgf/engine/viz/png.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {

void append(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), std::size_t(size));
}

// stb_image_write's encoders into memory; `kind` is png, bmp, tga or jpg.
std::string stbi_encode(const std::string& kind, int w, int h, int comp,
                        const std::vector<std::uint8_t>& px) {
  std::string out;
  int ok = 0;
  if (kind == "png") ok = stbi_write_png_to_func(append, &out, w, h, comp, px.data(), w * comp);
  if (kind == "bmp") ok = stbi_write_bmp_to_func(append, &out, w, h, comp, px.data());
  if (kind == "tga") ok = stbi_write_tga_to_func(append, &out, w, h, comp, px.data());
  if (kind == "jpg") ok = stbi_write_jpg_to_func(append, &out, w, h, comp, px.data(), 95);
  REQUIRE(ok);
  return out;
}

void put_be32(std::string& s, std::uint32_t v) {
  for (int b = 3; b >= 0; --b) s.push_back(char((v >> (8 * b)) & 0xff));
}

std::string png_chunk(const std::string& type, const std::string& data) {
  std::string c;
  put_be32(c, std::uint32_t(data.size()));
  const std::string body = type + data;
  c += body;
  put_be32(c,
           std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
  return c;
}

// A PNG written by hand: IHDR (w, h, bit depth, colour type), one IDAT holding `idat`, IEND.
std::string png_by_hand(std::uint32_t w, std::uint32_t h, int depth, int colour,
                        const std::string& idat) {
  std::string ihdr;
  put_be32(ihdr, w);
  put_be32(ihdr, h);
  ihdr += std::string{char(depth), char(colour), 0, 0, 0};
  return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", idat) +
         png_chunk("IEND", "");
}

std::string zlib_of(const std::string& raw) {
  uLongf n = compressBound(uLong(raw.size()));
  std::string out(n, '\0');
  REQUIRE(compress2(reinterpret_cast<Bytef*>(out.data()), &n,
                    reinterpret_cast<const Bytef*>(raw.data()), uLong(raw.size()), 9) == Z_OK);
  out.resize(n);
  return out;
}

float luma(double r, double g, double b) {
  return float((0.299 * r + 0.587 * g + 0.114 * b) / 255);
}

void expect_bad(const std::string& case_name, const std::string& bytes, const std::string& what) {
  INFO("case " << case_name);
  const std::string path = test::tmp_path("image_bad_" + case_name + ".png");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  for (int from_file = 0; from_file < 2; ++from_file) {
    const std::string name = from_file ? path : "mem_" + case_name + ".png";
    try {
      const GrayImage img = from_file ? load_gray_image(path) : decode_gray_image(bytes, name);
      FAIL("accepted as " << img.width << "x" << img.height);
    } catch (const Error& e) {
      INFO(std::string(e.what()));
      CHECK(e.kind() == ErrorKind::bad_input);
      CHECK(std::string(e.what()).rfind(name + ": ", 0) == 0);
      CHECK(std::string(e.what()).find(what) != std::string::npos);
    }
  }
  std::filesystem::remove(path);
}

}  // namespace

TEST_CASE("image: an RGB PNG from encode_png is Rec. 601 luma, row 0 at the top") {
  Image img(3, 2);
  img.set(0, 0, {255, 0, 0});
  img.set(1, 0, {0, 255, 0});
  img.set(2, 0, {0, 0, 255});
  img.set(0, 1, {255, 255, 255});
  img.set(1, 1, {0, 0, 0});
  img.set(2, 1, {10, 200, 60});
  const std::string path = test::tmp_path("image_rgb.png");
  write_png(path, img);
  const GrayImage g = load_gray_image(path);
  REQUIRE(g.width == 3);
  REQUIRE(g.height == 2);
  REQUIRE(g.v.size() == 6);
  CHECK(g.at(0, 0) == doctest::Approx(0.299).epsilon(1e-6));
  CHECK(g.at(1, 0) == doctest::Approx(0.587).epsilon(1e-6));
  CHECK(g.at(2, 0) == doctest::Approx(0.114).epsilon(1e-6));
  CHECK(g.at(0, 1) == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(g.at(1, 1) == 0.0f);
  CHECK(g.at(2, 1) == doctest::Approx(luma(10, 200, 60)).epsilon(1e-6));
  const GrayImage m = decode_gray_image(encode_png(img), "rgb.png");
  CHECK(m.v == g.v);
  std::filesystem::remove(path);
}

TEST_CASE("image: binary PNM headers with numbers past int are bad input, sane ones decode") {
  const std::string good = std::string("P5\n# two by one\n2 1\n255\n") + std::string("\x00\xff", 2);
  const GrayImage g = decode_gray_image(good, "good.pgm");
  REQUIRE(g.width == 2);
  CHECK(g.at(0, 0) == 0.0f);
  CHECK(g.at(1, 0) == 1.0f);
  for (const std::string& bad : {std::string("P5") + std::string(40, '5'),
                                 std::string("P6 2 # c\n 12345678901 255\n")}) {
    try {
      (void)decode_gray_image(bad, "bad.pnm");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::bad_input);
      CHECK(std::string(e.what()).rfind("bad.pnm: ", 0) == 0);
    }
  }
}

TEST_CASE("image: zero-length IDAT chunks (no data) decode as if absent") {
  Image img(4, 3);
  img.set(1, 1, {0, 0, 0});
  img.set(3, 2, {90, 120, 30});
  const std::string png = encode_png(img);
  const GrayImage plain = decode_gray_image(png, "plain.png");
  // After IHDR (8 + 25 bytes), and again at the end before IEND: empty IDAT chunks.
  const std::string empty_idat("\0\0\0\0IDAT\x35\xaf\x06\x1e", 12);
  std::string padded = png;
  padded.insert(png.size() - 12, empty_idat);
  padded.insert(33, empty_idat);
  padded.insert(33, empty_idat);
  const GrayImage g = decode_gray_image(padded, "padded.png");
  REQUIRE(g.width == 4);
  REQUIRE(g.height == 3);
  CHECK(g.v == plain.v);
}

TEST_CASE("image: 8-bit gray is exact k/255; alpha composites over white") {
  const int w = 4, h = 3;
  std::vector<std::uint8_t> gray(w * h);
  for (int i = 0; i < w * h; ++i) gray[std::size_t(i)] = std::uint8_t(i * 23);
  for (const std::string kind : {"png", "bmp", "tga"}) {
    INFO(kind);
    const GrayImage g = decode_gray_image(stbi_encode(kind, w, h, 1, gray), "gray." + kind);
    REQUIRE(g.width == w);
    REQUIRE(g.height == h);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) CHECK(g.at(x, y) == float(gray[std::size_t(y * w + x)] / 255.0));
    }
  }
  // Gray + alpha: value g, opacity a -> a g + (1 - a).
  const std::vector<std::uint8_t> ga = {0, 255, 0, 0, 0, 128, 200, 255, 200, 64, 255, 10};
  const GrayImage g = decode_gray_image(stbi_encode("png", 3, 2, 2, ga), "gray_alpha.png");
  REQUIRE(g.v.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) {
    const double v = ga[2 * i] / 255.0, a = ga[2 * i + 1] / 255.0;
    CHECK(g.v[i] == doctest::Approx(a * v + (1 - a)).epsilon(1e-6));
  }
  CHECK(g.v[0] == 0.0f);
  CHECK(g.v[1] == 1.0f);  // transparent black is white
}

TEST_CASE("image: RGBA with alpha over white; RGB BMP and TGA keep orientation") {
  const std::vector<std::uint8_t> rgba = {255, 0,  0,  255, 255, 0,   0, 0,  // opaque, clear red
                                          0,   0,  0,  64,  0,   255, 0, 128,
                                          30,  60, 90, 255, 0,   0,   0, 255};
  const GrayImage g = decode_gray_image(stbi_encode("png", 2, 3, 4, rgba), "rgba.png");
  REQUIRE(g.width == 2);
  REQUIRE(g.height == 3);
  for (std::size_t i = 0; i < 6; ++i) {
    const double a = rgba[4 * i + 3] / 255.0;
    const double want = a * luma(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]) + (1 - a);
    CHECK(g.v[i] == doctest::Approx(want).epsilon(1e-6));
  }
  CHECK(g.at(1, 0) == 1.0f);
  CHECK(g.at(0, 2) == doctest::Approx(luma(30, 60, 90)).epsilon(1e-6));
  // A top row of white over black rows: BMP and TGA store bottom-up, the loader must not.
  std::vector<std::uint8_t> rgb(5 * 4 * 3, 0);
  for (int x = 0; x < 5 * 3; ++x) rgb[std::size_t(x)] = 255;
  for (const std::string kind : {"png", "bmp", "tga"}) {
    INFO(kind);
    const GrayImage t = decode_gray_image(stbi_encode(kind, 5, 4, 3, rgb), "rgb." + kind);
    for (int x = 0; x < 5; ++x) {
      CHECK(t.at(x, 0) == doctest::Approx(1.0).epsilon(1e-6));
      for (int y = 1; y < 4; ++y) CHECK(t.at(x, y) == 0.0f);
    }
  }
}

TEST_CASE("image: JPEG decodes close to its source") {
  const int w = 32, h = 24;
  std::vector<std::uint8_t> rgb(std::size_t(w * h * 3));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = &rgb[std::size_t((y * w + x) * 3)];
      p[0] = std::uint8_t(8 * x);
      p[1] = std::uint8_t(10 * y);
      p[2] = 128;
    }
  }
  const GrayImage g = decode_gray_image(stbi_encode("jpg", w, h, 3, rgb), "smooth.jpg");
  REQUIRE(g.width == w);
  REQUIRE(g.height == h);
  double worst = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const std::uint8_t* p = &rgb[std::size_t((y * w + x) * 3)];
      worst = std::max(worst, std::abs(double(g.at(x, y)) - luma(p[0], p[1], p[2])));
    }
  }
  MESSAGE("JPEG (quality 95) max |error| = " << worst);
  CHECK(worst < 0.03);
}

TEST_CASE("image: 16-bit PNG keeps its precision") {
  const std::vector<std::uint16_t> values = {0, 1000, 32768, 65535, 12345, 54321};  // (2, 3)
  std::string raw;
  for (int y = 0; y < 2; ++y) {
    raw.push_back('\0');  // filter: none
    for (int x = 0; x < 3; ++x) {
      const std::uint16_t v = values[std::size_t(y * 3 + x)];
      raw.push_back(char(v >> 8));
      raw.push_back(char(v & 0xff));
    }
  }
  const GrayImage g = decode_gray_image(png_by_hand(3, 2, 16, 0, zlib_of(raw)), "deep.png");
  REQUIRE(g.width == 3);
  REQUIRE(g.height == 2);
  // 1000/65535 is 4e-4 away from the nearest 8-bit level: the tolerance tells them apart.
  for (std::size_t i = 0; i < 6; ++i)
    CHECK(g.v[i] == doctest::Approx(values[i] / 65535.0).epsilon(1e-6));
}

TEST_CASE("image: damaged, empty and absurd files are bad input naming the file") {
  Image img(8, 6);
  img.fill_rect(2, 2, 5, 4, {20, 40, 60});
  const std::string png = encode_png(img);
  const std::vector<std::uint8_t> rgb(16 * 16 * 3, 100);
  const std::string jpg = stbi_encode("jpg", 16, 16, 3, rgb);
  const std::string bmp = stbi_encode("bmp", 4, 4, 3, rgb);
  expect_bad("empty", "", "not a readable image (empty file)");
  expect_bad("text", "this is not a picture\n", "not a readable image");
  expect_bad("png_signature_only", png.substr(0, 8), "not a readable image");
  expect_bad("png_truncated", png.substr(0, png.size() / 2), "not a readable image");
  expect_bad("png_no_iend_idat", png.substr(0, 40), "not a readable image");
  expect_bad("png_garbage_idat", png_by_hand(8, 6, 8, 0, std::string(40, '\x5a')),
             "not a readable image");
  expect_bad("png_zero_width", png_by_hand(0, 6, 8, 0, zlib_of(std::string(6, '\0'))),
             "not a readable image");
  expect_bad("png_bad_depth", png_by_hand(2, 2, 7, 0, zlib_of(std::string(6, '\0'))),
             "not a readable image");
  // Header dimensions are checked before decoding.
  expect_bad("png_100000x100000", png_by_hand(100000, 100000, 8, 0, zlib_of("x")),
             "100000x100000 pixels (at most 2^26 pixels)");
  expect_bad("png_9000x9000", png_by_hand(9000, 9000, 8, 2, zlib_of("x")), "9000x9000 pixels");
  expect_bad("jpeg_soi_only", jpg.substr(0, 2), "not a readable image");
  expect_bad("jpeg_header_only", jpg.substr(0, 200), "not a readable image");
  // A DHT segment whose 16 code counts sum to 272 (> 256): stb_image 2.27 would write past its
  // Huffman table; refused before stb_image sees it.
  const std::size_t dht = jpg.find("\xff\xc4");
  REQUIRE(dht != std::string::npos);
  std::string overflow = jpg;
  overflow.replace(dht + 5, 16, std::string(16, '\x11'));
  expect_bad("jpeg_dht_overflow", overflow, "Huffman table with more than 256 codes");
  expect_bad("bmp_truncated", bmp.substr(0, 30), "not a readable image");
  expect_bad("gif_header_only", std::string("GIF89a\x10\x00\x10\x00", 10), "not a readable image");
}

TEST_CASE("image: missing files and directories are bad input naming them") {
  const std::string missing = test::tmp_path("image_does_not_exist.png");
  std::filesystem::remove(missing);
  const std::string dir = test::tmp_path("image_a_directory.png");
  std::filesystem::create_directories(dir);
  for (const std::string& path : {missing, dir}) {
    try {
      (void)load_gray_image(path);
      FAIL("accepted " << path);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::bad_input);
      CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
  }
}
