#!/usr/bin/env bash
# Peak resident memory per rank and step time of `nwgf run` with flow.memory = "replicated" and
# "sharded" (README, "MPI runs"): one JSON line per variant and round with every rank's peak RSS
# (GNU time's %M: the process's VmHWM, KiB) and rank 0's seconds in its steps (the trace's
# `step` spans: the gradient and the update, not the evaluation of F).
# usage: tools/mpi/sharded_memory.sh NWGF [ROUNDS] [CONFIG] [THREADS]   (as root: set the
# OMPI_ALLOW_RUN_AS_ROOT variables)
set -euo pipefail
nwgf=$1 rounds=${2:-1}
cfg=${3:-$(dirname "$0")/sharded_memory.toml}
threads=${4:-2}
out=$(mktemp -d)
m=(mpirun -q --oversubscribe --bind-to none)
step_seconds() {  # TRACE: the seconds of its `step` spans
  python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))
e = t["traceEvents"] if isinstance(t, dict) else t
print(sum(x["dur"] for x in e if x.get("name") == "step" and x.get("ph") == "X") / 1e6)' "$1"
}
for _ in $(seq "$rounds"); do
  for memory in replicated sharded; do
    for np in 1 2; do
      rm -rf "$out/run" "$out"/rss.* "$out/trace.json"
      set=(--set "flow.memory=\"$memory\"")
      if [ "$np" = 1 ]; then
        /usr/bin/time -f "%M" -o "$out/rss.0" "$nwgf" --threads "$threads" run "$cfg" \
          --out "$out/run" --trace "$out/trace.json" "${set[@]}" 2> /dev/null
      else
        "${m[@]}" -np "$np" bash -c '/usr/bin/time -f "%M" -o "$0/rss.$OMPI_COMM_WORLD_RANK" "$@"' \
          "$out" "$nwgf" --threads "$threads" run "$cfg" --out "$out/run" --trace "$out/trace.json" \
          "${set[@]}" 2> /dev/null
      fi
      rss=$(cat $(ls "$out"/rss.* | sort) | paste -sd, -)
      step=$(step_seconds "$out/trace.json")
      echo "{\"memory\": \"$memory\", \"ranks\": $np, \"threads\": $threads," \
           "\"peak_rss_kib_per_rank\": [$rss], \"step_seconds\": $step}"
    done
  done
done
rm -rf "$out"
