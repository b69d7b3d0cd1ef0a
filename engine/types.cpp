#include "nwgf/engine/types.hpp"

#include "nwgf/engine/error.hpp"

namespace nwgf {

BackendChoice parse_backend(const std::string& text, const std::string& what) {
  if (text == "auto") return BackendChoice::automatic;
  if (text == "cpu") return BackendChoice::cpu;
  if (text == "cuda") return BackendChoice::cuda;
  throw_bad_input(what + ": unknown backend '" + text + "' (expected auto, cpu or cuda)");
}

DType parse_dtype(const std::string& text, const std::string& what) {
  if (text == "f32" || text == "float32") return DType::f32;
  if (text == "f64" || text == "float64") return DType::f64;
  throw_bad_input(what + ": unknown dtype '" + text + "' (expected f32 or f64)");
}

}  // namespace nwgf
