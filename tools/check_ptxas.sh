#!/usr/bin/env bash
# Compiles every CUDA source once more to a cubin for sm_90 with `ptxas -v`, prints each kernel's
# register and spill use, and fails if any kernel has spill stores (issue: 0 bytes of spill
# stores for the pairwise kernels; we hold every kernel to it).
set -euo pipefail
BUILD_DIR=${1:-build}
cd "$(dirname "$0")/.."
if ! grep -q 'NWGF_WITH_CUDA:INTERNAL=ON\|CMAKE_CUDA_COMPILER:' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  echo "check_ptxas: no CUDA in $BUILD_DIR, skipped"; exit 0
fi
NVCC=$(grep '^CMAKE_CUDA_COMPILER:' "$BUILD_DIR/CMakeCache.txt" | cut -d= -f2)
[ -x "$NVCC" ] || { echo "check_ptxas: no CUDA compiler in $BUILD_DIR, skipped"; exit 0; }
shopt -s nullglob
log="$BUILD_DIR/ptxas.log"
: > "$log"
for cu in engine/*.cu kernels/*.cu nn/*.cu schemes/*.cu analytic/*.cu; do
  "$NVCC" -std=c++20 -O3 -arch=sm_90 -I. -I"$BUILD_DIR/generated" --expt-relaxed-constexpr \
    -Xptxas=-v -cubin -o /dev/null "$cu" >>"$log" 2>&1 || { cat "$log"; exit 1; }
done
grep -E 'Compiling entry|spill' "$log" | sed 's/^ptxas info *: //' || true
if grep -E '[1-9][0-9]* bytes spill stores' "$log" >/dev/null; then
  echo "check_ptxas: spill stores found (see $log)"; exit 1
fi
echo "check_ptxas: 0 bytes spill stores in every kernel"
