#!/usr/bin/env bash
# Compiler/linker launcher that measures each step's CPU time (user + sys, children included)
# and appends one line "CPU_SECONDS WALL_SECONDS KIND OUTPUT" to $NWGF_TIME_LOG (default
# /tmp/nwgf_time_tu.log). KIND is cc (a compile: -c), link, or other.
# usage (per build; no ccache, so the compile really runs):
#   cmake -S . -B B ... -DCMAKE_CXX_COMPILER_LAUNCHER=$PWD/tools/ci/time_tu.sh \
#     -DCMAKE_C_COMPILER_LAUNCHER=$PWD/tools/ci/time_tu.sh -DCMAKE_CUDA_COMPILER_LAUNCHER=$PWD/tools/ci/time_tu.sh \
#     -DCMAKE_CXX_LINKER_LAUNCHER=$PWD/tools/ci/time_tu.sh
#   NWGF_TIME_LOG=$PWD/B.time cmake --build B -j2
#   tools/ci/tu_report.sh B.time        # top 30 steps and the totals
set -uo pipefail
log=${NWGF_TIME_LOG:-/tmp/nwgf_time_tu.log}
kind=link; out=?
prev=
for a in "$@"; do
  case "$prev" in -o) out=$a ;; esac
  [ "$a" = -c ] && kind=cc
  prev=$a
done
tmp=$(mktemp)
/usr/bin/time -f '%U %S %e' -o "$tmp" "$@"
rc=$?
read -r u s e < <(tail -1 "$tmp")
rm -f "$tmp"
printf '%.2f %.2f %s %s\n' "$(echo "$u + $s" | bc)" "$e" "$kind" "$out" >> "$log"
exit $rc
