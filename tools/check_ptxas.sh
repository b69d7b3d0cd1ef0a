#!/usr/bin/env bash
# The register-spill check of the CUDA build, from the build's own compiles (no second nvcc pass):
# the library's CUDA sources are compiled with -Xptxas=-v through tools/nvcc_log.sh, which keeps
# each object's ptxas report in BUILD_DIR/CMakeFiles/<target>.dir/<source>.cu.o.ptxas. This script
# requires that report for every .cu of the library folders, prints each kernel's registers and
# spills per architecture, and fails on spill stores in any kernel for the architectures of
# PTXAS_SPILL_ARCHS (default "all": every SASS architecture built; a list such as "sm_90" narrows
# it). Spills on the other architectures are printed as warnings.
# usage: [PTXAS_SPILL_ARCHS="sm_80 sm_90"|all] tools/check_ptxas.sh [BUILD_DIR]   (default build)
# One file on its own, with every architecture checked: tools/nvcc_check.sh FILE.cu.
set -euo pipefail
BUILD_DIR=${1:-build}
ARCHS=${PTXAS_SPILL_ARCHS:-all}
cd "$(dirname "$0")/.."
if [ ! -f "$BUILD_DIR/nwgf_nvcc.txt" ]; then
  echo "check_ptxas: $BUILD_DIR has no CUDA backend, skipped"; exit 0
fi
mapfile -t sources < <(find engine kernels nn schemes analytic -name '*.cu' | sort)
reports=()
for cu in "${sources[@]}"; do
  found=
  for r in "$BUILD_DIR"/CMakeFiles/*.dir/"$cu".o.ptxas; do
    if [ -f "$r" ] && [ -f "${r%.ptxas}" ] && ! [ "$r" -ot "${r%.ptxas}" ]; then found=$r; fi
  done
  [ -n "$found" ] || { echo "check_ptxas: no ptxas report for $cu ($BUILD_DIR/CMakeFiles/*.dir/$cu.o.ptxas, written by tools/nvcc_log.sh when it compiles)"; exit 1; }
  reports+=("$found")
done
# Per report (one nvcc run, architectures in turn): "Compiling entry function 'K' for 'sm_XX'",
# then "N bytes stack frame, S bytes spill stores, L bytes spill loads", then "Used R registers".
awk -v archs=" $ARCHS " '
  FNR == 1 { k = ""; a = "" }
  /Compiling entry function/ { k = $0; sub(/.*Compiling entry function /, "", k); sub(/ for .*/, "", k)
                               a = $NF; gsub(/\047/, "", a); n[a]++ }
  /bytes spill stores/ { s = $0; sub(/^ */, "", s); st = s; sub(/ bytes spill stores.*/, "", st); sub(/.*, /, "", st) }
  /Used [0-9]+ registers/ {
    r = $0; sub(/.*Used /, "", r); sub(/,.*/, "", r)
    printf "%s %s: %s, %s\n", a, k, r, s
    if (st + 0 > 0) {
      if (archs == " all " || index(archs, " " a " ")) { bad++; printf "check_ptxas: SPILL (%s) %s %s\n", a, k, s }
      else { warn++; printf "check_ptxas: warning: spill on %s, not checked (PTXAS_SPILL_ARCHS=%s): %s %s\n", a, archs, k, s }
    }
  }
  END { for (x in n) printf "check_ptxas: %d kernels compiled for %s\n", n[x], x
        if (bad) { printf "check_ptxas: %d kernels with spill stores on%s\n", bad, archs; exit 1 } }
' "${reports[@]}"
echo "check_ptxas: ${#sources[@]} CUDA sources' ptxas reports: no spill store on $ARCHS"
