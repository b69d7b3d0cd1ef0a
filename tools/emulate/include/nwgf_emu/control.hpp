#pragma once
// Control of the nwgf CUDA emulator from tests (plain C++: no CUDA macros).
//
// The schedule decides in which order the fibers (CUDA threads) of a block run between switch
// points. It starts from the environment: NWGF_EMU_SCHEDULE = forward | reverse | <seed> (a
// seeded random schedule, the default being seed 1), NWGF_EMU_YIELD = percent of atomics at which
// a random schedule also switches (default 25), NWGF_EMU_GRID_CAP = blocks of a grid_for grid
// (default 3, 0 = uncapped).
#include <cstdint>
#include <string>
#include <vector>

namespace nwgf::emu {

enum class Policy {
  forward,  // lowest-numbered ready thread first: each runs to its next switch point
  reverse,  // highest-numbered first
  random    // a seeded pseudo-random ready thread at every switch point
};

struct Schedule {
  Policy policy = Policy::random;
  std::uint64_t seed = 1;
  int yield_percent = 25;  // random schedules: chance to switch at an atomic / fence
  // Grids sized by detail::grid_for (whose kernels must be grid-stride loops) are capped to this
  // many blocks, so every grid-stride loop runs several rounds at test sizes; 0: no cap.
  unsigned grid_cap = 3;
};

// The schedule of kernels launched later from this process.
void set_schedule(const Schedule& s);
Schedule schedule();
std::string to_string(const Schedule& s);

// The reason of the last kernel fault (launch error, barrier divergence, ...), cleared by
// cudaGetLastError; empty when none.
std::string last_fault();

struct Stats {
  std::uint64_t launches = 0;
  std::uint64_t blocks = 0;
  std::uint64_t threads = 0;
  std::uint64_t switches = 0;
};
Stats stats();

// Names of the kernels launched so far in this process (template arguments stripped).
std::vector<std::string> launched_kernels();

// Lazy streams (runtime/lazy.cpp; starts as NWGF_EMU_LAZY_STREAMS=1 says): work on a created
// stream waits until something forces it, so a missing event wait reads old bytes. Turning it
// off runs the waiting work first.
void set_lazy_streams(bool on);
bool lazy_streams();

// Bytes currently allocated by cudaMalloc.
std::size_t device_bytes_in_use();

}  // namespace nwgf::emu
