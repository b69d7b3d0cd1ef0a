#pragma once
// The Highway targets of the CPU pair rows (kernels/pairwise_rows-inl.h); include before
// hwy/foreach_target.h in each translation unit that compiles them.
// Targets: AVX3_DL (AVX-512 with the Ice Lake extensions: Ice Lake and later, Zen 4) and AVX3
// (Skylake-X), AVX2 + FMA, SSE4, and Highway's portable scalar fallback (HWY_SCALAR, or EMU128
// where the baseline allows). SSSE3 is left out (SSE4 machines are the oldest x86-64 we expect;
// the fallback covers the rest). The build defines
// HWY_WANT_AVX3_DL and HWY_COMPILE_ALL_ATTAINABLE for the whole library (CMakeLists.txt), so
// engine/simd.cpp sees the same set.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128)
#endif
