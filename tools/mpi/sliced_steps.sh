#!/usr/bin/env bash
# Time per step of the sliced particle flow across MPI ranks (README, "MPI runs"): interleaved
# rounds, each running every variant once; per variant the medians over rounds of rank 0's mean
# step time and of its sliced sort-and-rank phase (ms), read from the run's trace.json (so the
# evaluation, which runs on rank 0 alone, is left out). Every variant's last snapshot is compared
# with that of the first variant with the same thread count (bit for bit, or the script fails).
# usage: tools/mpi/sliced_steps.sh NWGF [REPEATS] [CONFIG] [BASELINE_NWGF]
#   BASELINE_NWGF: another build (e.g. main's) run first, one process, 1 thread.
# As root set the OMPI_ALLOW_RUN_AS_ROOT variables.
set -euo pipefail
nwgf=$1 reps=${2:-3}
cfg=${3:-$(dirname "$0")/sliced_steps.toml}
base=${4:-}
out=$(mktemp -d)
m="mpirun -q --oversubscribe"
names=() cmds=()
if [ -n "$base" ]; then names+=("baseline, one process, --threads 1"); cmds+=("$base --threads 1 run $cfg"); fi
names+=("one process, --threads 1" "mpirun -np 1, --threads 1" "mpirun -np 2, --threads 1"
        "one process, --threads 2" "mpirun -np 2, --threads 2")
cmds+=("$nwgf --threads 1 run $cfg" "$m -np 1 $nwgf --threads 1 run $cfg"
       "$m -np 2 $nwgf --threads 1 run $cfg" "$nwgf --threads 2 run $cfg"
       "$m -np 2 --bind-to none $nwgf --threads 2 run $cfg")
declare -A step sort
steps_of() {  # trace.json -> "mean step ms, mean sort-and-rank ms"
  python3 - "$1" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
ev = t["traceEvents"] if isinstance(t, dict) else t
d = {}
for e in ev:
    if e.get("ph") == "X":
        d.setdefault(e["name"], []).append(e["dur"] / 1e3)
n = len(d["step"])
print(f"{sum(d['step']) / n:.1f} {sum(d.get('sliced sort and rank', [0])) / n:.1f}")
PY
}
for _ in $(seq "$reps"); do
  for i in "${!cmds[@]}"; do
    rm -rf "$out/run$i"
    ${cmds[$i]} --out "$out/run$i" > /dev/null 2>&1
    read -r s r <<< "$(steps_of "$out/run$i/trace.json")"
    step[$i]+="$s " sort[$i]+="$r "
    last=$(ls "$out/run$i/snapshots" | tail -1)
    threads=$(sed 's/.*--threads \([0-9]*\).*/\1/' <<< "${cmds[$i]}")
    for j in "${!cmds[@]}"; do  # the first variant with this thread count
      [ "$(sed 's/.*--threads \([0-9]*\).*/\1/' <<< "${cmds[$j]}")" = "$threads" ] && break
    done
    cmp "$out/run$j/snapshots/$last" "$out/run$i/snapshots/$last" ||
      { echo "FAIL: ${names[$i]}: the last snapshot differs from ${names[$j]}'s"; exit 1; }
  done
done
rm -rf "$out"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for i in "${!cmds[@]}"; do
  echo "{\"variant\": \"${names[$i]}\", \"repeats\": $reps, \"median_step_ms\": $(echo "${step[$i]}" | median), \"median_sort_rank_ms\": $(echo "${sort[$i]}" | median), \"load\": $(cut -d' ' -f1 /proc/loadavg)}"
done
