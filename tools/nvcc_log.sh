#!/usr/bin/env bash
# CUDA compiler launcher of the library targets (cmake/NwgfLibrary.cmake): runs the compile
# command given (nvcc, or a further launcher such as ccache, and its arguments), keeps its output
# (ptxas -v: each kernel's registers and spills, per architecture) in OBJECT.ptxas next to the
# object, whole and unmixed with parallel compiles, and prints it. tools/check_ptxas.sh reads
# these files. usage: tools/nvcc_log.sh COMMAND... -o OBJECT ...
set -u
out=
prev=
for a in "$@"; do
  [ "$prev" = -o ] && out=$a
  prev=$a
done
[ -n "$out" ] || exec "$@"
"$@" > "$out.ptxas.tmp" 2>&1
rc=$?
cat "$out.ptxas.tmp" >&2
mv -f "$out.ptxas.tmp" "$out.ptxas"
# The report's time stamp after the object's: tools/check_ptxas.sh takes a report older than its
# object for a stale one (mv keeps the time of nvcc's last line of output, which comes before
# nvcc writes the object).
touch "$out.ptxas"
exit "$rc"
