#pragma once
// nwgf CUDA emulator: NVTX ranges are no-ops (no profiler runs against the emulator).
inline int nvtxRangePushA(const char*) { return 0; }
inline int nvtxRangePop() { return 0; }
