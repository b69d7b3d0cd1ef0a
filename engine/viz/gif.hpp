#pragma once
// Animated GIFs (giflib) of engine/viz/png.hpp images: a run's snapshots as one looping animation.
#include <string>
#include <vector>

#include "nwgf/engine/viz/png.hpp"

namespace nwgf {

// All frames must have the same size. delay_cs: hundredths of a second per frame; the last frame
// is held `hold_last` times as long. Loops forever (NETSCAPE2.0 extension).
std::string encode_gif(const std::vector<Image>& frames, int delay_cs = 10, int hold_last = 5);
// Writes atomically (temporary name + rename); failure is bad input naming the path.
void write_gif(const std::string& path, const std::vector<Image>& frames, int delay_cs = 10,
               int hold_last = 5);

}  // namespace nwgf
