#include "nwgf/engine/viz/gif.hpp"

#include <gif_lib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"

namespace nwgf {
namespace {

using Key = std::uint32_t;  // 0xRRGGBB

Key key_of(const std::uint8_t* p) { return (Key(p[0]) << 16) | (Key(p[1]) << 8) | Key(p[2]); }
int channel(Key k, int c) { return int((k >> (16 - 8 * c)) & 0xff); }

struct ColorCount {
  Key key;
  std::uint64_t count;
};

// Median cut over the colour histogram of all frames: split the box with the widest channel range
// at its count-weighted median until there are `colors` boxes; each box's entry is its weighted
// mean. (Plots are mostly white with a few hues, so the histogram is small.)
std::vector<Key> median_cut(std::vector<ColorCount> hist, std::size_t colors) {
  struct Box {
    std::size_t begin, end;
    int widest, range;
  };
  auto measure = [&](std::size_t b, std::size_t e) {
    Box box{b, e, 0, -1};
    for (int c = 0; c < 3; ++c) {
      int lo = 255, hi = 0;
      for (std::size_t i = b; i < e; ++i) {
        lo = std::min(lo, channel(hist[i].key, c));
        hi = std::max(hi, channel(hist[i].key, c));
      }
      if (hi - lo > box.range) box.widest = c, box.range = hi - lo;
    }
    return box;
  };
  std::vector<Box> boxes{measure(0, hist.size())};
  while (boxes.size() < colors) {
    auto it = std::max_element(boxes.begin(), boxes.end(),
                               [](const Box& a, const Box& b) { return a.range < b.range; });
    if (it->range <= 0) break;
    const Box box = *it;
    const int c = box.widest;
    std::sort(hist.begin() + std::ptrdiff_t(box.begin), hist.begin() + std::ptrdiff_t(box.end),
              [c](const ColorCount& a, const ColorCount& b) {
                return channel(a.key, c) < channel(b.key, c);
              });
    std::uint64_t total = 0, seen = 0;
    for (std::size_t i = box.begin; i < box.end; ++i) total += hist[i].count;
    std::size_t cut = box.begin + 1;
    for (std::size_t i = box.begin; i + 1 < box.end; ++i) {
      seen += hist[i].count;
      cut = i + 1;
      if (2 * seen >= total) break;
    }
    // Never split inside a run of equal channel values (the halves must not overlap).
    while (cut < box.end && channel(hist[cut].key, c) == channel(hist[cut - 1].key, c)) ++cut;
    if (cut == box.end) {
      cut = box.begin + 1;
      while (channel(hist[cut].key, c) == channel(hist[cut - 1].key, c)) ++cut;
    }
    *it = measure(box.begin, cut);
    boxes.push_back(measure(cut, box.end));
  }
  std::vector<Key> palette;
  for (const Box& box : boxes) {
    std::array<double, 3> sum{};
    double weight = 0;
    for (std::size_t i = box.begin; i < box.end; ++i) {
      for (int c = 0; c < 3; ++c)
        sum[std::size_t(c)] += double(hist[i].count) * channel(hist[i].key, c);
      weight += double(hist[i].count);
    }
    Key k = 0;
    for (int c = 0; c < 3; ++c) k = (k << 8) | Key(sum[std::size_t(c)] / weight + 0.5);
    palette.push_back(k);
  }
  return palette;
}

// The global palette: every colour exactly when the frames use at most 256, else median cut.
std::vector<Key> build_palette(const std::vector<Image>& frames) {
  std::unordered_map<Key, std::uint64_t> counts;
  for (const Image& f : frames) {
    const std::uint8_t* p = f.data();
    const std::size_t pixels = std::size_t(f.width()) * std::size_t(f.height());
    for (std::size_t i = 0; i < pixels; ++i) ++counts[key_of(p + 3 * i)];
  }
  std::vector<ColorCount> hist;
  hist.reserve(counts.size());
  for (const auto& [k, c] : counts) hist.push_back({k, c});
  std::sort(hist.begin(), hist.end(),
            [](const ColorCount& a, const ColorCount& b) { return a.key < b.key; });
  if (hist.size() <= 256) {
    std::vector<Key> exact;
    for (const auto& h : hist) exact.push_back(h.key);
    return exact;
  }
  return median_cut(std::move(hist), 256);
}

int nearest(const std::vector<Key>& palette, Key k) {
  int best = 0;
  long best_d = -1;
  for (std::size_t i = 0; i < palette.size(); ++i) {
    long d = 0;
    for (int c = 0; c < 3; ++c) {
      const long e = channel(palette[i], c) - channel(k, c);
      d += e * e;
    }
    if (best_d < 0 || d < best_d) best_d = d, best = int(i);
  }
  return best;
}

struct GifCloser {
  void operator()(GifFileType* g) const {
    int err = 0;
    EGifCloseFile(g, &err);
  }
};

[[noreturn]] void gif_failed(const char* what, int code) {
  throw_runtime(std::string("GIF encoding failed in ") + what + ": " + GifErrorString(code));
}

}  // namespace

std::string encode_gif(const std::vector<Image>& frames, int delay_cs, int hold_last) {
  if (frames.empty()) throw_runtime("encode_gif: no frames");
  const int w = frames[0].width(), h = frames[0].height();
  for (const Image& f : frames) {
    if (f.width() != w || f.height() != h) throw_runtime("encode_gif: frames differ in size");
  }
  if (w > 65535 || h > 65535)
    throw_bad_input("GIF: a frame of " + std::to_string(w) + "x" + std::to_string(h) +
                    " exceeds 65535 pixels a side");
  if (delay_cs < 0 || hold_last < 1 || long(delay_cs) * hold_last > 65535) {
    throw_bad_input("GIF delay: " + std::to_string(delay_cs) + " cs (held x" +
                    std::to_string(hold_last) + ") must lie in [0, 65535] hundredths of a second");
  }

  const std::vector<Key> palette = build_palette(frames);
  // The colour table's size is a power of two >= 2; unused entries stay black.
  int bits = 1;
  while ((std::size_t(1) << bits) < palette.size()) ++bits;
  std::unique_ptr<ColorMapObject, void (*)(ColorMapObject*)> map(
      GifMakeMapObject(1 << bits, nullptr), GifFreeMapObject);
  if (!map) throw_runtime("GIF encoding: out of memory");
  for (std::size_t i = 0; i < palette.size(); ++i) {
    map->Colors[i] = {GifByteType(channel(palette[i], 0)), GifByteType(channel(palette[i], 1)),
                      GifByteType(channel(palette[i], 2))};
  }
  std::unordered_map<Key, GifPixelType> index;  // colour -> palette entry, filled on first use
  auto index_of = [&](Key k) {
    auto [it, fresh] = index.try_emplace(k, 0);
    if (fresh) it->second = GifPixelType(nearest(palette, k));
    return it->second;
  };

  std::string bytes;
  auto sink = [](GifFileType* g, const GifByteType* data, int n) {
    static_cast<std::string*>(g->UserData)
        ->append(reinterpret_cast<const char*>(data), std::size_t(n));
    return n;
  };
  int err = 0;
  std::unique_ptr<GifFileType, GifCloser> gif(EGifOpen(&bytes, sink, &err));
  if (!gif) gif_failed("EGifOpen", err);
  EGifSetGifVersion(gif.get(), true);
  if (EGifPutScreenDesc(gif.get(), w, h, bits, 0, map.get()) == GIF_ERROR) {
    gif_failed("EGifPutScreenDesc", gif->Error);
  }
  // NETSCAPE2.0 application extension: sub-block {1, loop count 0 = forever (little-endian)}.
  const GifByteType app[] = {'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0'};
  const GifByteType loop[] = {1, 0, 0};
  if (EGifPutExtensionLeader(gif.get(), APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
      EGifPutExtensionBlock(gif.get(), sizeof app, app) == GIF_ERROR ||
      EGifPutExtensionBlock(gif.get(), sizeof loop, loop) == GIF_ERROR ||
      EGifPutExtensionTrailer(gif.get()) == GIF_ERROR) {
    gif_failed("the loop extension", gif->Error);
  }
  std::vector<GifPixelType> line(std::size_t(w), 0);
  for (std::size_t f = 0; f < frames.size(); ++f) {
    GraphicsControlBlock gcb{};
    gcb.DisposalMode = DISPOSE_DO_NOT;
    gcb.UserInputFlag = false;
    gcb.DelayTime = f + 1 == frames.size() ? delay_cs * hold_last : delay_cs;
    gcb.TransparentColor = NO_TRANSPARENT_COLOR;
    GifByteType ext[4];
    const auto ext_len = EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(gif.get(), GRAPHICS_EXT_FUNC_CODE, int(ext_len), ext) == GIF_ERROR) {
      gif_failed("the graphics control block", gif->Error);
    }
    if (EGifPutImageDesc(gif.get(), 0, 0, w, h, false, nullptr) == GIF_ERROR) {
      gif_failed("EGifPutImageDesc", gif->Error);
    }
    const std::uint8_t* p = frames[f].data();
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x)
        line[std::size_t(x)] =
            index_of(key_of(p + 3 * (std::size_t(y) * std::size_t(w) + std::size_t(x))));
      if (EGifPutLine(gif.get(), line.data(), w) == GIF_ERROR)
        gif_failed("EGifPutLine", gif->Error);
    }
  }
  // EGifCloseFile writes the trailer and frees the handle whatever happens.
  if (EGifCloseFile(gif.release(), &err) == GIF_ERROR) gif_failed("EGifCloseFile", err);
  return bytes;
}

void write_gif(const std::string& path, const std::vector<Image>& frames, int delay_cs,
               int hold_last) {
  const std::string bytes = encode_gif(frames, delay_cs, hold_last);
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace nwgf
