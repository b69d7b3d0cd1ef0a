#!/usr/bin/env bash
# Compiles every CUDA source once more to a cubin for sm_90 with `ptxas -v`, prints each kernel's
# register and spill use, and fails if any kernel has spill stores (issue: 0 bytes of spill
# stores for the pairwise kernels; we hold every kernel to it).
set -euo pipefail
BUILD_DIR=${1:-build}
cd "$(dirname "$0")/.."
if [ ! -f "$BUILD_DIR/nwgf_nvcc.txt" ]; then
  echo "check_ptxas: $BUILD_DIR has no CUDA backend, skipped"; exit 0
fi
NVCC=$(cat "$BUILD_DIR/nwgf_nvcc.txt")
shopt -s nullglob
log="$BUILD_DIR/ptxas.log"
: > "$log"
# Every .cu of the library folders, subfolders included ("nwgf/x.hpp" resolves through
# $BUILD_DIR/include/nwgf, a link to the source root).
mapfile -t sources < <(find engine kernels nn schemes analytic -name '*.cu' | sort)
for cu in "${sources[@]}"; do
  echo "== $cu" >>"$log"
  "$NVCC" -std=c++20 -O3 -arch=sm_90 -DNWGF_HAVE_CUDA=1 -I. -I"$BUILD_DIR/include" -I"$BUILD_DIR/generated" \
    -isystem /usr/include/x86_64-linux-gnu/openblas-openmp --expt-relaxed-constexpr \
    -Xcompiler=-fopenmp -Xptxas=-v -cubin -o /dev/null "$cu" >>"$log" 2>&1 || { cat "$log"; exit 1; }
done
grep -E 'Compiling entry|spill' "$log" | sed 's/^ptxas info *: //' || true
if grep -E '[1-9][0-9]* bytes spill stores' "$log" >/dev/null; then
  echo "check_ptxas: spill stores found (see $log)"; exit 1
fi
echo "check_ptxas: 0 bytes spill stores in every kernel"
