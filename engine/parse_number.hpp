#pragma once
// Whole-string number parsing for command-line values and text files: the callers name the
// culprit in their own bad-input message.
#include <exception>
#include <optional>
#include <string>

namespace nwgf {

// The number s spells (std::stod's syntax: decimal, exponent, inf, nan), or nothing when s is
// empty, has anything after the number, or is out of range.
inline std::optional<double> parse_whole_number(const std::string& s) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used == 0 || used != s.size()) return std::nullopt;
  return v;
}

}  // namespace nwgf
