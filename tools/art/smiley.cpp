// Draws the target picture of the two-Diracs-to-an-image experiment (paper App. H, Example 1,
// "Smiley"): a black smiley on white, anti-aliased by 4x4 supersampling.
// Usage: nwgf_smiley OUT.png [SIZE]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/viz/png.hpp"

namespace {

// Ink at (x, y) in [-1, 1]^2 (y up): face outline ring, two eyes, a smile.
bool ink(double x, double y) {
  const double r = std::hypot(x, y);
  if (r > 0.80 && r < 0.92) return true;                               // outline
  if (std::hypot((x + 0.32) / 0.7, y - 0.28) < 0.12) return true;        // left eye
  if (std::hypot((x - 0.32) / 0.7, y - 0.28) < 0.12) return true;        // right eye
  const double m = std::hypot(x, y - 0.1);                               // mouth: lower arc
  return m > 0.48 && m < 0.60 && y < -0.05 && std::fabs(x) < 0.5;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s OUT.png [SIZE]\n", argv[0]);
    return 2;
  }
  const int size = argc == 3 ? std::atoi(argv[2]) : 128;
  if (size < 16 || size > 4096) {
    std::fprintf(stderr, "error: SIZE: must lie in [16, 4096]\n");
    return 2;
  }
  nwgf::Image img(size, size);
  constexpr int ss = 4;
  for (int py = 0; py < size; ++py) {
    for (int px = 0; px < size; ++px) {
      int hits = 0;
      for (int sy = 0; sy < ss; ++sy) {
        for (int sx = 0; sx < ss; ++sx) {
          const double x = 2 * (px + (sx + 0.5) / ss) / size - 1;
          const double y = 1 - 2 * (py + (sy + 0.5) / ss) / size;
          hits += ink(x, y);
        }
      }
      const auto v = std::uint8_t(255 - (255 * hits) / (ss * ss));
      img.set(px, py, nwgf::Rgb{v, v, v});
    }
  }
  try {
    nwgf::write_png(argv[1], img);
  } catch (const nwgf::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
