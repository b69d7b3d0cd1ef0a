// libFuzzer target: decode_gray_image must either return width x height intensities in [0, 1]
// or throw nwgf::Error (bad input); never crash, hang or read out of bounds. stb_image is
// compiled into this target (the same v2.27 source as Debian's libstb) so that it is
// instrumented too.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/image_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const nwgf::GrayImage img = nwgf::decode_gray_image(bytes, "fuzz.png");
    if (img.width < 1 || img.height < 1) std::abort();
    if (img.v.size() != std::size_t(img.width) * std::size_t(img.height)) std::abort();
    for (float v : img.v) {
      if (!(v >= 0.0f && v <= 1.0f)) std::abort();
    }
  } catch (const nwgf::Error& e) {
    if (e.kind() != nwgf::ErrorKind::bad_input) std::abort();
  }
  return 0;
}
