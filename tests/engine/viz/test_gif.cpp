// Animated GIFs: what encode_gif writes is decoded back with giflib's own reader (DGifSlurp).
#include <doctest/doctest.h>
#include <gif_lib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/viz/gif.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {

struct Decoded {
  int width = 0, height = 0;
  std::vector<Image> frames;
  std::vector<int> delays;  // hundredths of a second
  bool loops_forever = false;
};

struct Reader {
  const std::string* bytes;
  std::size_t at = 0;
};

Decoded decode(const std::string& bytes) {
  Reader r{&bytes};
  auto read = [](GifFileType* g, GifByteType* out, int n) {
    auto* rd = static_cast<Reader*>(g->UserData);
    const std::size_t k = std::min(std::size_t(n), rd->bytes->size() - rd->at);
    std::memcpy(out, rd->bytes->data() + rd->at, k);
    rd->at += k;
    return int(k);
  };
  int err = 0;
  GifFileType* gif = DGifOpen(&r, read, &err);
  REQUIRE(gif != nullptr);
  REQUIRE(DGifSlurp(gif) == GIF_OK);
  Decoded d;
  d.width = gif->SWidth;
  d.height = gif->SHeight;
  // NETSCAPE2.0 before the first image: {app id} then the sub-block {1, loops lo, loops hi}.
  const SavedImage& s0 = gif->SavedImages[0];
  for (int i = 0; i + 1 < s0.ExtensionBlockCount; ++i) {
    const ExtensionBlock& a = s0.ExtensionBlocks[i];
    const ExtensionBlock& b = s0.ExtensionBlocks[i + 1];
    if (a.Function == APPLICATION_EXT_FUNC_CODE && a.ByteCount == 11 &&
        std::memcmp(a.Bytes, "NETSCAPE2.0", 11) == 0 && b.Function == CONTINUE_EXT_FUNC_CODE &&
        b.ByteCount == 3 && b.Bytes[0] == 1 && b.Bytes[1] == 0 && b.Bytes[2] == 0) {
      d.loops_forever = true;
    }
  }
  for (int f = 0; f < gif->ImageCount; ++f) {
    const SavedImage& s = gif->SavedImages[f];
    GraphicsControlBlock gcb;
    REQUIRE(DGifSavedExtensionToGCB(gif, f, &gcb) == GIF_OK);
    d.delays.push_back(gcb.DelayTime);
    const ColorMapObject* map = s.ImageDesc.ColorMap ? s.ImageDesc.ColorMap : gif->SColorMap;
    REQUIRE(map != nullptr);
    REQUIRE(s.ImageDesc.Width == d.width);
    REQUIRE(s.ImageDesc.Height == d.height);
    Image img(d.width, d.height);
    for (int y = 0; y < d.height; ++y) {
      for (int x = 0; x < d.width; ++x) {
        const GifColorType c = map->Colors[s.RasterBits[y * d.width + x]];
        img.set(x, y, Rgb{c.Red, c.Green, c.Blue});
      }
    }
    d.frames.push_back(std::move(img));
  }
  DGifCloseFile(gif, &err);
  return d;
}

int max_channel_error(const Image& a, const Image& b) {
  int worst = 0;
  for (int y = 0; y < a.height(); ++y) {
    for (int x = 0; x < a.width(); ++x) {
      const Rgb p = a.get(x, y), q = b.get(x, y);
      worst = std::max({worst, std::abs(p.r - q.r), std::abs(p.g - q.g), std::abs(p.b - q.b)});
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("gif: frames with few colours decode exactly, with delays and the loop extension") {
  std::vector<Image> frames;
  for (int f = 0; f < 4; ++f) {
    Image img(37, 23);  // odd sizes: no row padding hides an error
    img.fill_rect(f * 5, 2, f * 5 + 6, 10, Rgb{31, 119, 180});
    img.set(36, 22, Rgb{std::uint8_t(10 * f), 0, 0});
    img.set(0, 22, Rgb{0, 0, 0});
    frames.push_back(img);
  }
  const Decoded d = decode(encode_gif(frames, 7, 3));
  CHECK(d.width == 37);
  CHECK(d.height == 23);
  REQUIRE(d.frames.size() == 4);
  CHECK(d.delays == std::vector<int>{7, 7, 7, 21});
  CHECK(d.loops_forever);
  for (std::size_t f = 0; f < 4; ++f) CHECK(max_channel_error(d.frames[f], frames[f]) == 0);
}

TEST_CASE("gif: exactly 256 colours are still exact, one frame is an animation of one") {
  Image img(16, 16);
  for (int i = 0; i < 256; ++i) {
    img.set(i % 16, i / 16,
            Rgb{std::uint8_t(i), std::uint8_t(255 - i), std::uint8_t((i * 37) % 256)});
  }
  const Decoded d = decode(encode_gif({img}, 10, 5));
  REQUIRE(d.frames.size() == 1);
  CHECK(d.delays == std::vector<int>{50});
  CHECK(max_channel_error(d.frames[0], img) == 0);
}

TEST_CASE("gif: more than 256 colours are quantised by median cut within a small error") {
  // Two frames of smooth ramps: 2 x 4096 distinct colours over the whole RGB cube's diagonal
  // planes. Median cut into 256 boxes of 8192 colours: each box spans about 32 levels in its
  // widest channel, so the box mean is within ~16 + rounding of every member.
  std::vector<Image> frames;
  for (int f = 0; f < 2; ++f) {
    Image img(64, 64);
    for (int y = 0; y < 64; ++y) {
      for (int x = 0; x < 64; ++x) {
        img.set(
            x, y,
            Rgb{std::uint8_t(4 * x), std::uint8_t(4 * y), std::uint8_t(f ? 255 - 2 * x : 2 * y)});
      }
    }
    frames.push_back(img);
  }
  const Decoded d = decode(encode_gif(frames, 5, 1));
  REQUIRE(d.frames.size() == 2);
  CHECK(d.delays == std::vector<int>{5, 5});
  double sum = 0;
  int worst = 0;
  for (std::size_t f = 0; f < 2; ++f) {
    worst = std::max(worst, max_channel_error(d.frames[f], frames[f]));
    for (int y = 0; y < 64; ++y) {
      for (int x = 0; x < 64; ++x) {
        const Rgb p = d.frames[f].get(x, y), q = frames[f].get(x, y);
        sum += std::abs(p.r - q.r) + std::abs(p.g - q.g) + std::abs(p.b - q.b);
      }
    }
  }
  const double mean = sum / (2 * 64 * 64 * 3);
  MESSAGE("median cut: max channel error " << worst << ", mean " << mean);
  CHECK(worst <= 24);
  CHECK(mean <= 6.0);
  CHECK(worst > 0);  // 8192 colours cannot all be exact
}

TEST_CASE("gif: bad frames, delays and paths") {
  CHECK_THROWS_AS(encode_gif({}, 10), Error);
  CHECK_THROWS_AS(encode_gif({Image(4, 4), Image(4, 5)}, 10), Error);
  try {
    encode_gif({Image(4, 4)}, 20000, 5);  // 1000 s > the 16-bit field
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::bad_input);
  }
  const std::string blocker = test::tmp_path("gif_blocker_file");
  {
    std::FILE* f = std::fopen(blocker.c_str(), "wb");
    REQUIRE(f);
    std::fclose(f);
  }
  const std::string path = blocker + "/sub/a.gif";  // below a regular file: unwritable
  try {
    write_gif(path, {Image(4, 4)});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::bad_input);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
  }
  const std::string good = test::tmp_path("gif_ok.gif");
  write_gif(good, {Image(4, 4), Image(4, 4)}, 3);
  const Decoded d = decode(test::slurp(good));
  CHECK(d.frames.size() == 2);
  std::filesystem::remove(blocker);
  std::filesystem::remove(good);
}
