#!/usr/bin/env bash
# Compiles the given .cu files with nvcc exactly as the CUDA build does (C++20, warnings as
# errors, sm_80 and sm_90), without a full CUDA build, and fails on any register spill as CI's
# tools/check_ptxas.sh does. Usage: tools/nvcc_check.sh FILE.cu...
set -euo pipefail
cd "$(dirname "$0")/.."
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
gen=$(mktemp -d); trap 'rm -rf "$gen"' EXIT
# Project headers resolve as "engine/x.hpp" and as "nwgf/engine/x.hpp" (as in the CMake build).
mkdir -p "$gen/engine" "$gen/nwgf/engine" "$gen/links"
sed -e 's/@PROJECT_VERSION@/0.0.0/' -e 's/@NWGF_WITH_CUDA@/ON/' engine/version.hpp.in > "$gen/engine/version.hpp"
cp "$gen/engine/version.hpp" "$gen/nwgf/engine/version.hpp"
ln -s "$PWD" "$gen/links/nwgf"
for cu in "$@"; do
  echo "nvcc: $cu"
  rc=0
  "$NVCC" -std=c++20 -O3 -DNWGF_HAVE_CUDA=1 -I. -I"$gen" -I"$gen/links" -isystem /usr/include/x86_64-linux-gnu/openblas-openmp \
    --expt-relaxed-constexpr -Werror=all-warnings -Xcompiler=-Wall,-Wextra,-Werror,-fopenmp \
    -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -Xptxas=-v \
    -c "$cu" -o /dev/null >"$gen/log" 2>&1 || rc=$?
  grep -v 'Function properties\|Used [0-9]* registers\|Compile time' "$gen/log" || true
  [ "$rc" -eq 0 ] || { echo "nvcc: $cu FAILED"; exit "$rc"; }
  # As tools/check_ptxas.sh in CI: any register spill fails.
  if grep -q '[1-9][0-9]* bytes spill stores' "$gen/log"; then
    echo "nvcc: $cu spills registers (see the ptxas lines above)"
    exit 1
  fi
done
