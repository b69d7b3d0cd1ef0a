#pragma once
// When a CPU loop is worth an OpenMP team. A team costs more than its start: the second thread
// pulls its half of the operands from the first one's cache, and where idle threads sleep
// (OMP_WAIT_POLICY=passive, as ctest and our mpirun scripts run them) each start is a futex wake
// (about 45 us on a 2-core Zen 4 VM, against about 2 us where they spin). The variational
// scheme's networks (batch 256, 64 wide) made dozens of loops per iteration below both costs and
// ran 3.4x slower on 2 sleeping threads than on 1 (README, "Backends and threads").
// Internal: included by the CPU loops, not installed.
#include "nwgf/engine/types.hpp"

namespace nwgf {

// Light element operations (an axpby element, a bias and an activation) below which a CPU loop
// runs on the calling thread: 2^16 where idle threads spin, 2^17 where they sleep
// (OMP_WAIT_POLICY=passive, read once). Measured on whole runs: the backward, forward and
// variational quick experiments on 2 threads.
index_t parallel_grain();

// Whether `work` light element operations are worth a team (callers weigh heavier elements:
// a Philox normal block counts as 64).
inline bool worth_a_team(index_t work) { return work >= parallel_grain(); }

}  // namespace nwgf
