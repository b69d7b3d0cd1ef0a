// libFuzzer target: parse_flow_config on arbitrary TOML text either returns a validated config
// or throws nwgf::Error (bad input); never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nwgf/engine/error.hpp"
#include "nwgf/schemes/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const nwgf::FlowConfig c = nwgf::parse_flow_config(text, "fuzz.toml");
    // The resolved TOML must parse back to a valid config.
    (void)nwgf::parse_flow_config(nwgf::to_toml(c), "fuzz_roundtrip.toml");
  } catch (const nwgf::Error&) {
  }
  return 0;
}
