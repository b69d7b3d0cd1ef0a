#pragma once
// CPU thread control: `--threads N` or the environment variable NWGF_THREADS; default all cores.
// OpenMP and OpenBLAS (its OpenMP build) use the same count.
namespace nwgf {

// Threads to use when the caller did not say: NWGF_THREADS if set (a bad value is a bad-input
// error naming NWGF_THREADS), else the number of cores.
int default_threads();
// Sets OpenMP's and OpenBLAS's thread counts; n must be >= 1.
void set_threads(int n);

}  // namespace nwgf
