#pragma once
// The SIMD target of the CPU kernels. They are compiled for several targets (Google Highway:
// AVX-512 with the Ice Lake / Zen 4 extensions "avx512_dl", AVX-512 "avx512", AVX2 + FMA
// "avx2", "sse4", and the portable fallback "scalar" (or "emu128", where the compiler's
// baseline allows it); "neon" on Arm) and the best one the CPU
// supports runs, unless the environment variable NWGF_SIMD or set_simd_target() names another.
#include <string>
#include <vector>

namespace nwgf {

// The target the CPU kernels run on now, e.g. "avx2". The first call reads NWGF_SIMD (a target
// name or "auto"); a name this build or CPU lacks is a bad-input error naming NWGF_SIMD.
std::string simd_target();
// Its vector width in bytes.
int simd_width_bytes();
// The targets this build has and this CPU runs, best first.
std::vector<std::string> simd_targets();
// Runs the CPU kernels on `name` from now on ("auto": the best); not while kernels run. An unknown
// or unsupported name is a bad-input error naming `what`.
void set_simd_target(const std::string& name, const std::string& what = "simd target");

}  // namespace nwgf
