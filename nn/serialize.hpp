#pragma once
// Save/load of an Mlp's parameters and (optionally) its Adam state.
//
// Format (little-endian), version 1:
//   "NWGFMLP1" (8 bytes) | u32 version | u32 sizeof(T) | u32 num_widths | i64 widths[num_widths]
//   | i64 num_params | u32 has_adam | [i64 steps | f64 beta1 | f64 beta2 | f64 eps]
//   | T params[num_params] | [T m[num_params] | T v[num_params]] | u32 crc32 of all bytes before.
// Loading checks magic, version, dtype, widths, sizes and checksum; any mismatch is a bad-input
// error naming the file (or `what`) and the field.
#include <string>
#include <string_view>

#include "nwgf/engine/backend.hpp"
#include "nwgf/nn/adam.hpp"
#include "nwgf/nn/icnn.hpp"
#include "nwgf/nn/mlp.hpp"

namespace nwgf {

inline constexpr unsigned mlp_format_version = 1;

// adam may be nullptr (parameters only).
template <class T>
std::string serialize_mlp(const Context& ctx, const Mlp<T>& mlp, const Adam<T>* adam);
// Restores into an Mlp of the same widths (and Adam of the same size); `what` names the source
// in error messages. A blob with Adam state may be loaded with adam == nullptr (state ignored);
// a blob without Adam state into a non-null adam is an error.
template <class T>
void deserialize_mlp(const Context& ctx, std::string_view bytes, const std::string& what,
                     Mlp<T>& mlp, Adam<T>* adam);

// The same for an ICNN (nn/icnn.hpp): magic "NWGFICN1", the widths field holding
// [d, h_0, ..., h_{L-1}, rank, the bits of strong_convexity as an i64]; restored only into an
// ICNN of that shape.
template <class T>
std::string serialize_icnn(const Context& ctx, const Icnn<T>& net, const Adam<T>* adam);
template <class T>
void deserialize_icnn(const Context& ctx, std::string_view bytes, const std::string& what,
                      Icnn<T>& net, Adam<T>* adam);

// Atomic write (engine/io/file_io.hpp) / read of the same bytes.
template <class T>
void save_mlp(const Context& ctx, const std::string& path, const Mlp<T>& mlp, const Adam<T>* adam);
template <class T>
void load_mlp(const Context& ctx, const std::string& path, Mlp<T>& mlp, Adam<T>* adam);

}  // namespace nwgf
