#!/usr/bin/env bash
# Mutation check of the emulation tests (scratch only: nothing in the tree changes). Copies source
# REL to /tmp, replaces the N-th occurrence (default 1) of OLD by NEW, builds the emulation build
# in BUILD_DIR with the copy in place of REL (NWGF_EMU_SOURCE_OVERRIDES), runs the emulation
# tests and prints CAUGHT (a test failed) or MISSED. Exit status 0 when caught.
# usage: tools/emulate/mutate.sh BUILD_DIR REL OLD NEW [N]
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,7p' "$0"
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath -m "$1") rel=$2 old=$3 new=$4 nth=${5:-1}
mkdir -p /tmp/nwgf_mutants "$build"
mutant=/tmp/nwgf_mutants/$(echo "$rel" | tr / _)
python3 - "$root/$rel" "$mutant" "$old" "$new" "$nth" <<'PY'
import sys
src, dst, old, new, nth = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
text = open(src).read()
pos = -1
for _ in range(nth):
    pos = text.find(old, pos + 1)
    if pos < 0:
        sys.exit(f"mutate.sh: occurrence {nth} of {old!r} not found in {src}")
open(dst, "w").write(text[:pos] + new + text[pos + len(old):])
PY
cmake -S "$root" -B "$build" -DNWGF_CUDA_EMULATE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DNWGF_EMU_SOURCE_OVERRIDES=$rel=$mutant" > "$build/mutate.log" 2>&1
what=$(python3 -c 'import sys; print(repr(sys.argv[1]), "->", repr(sys.argv[2]))' "$old" "$new")
if ! cmake --build "$build" -j"${NWGF_JOBS:-2}" --target emu_test_kernels >> "$build/mutate.log" 2>&1; then
  echo "BUILD FAILED (not a test result; $build/mutate.log): $rel: $what"
  exit 1
fi
if (cd "$build" && timeout 600 ./emu_test_kernels > "$build/mutate.out" 2>&1); then
  echo "MISSED: $rel: $what"
  exit 1
fi
fails=$(grep -c "ERROR:" "$build/mutate.out" || true)
faults=$(grep -c "nwgf CUDA emulator:" "$build/mutate.out" || true)
echo "CAUGHT ($fails failed checks, $faults emulator faults): $rel: $what"
