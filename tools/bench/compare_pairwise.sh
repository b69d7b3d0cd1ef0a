#!/usr/bin/env bash
# nwgf's fused Riesz self gradient (`nwgf bench pairwise`) against the plain loop a careful user
# writes (tools/bench/peers/pairwise_loop.cpp: structure-of-arrays points, `omp parallel for` over
# rows, `omp simd` reduction over columns, 1/sqrt or pow per pair), on the same work in one run.
# Both time grad_i = sum_j r |x_i - x_j|^(r-2) (x_i - x_j) for N uniform points in [0,1]^d and
# report gpairs_per_s = N^2 / median seconds / 1e9.
#
# Usage: tools/bench/compare_pairwise.sh [NWGF_BINARY]          (default build/nwgf)
# Environment: N (20000), D (2), THREADS (2), ROUNDS (3), REPEATS (5, per process),
#   DTYPES ("f32 f64"), RS ("1 0.5 1.5"), BUILD_DIR (build; the peer is built into
#   $BUILD_DIR/peers/ with $CXX, default g++, -O3 $PEER_ARCH -ffast-math -fopenmp -std=c++17),
#   PEER_ARCH (-march=native; e.g. "-mavx2 -mfma" with NWGF_SIMD=avx2 compares the AVX2 code of
#   both on an AVX-512 machine: the peer binary's name carries the flags).
#
# For each round and each case (dtype x r) the two programs run back to back, the order swapped
# every other round, each with OMP_WAIT_POLICY=passive, so slow drift of a shared machine hits
# both alike. Every raw JSON line goes to stderr; stdout gets one summary line per case:
#   nwgf_gpairs_per_s / peer_gpairs_per_s  median over the rounds of each run's own median,
#   ratio = nwgf / peer                     > 1: nwgf is faster than the hand-written loop,
#   nwgf_runs / peer_runs                   the per-round values, to judge the spread,
#   simd (from the nwgf line, null if absent), peer_arch and cpu (lscpu model name).
# Compare ratios measured on the same machine in the same run; absolute rates on a shared
# 2-core machine move by tens of percent between runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
NWGF=${1:-build/nwgf}
n=${N:-20000} d=${D:-2} threads=${THREADS:-2} rounds=${ROUNDS:-3} repeats=${REPEATS:-5}
dtypes=${DTYPES:-f32 f64} rs=${RS:-1 0.5 1.5}
build_dir=${BUILD_DIR:-build}
src=tools/bench/peers/pairwise_loop.cpp
peer_arch=${PEER_ARCH:--march=native}
peer=$build_dir/peers/pairwise_loop$(printf '%s' "$peer_arch" | tr -c 'A-Za-z0-9' '_')

if [ ! -x "$NWGF" ]; then echo "error: $NWGF not found (build nwgf first)" >&2; exit 2; fi
if [ ! -x "$peer" ] || [ "$src" -nt "$peer" ]; then
  mkdir -p "$build_dir/peers"
  # shellcheck disable=SC2086  # PEER_ARCH is a list of flags
  "${CXX:-g++}" -O3 $peer_arch -ffast-math -fopenmp -std=c++17 "$src" -o "$peer.tmp"
  mv "$peer.tmp" "$peer"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/runs.tsv

run_nwgf() {  # dtype r
  local line
  line=$(OMP_WAIT_POLICY=passive "$NWGF" --threads "$threads" bench pairwise --n "$n" --d "$d" \
    --r "$2" --dtype "$1" --repeats "$repeats" | grep '^{' | tail -n 1)
  echo "$line" >&2
  printf 'nwgf\t%s\t%s\t%s\n' "$1" "$2" "$line" >>"$log"
}
run_peer() {  # dtype r
  local line
  line=$(OMP_WAIT_POLICY=passive "$peer" --threads "$threads" --n "$n" --d "$d" --r "$2" \
    --dtype "$1" --repeats "$repeats")
  echo "$line" >&2
  printf 'peer\t%s\t%s\t%s\n' "$1" "$2" "$line" >>"$log"
}

for ((round = 1; round <= rounds; ++round)); do
  for dtype in $dtypes; do
    for r in $rs; do
      if ((round % 2)); then
        run_nwgf "$dtype" "$r"; run_peer "$dtype" "$r"
      else
        run_peer "$dtype" "$r"; run_nwgf "$dtype" "$r"
      fi
    done
  done
done

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1 || true)
if [ -z "$cpu" ]; then
  cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1 || true)
fi

python3 - "$log" "$cpu" "$dtypes" "$rs" "$peer_arch" <<'PY'
import json, statistics, sys
log, cpu, dtypes, rs = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
peer_arch = sys.argv[5]
runs = {}
for row in open(log):
    who, dtype, r, line = row.rstrip("\n").split("\t", 3)
    runs.setdefault((dtype, r), {"nwgf": [], "peer": []})[who].append(json.loads(line))
for dtype in dtypes:
    for r in rs:
        case = runs[(dtype, r)]
        ours = [j["gpairs_per_s"] for j in case["nwgf"]]
        peer = [j["gpairs_per_s"] for j in case["peer"]]
        first = case["nwgf"][0]
        med_ours, med_peer = statistics.median(ours), statistics.median(peer)
        print(json.dumps({"compare": "pairwise", "dtype": dtype, "r": float(r),
                          "n": first["n"], "d": first["d"], "threads": first["threads"],
                          "rounds": len(ours), "nwgf_gpairs_per_s": med_ours,
                          "peer_gpairs_per_s": med_peer, "ratio": med_ours / med_peer,
                          "nwgf_runs": ours, "peer_runs": peer,
                          "simd": first.get("simd"), "peer_arch": peer_arch,
                          "cpu": cpu or None}))
PY
