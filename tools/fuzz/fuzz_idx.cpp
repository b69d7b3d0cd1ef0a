// libFuzzer target: parse_idx (plain or gzip bytes) must either return a matrix consistent with
// the file's header or throw nwgf::Error (bad input); never crash, hang or read out of bounds.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (nwgf::index_t count : {0, 1}) {
    try {
      const auto m = nwgf::parse_idx(bytes, "fuzz.idx", count);
      if (m.rows < 1 || m.cols < 1 || (count == 1 && m.rows != 1)) std::abort();
      if (m.data.size() != std::size_t(m.rows * m.cols)) std::abort();
      for (double v : m.data) {
        if (!std::isfinite(v)) std::abort();
      }
    } catch (const nwgf::Error& e) {
      if (e.kind() != nwgf::ErrorKind::bad_input) std::abort();
    }
  }
  return 0;
}
