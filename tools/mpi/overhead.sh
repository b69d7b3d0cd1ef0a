#!/usr/bin/env bash
# Overhead of the MPI path of `nwgf run` (README, "MPI runs"): interleaved rounds (each round
# runs every variant once, against the noise of a shared machine); one JSON line per variant with
# the medians of wall seconds and CPU seconds (user + sys of the command and its children, all
# ranks) of the whole command, mpirun start-up included.
# usage: tools/mpi/overhead.sh NWGF [REPEATS] [CONFIG]   (as root: set the OMPI_ALLOW_RUN_AS_ROOT
# variables; OMP_WAIT_POLICY=passive keeps idle OpenMP threads from spinning on a loaded machine)
set -uo pipefail
nwgf=$1 reps=${2:-7}
cfg=${3:-$(dirname "$0")/overhead.toml}
out=$(mktemp -d)
m="mpirun -q --oversubscribe --bind-to none"
names=("one process, --threads 2" "mpirun -np 1, --threads 2" "mpirun -np 2, --threads 2"
       "one process, --threads 4" "mpirun -np 4, --threads 4")
cmds=("$nwgf --threads 2 run $cfg" "$m -np 1 $nwgf --threads 2 run $cfg"
      "$m -np 2 $nwgf --threads 2 run $cfg" "$nwgf --threads 4 run $cfg"
      "$m -np 4 $nwgf --threads 4 run $cfg")
declare -A wall cpu
TIMEFORMAT="%R %U %S"
for _ in $(seq "$reps"); do
  for i in "${!cmds[@]}"; do
    rm -rf "$out/run"
    t=$( { time ${cmds[$i]} --out "$out/run" > /dev/null 2>&1; } 2>&1 )
    read -r R U S <<< "$t"
    wall[$i]+="$R "
    cpu[$i]+="$(echo "$U + $S" | bc) "
  done
done
rm -rf "$out"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for i in "${!cmds[@]}"; do
  echo "{\"variant\": \"${names[$i]}\", \"repeats\": $reps, \"median_wall_s\": $(echo "${wall[$i]}" | median), \"median_cpu_s\": $(echo "${cpu[$i]}" | median)}"
done
