#pragma once
// Basic vocabulary of the engine: index type, devices, dtypes.
#include <cstdint>
#include <string>

namespace nwgf {

using index_t = std::int64_t;

// Where a buffer lives and which backend runs an operation.
enum class Device { cpu, cuda };

// What the user asked for; `automatic` picks CUDA when a usable device exists, else CPU.
enum class BackendChoice { automatic, cpu, cuda };

enum class DType { f32, f64 };

inline const char* to_string(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }
inline const char* to_string(DType t) { return t == DType::f32 ? "f32" : "f64"; }

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::f32; }
template <>
constexpr DType dtype_of<double>() { return DType::f64; }

// Parses "auto" | "cpu" | "cuda"; anything else is a bad-input error naming `what`.
BackendChoice parse_backend(const std::string& text, const std::string& what = "--backend");
// Parses "f32" | "f64" (also "float32", "float64").
DType parse_dtype(const std::string& text, const std::string& what = "--dtype");

}  // namespace nwgf
