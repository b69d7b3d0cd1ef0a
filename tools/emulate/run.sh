#!/usr/bin/env bash
# Configures, builds and tests the CUDA emulation build (NWGF_CUDA_EMULATE=ON): our CUDA kernels
# run on the CPU emulator of the CUDA execution model and are compared with the CPU backend.
# usage: tools/emulate/run.sh [BUILD_DIR] [extra cmake args...]   (default build-emu; -j from NWGF_JOBS, 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build-emu}
shift || true
jobs=${NWGF_JOBS:-2}
cmake -S "$root" -B "$build" -DNWGF_CUDA_EMULATE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" -j"$jobs" --output-on-failure
