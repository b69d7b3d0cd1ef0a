// libFuzzer target: parse_npy must either return a matrix consistent with its header or throw
// nwgf::Error (bad input); never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto m = nwgf::parse_npy<double>(bytes, "fuzz.npy");
    if (m.rows < 1 || m.cols < 1 || m.data.size() != std::size_t(m.rows * m.cols)) std::abort();
  } catch (const nwgf::Error&) {
  }
  try {
    (void)nwgf::parse_npy<float>(bytes, "fuzz.npy");
  } catch (const nwgf::Error&) {
  }
  return 0;
}
