#!/usr/bin/env bash
# Two builds of nwgf on the same benchmarks, interleaved: is a change slower anywhere?
#
# Usage: tools/bench/compare_builds.sh NEW_BINARY BASE_BINARY
# Environment: ROUNDS (10), THREADS (2), CASES (a file of `nwgf bench` argument lines, one case
#   per line, '#' comments; default: the list below, every bench kind the engine has).
#
# Each round runs every case with NEW then BASE, the order swapped every other round, each with
# OMP_WAIT_POLICY=passive, so slow drift of a shared machine hits both alike. For each case and
# each timed field (seconds, energy_seconds, directional_seconds, gemm_seconds where present) the
# per-round ratio NEW/BASE is formed from the two runs of that round, and stdout gets one JSON
# line per case and field:
#   ratio       median over the rounds of NEW seconds / BASE seconds (< 1: NEW is faster),
#   ratio_min / ratio_max, new_seconds / base_seconds (medians), rounds, simd, cpu (lscpu).
# Every raw JSON line goes to stderr. Compare ratios from one run only; absolute times on a shared
# 2-core machine move by tens of percent between runs, and single rounds have outliers.
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 NEW_BINARY BASE_BINARY" >&2; exit 2; fi
new=$1 base=$2
for b in "$new" "$base"; do
  if [ ! -x "$b" ]; then echo "error: $b is not an executable" >&2; exit 2; fi
done
rounds=${ROUNDS:-10} threads=${THREADS:-2}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cases=$tmp/cases
if [ -n "${CASES:-}" ]; then
  if [ ! -r "$CASES" ]; then echo "error: CASES=$CASES is not readable" >&2; exit 2; fi
  grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$CASES" >"$cases"
else
  cat >"$cases" <<'EOF'
pairwise --n 20000 --d 2 --r 1 --dtype f32 --repeats 5 --directional
pairwise --n 20000 --d 2 --r 1 --dtype f64 --repeats 5 --directional
pairwise --n 8000 --d 2 --r 0.5 --dtype f32 --repeats 5
pairwise --n 8000 --d 2 --r 1.5 --dtype f64 --repeats 5
pairwise --n 20000 --d 3 --r 1 --dtype f32 --repeats 5
pairwise --n 3000 --d 784 --r 1 --dtype f32 --repeats 5
sliced --n 200000 --d 2 --directions 64 --dtype f32 --repeats 5
sliced --n 100000 --d 784 --directions 32 --dtype f64 --repeats 3
mlp --batch 6000 --d 2 --hidden 128,128,128 --dtype f32 --repeats 5
mlp --batch 2000 --d 784 --hidden 512,512 --dtype f32 --repeats 3
step --scheme backward --n 6000 --d 2 --r 1 --repeats 5
step --scheme forward --n 6000 --d 2 --r 1 --repeats 5
step --scheme particle --n 6000 --d 2 --r 1 --dtype f64 --repeats 5
step --scheme particle --n 20000 --d 2 --r 1 --estimator sliced --directions 128 --repeats 5
EOF
fi

log=$tmp/runs.tsv
run_one() {  # who binary case_index args...
  local who=$1 bin=$2 idx=$3 line
  shift 3
  # shellcheck disable=SC2068
  line=$(OMP_WAIT_POLICY=passive "$bin" --threads "$threads" bench $@ | grep '^{' | tail -n 1)
  echo "$line" >&2
  printf '%s\t%s\t%s\t%s\n' "$who" "$idx" "$round" "$line" >>"$log"
}

mapfile -t lines <"$cases"
for ((round = 1; round <= rounds; ++round)); do
  for idx in "${!lines[@]}"; do
    if ((round % 2)); then
      run_one new "$new" "$idx" ${lines[$idx]}; run_one base "$base" "$idx" ${lines[$idx]}
    else
      run_one base "$base" "$idx" ${lines[$idx]}; run_one new "$new" "$idx" ${lines[$idx]}
    fi
  done
done

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1 || true)
python3 - "$log" "$cases" "$cpu" <<'PY'
import json, statistics, sys
log, cases, cpu = sys.argv[1], sys.argv[2], sys.argv[3]
case_text = [l.strip() for l in open(cases)]
runs = {}
for row in open(log):
    who, idx, rnd, line = row.rstrip("\n").split("\t", 3)
    runs.setdefault(int(idx), {}).setdefault(int(rnd), {})[who] = json.loads(line)
for idx, per_round in sorted(runs.items()):
    first = next(iter(per_round.values()))["new"]
    for field in ("seconds", "energy_seconds", "directional_seconds", "gemm_seconds"):
        if field not in first:
            continue
        ratios = [r["new"][field] / r["base"][field] for r in per_round.values()]
        print(json.dumps({
            "case": case_text[idx], "field": field, "rounds": len(ratios),
            "ratio": statistics.median(ratios), "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "new_seconds": statistics.median(r["new"][field] for r in per_round.values()),
            "base_seconds": statistics.median(r["base"][field] for r in per_round.values()),
            "simd": first.get("simd"), "cpu": cpu or None}))
PY
