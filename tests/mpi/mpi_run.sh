#!/usr/bin/env bash
# The MPI tests of `nwgf run` (registered by tests/CMakeLists.txt when MPI is found):
#   mpi_run.sh same NWGF MPIEXEC P CONFIG WORK [THREADS [RUN_ARGS...]]
#       `mpirun -np P nwgf --threads THREADS run CONFIG RUN_ARGS` gives the snapshots of
#       `nwgf --threads THREADS run CONFIG RUN_ARGS` (no mpirun) bit for bit (every .npy under
#       snapshots/, weights included, and checkpoint.bin, which the ranks write together with
#       MPI-IO) and metrics.csv but its wall_seconds; no temporary file is left; manifest.json
#       says ranks = P.
#   mpi_run.sh same_metrics ...: the same as same (the name of the variational tests).
#   mpi_run.sh sharded NWGF MPIEXEC P CONFIG WORK [THREADS [RUN_ARGS...]]
#       flow.memory = "sharded" (each rank holds its own rows): `mpirun -np P` gives one
#       process's sharded run byte for byte (snapshots, checkpoint.bin, metrics.csv but its
#       wall_seconds, and with output.plots=true in RUN_ARGS every picture under plots/), no
#       temporary file left, manifest.json says ranks = P, one `done:` line.
#   mpi_run.sh sharded_cuda_cpu NWGF MPIEXEC P CONFIG WORK TOL [RUN_ARGS...]
#       `mpirun -np P` sharded with --backend cuda against one process's sharded run on the CPU
#       (other tiles, other summation order): every snapshot within TOL of it (max |difference|
#       over max |x|), the metrics' functional (where filled, in both alike) within TOL relative,
#       and the closed-form columns (mmd2_analytic, mmd2_iterate, energy_distance) where filled,
#       filled in both runs alike, within TOL relative too; manifest backend = cuda.
#   mpi_run.sh sharded_resume NWGF MPIEXEC P CONFIG WORK Q [RUN_ARGS...]
#       sharded: half the steps at P ranks, --resume at Q ranks: every snapshot of one process's
#       sharded run, its checkpoint and metrics.csv (but wall_seconds), byte for byte.
#   mpi_run.sh sharded_from_replicated NWGF MPIEXEC P CONFIG WORK
#       one process replicated to half the steps, --resume sharded at P ranks: for d > 3 (both
#       layouts run the row pass) every snapshot and the checkpoint of one replicated run.
#   mpi_run.sh sharded_as_replicated NWGF MPIEXEC P CONFIG WORK [THREADS [RUN_ARGS...]]
#       `mpirun -np P` sharded gives every snapshot and the checkpoint of one replicated process
#       byte for byte (the backward scheme: F enters only metrics.csv, which is not compared),
#       and with output.plots=true in RUN_ARGS its plots/step_*.png and flow.gif.
#   mpi_run.sh sharded_as_replicated_metrics NWGF MPIEXEC P CONFIG WORK [THREADS [RUN_ARGS...]]
#       the same, and metrics.csv (but wall_seconds) byte for byte too (runs whose F and
#       closed-form columns are summed in one process's order sharded as well).
#   mpi_run.sh resume NWGF MPIEXEC P CONFIG WORK Q [RUN_ARGS...]
#       half the steps at P ranks, --resume at Q ranks: the final snapshot of one process.
#   mpi_run.sh refuse NWGF MPIEXEC P CONFIG WORK PATTERN [--set ...]
#       exit 2 with exactly one line on stderr, `error: ...` matching PATTERN (grep -E); no
#       temporary file left.
#   mpi_run.sh numerical NWGF MPIEXEC P CONFIG WORK PATTERN [--set ...]
#       the same with exit 3 (a numerical failure, e.g. on one rank only: no hang).
#   mpi_run.sh mismatch NWGF MPIEXEC - CONFIG WORK
#       two ranks with different configs (MPMD): exit 2, one `error:` line.
#   mpi_run.sh killed NWGF MPIEXEC P CONFIG WORK STEPS [RUN_ARGS...]
#       rank P-1 killed with SIGKILL mid-run: the job ends (no hang) with a non-zero exit and the
#       launcher's message naming the signal; every snapshot written (positions, and an ift
#       run's weights_*.npy) is complete and bit for bit the one-process run's; `--resume` at P
#       ranks ends with the one-process run's snapshots, checkpoint.bin and metrics.csv (but
#       wall_seconds). RUN_ARGS go to every run (e.g. --set flow.memory='"sharded"').
#   mpi_run.sh oom NWGF MPIEXEC P CONFIG WORK RANK [RUN_ARGS...]
#       (the CUDA emulation build) the K-th device allocation of rank RANK fails
#       (NWGF_EMU_MALLOC_FAIL=RANK:K: a GPU out of memory on one rank), for K = 1, 2, ... until
#       a run allocates fewer than K times and succeeds: every failing run ends within 120 s (no
#       rank left waiting in a collective) with exit 1 and one `error:` line naming the
#       allocation, and no temporary file left.
# mpirun runs with --oversubscribe (more ranks than cores) and -q (no launcher banners).
set -euo pipefail
mode=$1 nwgf=$2 mpiexec=$3 np=$4 config=$5 work=$6
shift 6
mpirun=("$mpiexec" --oversubscribe -q)
rm -rf "$work"
mkdir -p "$work"

compare_snapshots() {  # DIR_A DIR_B: the same snapshot files, byte for byte
  local a=$1 b=$2 n=0
  for f in "$a"/snapshots/*.npy; do
    cmp "$f" "$b/snapshots/$(basename "$f")" || { echo "FAIL: $(basename "$f") differs"; exit 1; }
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || { echo "FAIL: no snapshots in $a"; exit 1; }
  [ "$(ls "$a"/snapshots/*.npy | wc -l)" = "$(ls "$b"/snapshots/*.npy | wc -l)" ] ||
    { echo "FAIL: snapshot counts differ"; exit 1; }
  echo "ok: $n snapshots identical"
}

# With output.plots=true among the run arguments: DIR_B's pictures are DIR_A's byte for byte
# (plots/step_*.png, plots/flow.gif, and plots/metrics.png unless NO_METRICS is given; at least
# one picture) and both have the same files under plots/.
compare_plots() {  # DIR_A DIR_B [NO_METRICS]
  local a=$1 b=$2 f n=0
  local names=("$a"/plots/step_*.png "$a"/plots/flow.gif)
  [ -n "${3:-}" ] || names+=("$a"/plots/metrics.png)
  for f in "${names[@]}"; do
    [ -e "$f" ] || continue
    cmp "$f" "$b/plots/$(basename "$f")" || { echo "FAIL: plots/$(basename "$f") differs"; exit 1; }
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || { echo "FAIL: no pictures in $a/plots"; exit 1; }
  [ "$(ls "$a"/plots)" = "$(ls "$b"/plots)" ] || { echo "FAIL: the plots/ files differ"; exit 1; }
  echo "ok: $n pictures identical"
}
wants_plots() { [[ " $* " == *" output.plots=true "* ]]; }

without_wall() {  # METRICS_CSV: its cells, the wall_seconds column left out
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_seconds") w = i }
           { out = ""; for (i = 1; i <= NF; i++) if (i != w) out = out $i ","; print out }' "$1"
}

procs_of() {  # PATTERN: the pids whose command line contains PATTERN (bash builtins only)
  local f args
  for f in /proc/[0-9]*/cmdline; do
    mapfile -d '' -t args < "$f" 2> /dev/null || continue
    [[ " ${args[*]} " == *"$1"* ]] && { f=${f#/proc/}; echo "${f%/cmdline}"; }
  done
  return 0
}

rank_of() {  # PID: its OMPI_COMM_WORLD_RANK, empty if none
  local vars v
  mapfile -d '' -t vars < "/proc/$1/environ" 2> /dev/null || return 0
  for v in "${vars[@]}"; do
    [[ $v == OMPI_COMM_WORLD_RANK=* ]] && echo "${v#OMPI_COMM_WORLD_RANK=}"
  done
  return 0
}

one_error_line() {  # STDERR_FILE RC [PATTERN [EXPECTED_RC]]
  local err=$1 rc=$2 pattern=${3:-.} expected=${4:-2}
  cat "$err"
  [ "$rc" -eq "$expected" ] || { echo "FAIL: exit $rc, expected $expected"; exit 1; }
  [ "$(wc -l < "$err")" -eq 1 ] || { echo "FAIL: stderr has $(wc -l < "$err") lines"; exit 1; }
  grep -q '^error: ' "$err" || { echo "FAIL: no 'error:' line"; exit 1; }
  grep -Eq "$pattern" "$err" || { echo "FAIL: the error does not match '$pattern'"; exit 1; }
  echo "ok: exit $expected, one error line"
}

# $work/ranks (np ranks) against $work/one (one process): the snapshots, checkpoint.bin and
# metrics.csv (to the last digit of %.17g, all but the wall_seconds column) byte for byte, no
# temporary file left, the manifest's ranks = np.
same_as_one_process() {
  compare_snapshots "$work/one" "$work/ranks"
  cmp "$work/one/checkpoint.bin" "$work/ranks/checkpoint.bin" ||
    { echo "FAIL: checkpoint.bin differs"; exit 1; }
  cmp <(without_wall "$work/one/metrics.csv") <(without_wall "$work/ranks/metrics.csv") ||
    { echo "FAIL: metrics.csv differs"; exit 1; }
  [ -z "$(find "$work/ranks" -name '*.tmp.*')" ] ||
    { echo "FAIL: temporary files left: $(find "$work/ranks" -name '*.tmp.*')"; exit 1; }
  grep -q "\"ranks\": *$np" "$work/ranks/manifest.json" ||
    { echo "FAIL: manifest.json has no ranks = $np"; exit 1; }
}

case $mode in
  same | same_metrics)
    threads=${1:-2}
    shift || true
    "$nwgf" --threads "$threads" run "$config" --out "$work/one" "$@" 2> "$work/one.err"
    "${mpirun[@]}" -np "$np" "$nwgf" --threads "$threads" run "$config" --out "$work/ranks" "$@" \
      2> "$work/ranks.err"
    same_as_one_process
    ! grep -q '"ranks"' "$work/one/manifest.json" ||
      { echo "FAIL: the one-process manifest.json says ranks"; exit 1; }
    # Rank 0 alone writes: one `done:` line.
    [ "$(grep -c '^done:' "$work/ranks.err")" -eq 1 ] || { cat "$work/ranks.err"; exit 1; }
    ;;
  sharded)
    threads=${1:-2}
    shift || true
    "$nwgf" --threads "$threads" run "$config" --out "$work/one" --set flow.memory='"sharded"' \
      "$@" 2> "$work/one.err"
    "${mpirun[@]}" -np "$np" "$nwgf" --threads "$threads" run "$config" --out "$work/ranks" \
      --set flow.memory='"sharded"' "$@" 2> "$work/ranks.err"
    same_as_one_process
    if wants_plots "$@"; then compare_plots "$work/one" "$work/ranks"; fi
    grep -q '"memory" *: *"sharded"' "$work/ranks/manifest.json" ||
      { echo "FAIL: manifest.json's config has no memory = sharded"; exit 1; }
    [ "$(grep -c '^done:' "$work/ranks.err")" -eq 1 ] || { cat "$work/ranks.err"; exit 1; }
    echo "ok: sharded at $np ranks = sharded in one process"
    ;;
  sharded_cuda_cpu)
    tol=$1
    shift
    "$nwgf" --threads 2 run "$config" --out "$work/one" --set flow.memory='"sharded"' "$@" \
      2> "$work/one.err"
    "${mpirun[@]}" -np "$np" "$nwgf" --threads 2 run "$config" --out "$work/ranks" \
      --set flow.memory='"sharded"' --backend cuda "$@" 2> "$work/ranks.err"
    grep -q '"backend": *"cuda"' "$work/ranks/manifest.json" ||
      { echo "FAIL: manifest.json has no backend = cuda"; exit 1; }
    python3 - "$work/one" "$work/ranks" "$tol" <<'PY' || exit 1
import csv, glob, os, sys
import numpy as np
one, ranks, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
files = sorted(glob.glob(os.path.join(one, "snapshots", "*.npy")))
assert files, "no snapshots"
worst = 0.0
for f in files:
    a, b = np.load(f), np.load(os.path.join(ranks, "snapshots", os.path.basename(f)))
    assert a.shape == b.shape, (f, a.shape, b.shape)
    worst = max(worst, float(np.abs(a.astype(float) - b).max() / np.abs(a).max()))
assert worst <= tol, f"snapshots differ by {worst:.3g} > {tol:g}"
rows = [list(csv.DictReader(open(os.path.join(d, "metrics.csv")))) for d in (one, ranks)]
assert len(rows[0]) == len(rows[1]) >= 2
fw = 0.0
for a, b in zip(*rows):
    # Empty in both where nothing estimates F (the variational scheme's step 0).
    if a["functional"] == "" and b["functional"] == "":
        continue
    assert a["functional"] != "" and b["functional"] != "", f"step {a['step']}: functional in one run only"
    x, y = float(a["functional"]), float(b["functional"])
    fw = max(fw, abs(x - y) / max(abs(x), 1e-300))
assert fw <= tol, f"functional differs by {fw:.3g} > {tol:g}"
cw, cells = 0.0, 0
for a, b in zip(*rows):
    for k in ("mmd2_analytic", "mmd2_iterate", "energy_distance"):
        if k not in a or (a[k] == "" and b[k] == ""):
            continue
        assert a[k] != "" and b[k] != "", f"step {a['step']}: {k} filled in one run only"
        x, y = float(a[k]), float(b[k])
        cw = max(cw, abs(x - y) / max(abs(x), 1e-300))
        cells += 1
assert cw <= tol, f"closed-form columns differ by {cw:.3g} > {tol:g}"
print(f"ok: {len(files)} snapshots within {worst:.3g}, functional within {fw:.3g}, "
      f"{cells} closed-form cells within {cw:.3g} (tol {tol:g})")
PY
    ;;
  sharded_reference)
    # The closed-form columns of a sharded run at np ranks against one replicated process's: the
    # same reference points, the same pairs summed in another order, so equal to rounding.
    "$nwgf" --threads 2 run "$config" --out "$work/one" 2> /dev/null
    "${mpirun[@]}" -np "$np" "$nwgf" --threads 2 run "$config" --out "$work/ranks" \
      --set flow.memory='"sharded"' 2> /dev/null
    python3 - "$work/one/metrics.csv" "$work/ranks/metrics.csv" <<'PY' || exit 1
import csv, sys
one, ranks = (list(csv.DictReader(open(f))) for f in sys.argv[1:3])
assert len(one) == len(ranks) >= 3, (len(one), len(ranks))
filled = 0
for a, b in zip(one, ranks):
    for k in ("mmd2_analytic", "mmd2_iterate", "functional"):
        if a[k] == "" and b[k] == "":
            continue
        assert a[k] != "" and b[k] != "", f"step {a['step']}: {k} filled in one run only"
        x, y = float(a[k]), float(b[k])
        assert abs(x - y) <= 1e-9 * max(abs(x), 1e-6), f"step {a['step']}: {k} {x} vs {y}"
        filled += k != "functional"
assert filled >= 4, f"only {filled} closed-form cells"
print(f"ok: {filled} closed-form cells, sharded = replicated to 1e-9")
PY
    ;;
  sharded_resume)
    q=$1
    shift
    steps=$(sed -n 's/^steps = \([0-9]*\)/\1/p' "$config")
    half=$((steps / 2))
    sharded=(--set flow.memory='"sharded"')
    "$nwgf" --threads 2 run "$config" --out "$work/one" "${sharded[@]}" "$@" 2> /dev/null
    "${mpirun[@]}" -np "$np" "$nwgf" --threads 2 run "$config" --out "$work/ranks" \
      "${sharded[@]}" --set "flow.steps=$half" "$@" 2> /dev/null
    "${mpirun[@]}" -np "$q" "$nwgf" --threads 2 run "$config" --out "$work/ranks" --resume \
      "${sharded[@]}" "$@" 2> /dev/null
    # Every snapshot of the one-process run (the resumed run has the half run's last step too).
    for f in "$work"/one/snapshots/*.npy; do
      cmp "$f" "$work/ranks/snapshots/$(basename "$f")" ||
        { echo "FAIL: $(basename "$f") differs"; exit 1; }
    done
    cmp "$work/one/checkpoint.bin" "$work/ranks/checkpoint.bin" ||
      { echo "FAIL: checkpoint.bin differs"; exit 1; }
    cmp <(without_wall "$work/one/metrics.csv") <(without_wall "$work/ranks/metrics.csv") ||
      { echo "FAIL: metrics.csv differs"; exit 1; }
    echo "ok: sharded, $np ranks to step $half, $q ranks to step $steps: identical"
    ;;
  sharded_from_replicated)
    steps=$(sed -n 's/^steps = \([0-9]*\)/\1/p' "$config")
    "$nwgf" --threads 2 run "$config" --out "$work/one" 2> /dev/null
    "$nwgf" --threads 2 run "$config" --out "$work/ranks" --set "flow.steps=$((steps / 2))" \
      2> /dev/null
    "${mpirun[@]}" -np "$np" "$nwgf" --threads 2 run "$config" --out "$work/ranks" --resume \
      --set flow.memory='"sharded"' 2> /dev/null
    compare_snapshots "$work/one" "$work/ranks"
    cmp "$work/one/checkpoint.bin" "$work/ranks/checkpoint.bin" ||
      { echo "FAIL: checkpoint.bin differs"; exit 1; }
    ;;
  sharded_as_replicated | sharded_as_replicated_metrics)
    threads=${1:-2}
    shift || true
    "$nwgf" --threads "$threads" run "$config" --out "$work/one" "$@" 2> /dev/null
    "${mpirun[@]}" -np "$np" "$nwgf" --threads "$threads" run "$config" --out "$work/ranks" \
      --set flow.memory='"sharded"' "$@" 2> /dev/null
    compare_snapshots "$work/one" "$work/ranks"
    cmp "$work/one/checkpoint.bin" "$work/ranks/checkpoint.bin" ||
      { echo "FAIL: checkpoint.bin differs"; exit 1; }
    if [ "$mode" = sharded_as_replicated_metrics ]; then
      cmp <(without_wall "$work/one/metrics.csv") <(without_wall "$work/ranks/metrics.csv") ||
        { echo "FAIL: metrics.csv differs"; exit 1; }
      echo "ok: metrics.csv identical (but wall_seconds)"
    fi
    # metrics.csv may differ in the last bits (not compared), so metrics.png may too.
    if wants_plots "$@"; then compare_plots "$work/one" "$work/ranks" no_metrics; fi
    echo "ok: sharded at $np ranks = replicated in one process (snapshots, checkpoint)"
    ;;
  resume)
    q=$1
    shift
    steps=$(sed -n 's/^steps = \([0-9]*\)/\1/p' "$config")
    half=$((steps / 2))
    "$nwgf" --threads 2 run "$config" --out "$work/one" "$@" 2> /dev/null
    "${mpirun[@]}" -np "$np" "$nwgf" --threads 2 run "$config" --out "$work/ranks" \
      --set "flow.steps=$half" "$@" 2> /dev/null
    "${mpirun[@]}" -np "$q" "$nwgf" --threads 2 run "$config" --out "$work/ranks" --resume "$@" \
      2> /dev/null
    last=$(printf 'step_%06d.npy' "$steps")
    cmp "$work/one/snapshots/$last" "$work/ranks/snapshots/$last" ||
      { echo "FAIL: the resumed run's last snapshot differs"; exit 1; }
    echo "ok: $np ranks to step $half, $q ranks to step $steps: identical"
    ;;
  refuse | numerical)
    pattern=$1
    shift
    rc=0
    "${mpirun[@]}" -np "$np" "$nwgf" run "$config" --out "$work/out" "$@" 2> "$work/err" || rc=$?
    one_error_line "$work/err" "$rc" "$pattern" "$([ "$mode" = refuse ] && echo 2 || echo 3)"
    [ -z "$(find "$work" -name '*.tmp.*')" ] ||
      { echo "FAIL: temporary files left: $(find "$work" -name '*.tmp.*')"; exit 1; }
    ;;
  oom)
    rank=$1
    shift
    k=1
    while :; do
      rc=0
      rm -rf "$work/out"
      NWGF_EMU_MALLOC_FAIL="$rank:$k" timeout 120 "${mpirun[@]}" -np "$np" "$nwgf" run "$config" \
        --out "$work/out" "$@" > /dev/null 2> "$work/err" || rc=$?
      [ "$rc" -ne 124 ] || { echo "FAIL: allocation $k of rank $rank failing: a hang"; exit 1; }
      [ "$rc" -ne 0 ] || break
      echo "allocation $k of rank $rank failing:"
      # (The emulator's own report of the failed call, from rank RANK, is not the CLI's.)
      grep -v '^nwgf CUDA emulator: ' "$work/err" > "$work/err.cli" || true
      one_error_line "$work/err.cli" "$rc" "out of memory|MemoryAllocation" 1
      [ -z "$(find "$work" -name '*.tmp.*')" ] ||
        { echo "FAIL: temporary files left: $(find "$work" -name '*.tmp.*')"; exit 1; }
      k=$((k + 1))
      [ "$k" -le 400 ] || { echo "FAIL: still failing at allocation $k"; exit 1; }
    done
    [ "$k" -gt 3 ] || { echo "FAIL: only $((k - 1)) allocations failed (the variable had no effect?)"; exit 1; }
    echo "ok: each of the $((k - 1)) device allocations of rank $rank failing ends every rank cleanly"
    ;;
  mismatch)
    rc=0
    "${mpirun[@]}" -np 1 "$nwgf" run "$config" --out "$work/out" : \
      -np 1 "$nwgf" run "$config" --out "$work/out" --set flow.tau=0.5 2> "$work/err" || rc=$?
    one_error_line "$work/err" "$rc" "differs between ranks"
    ;;
  killed)
    steps=$1
    shift
    "$nwgf" --threads 1 run "$config" --out "$work/one" --set "flow.steps=$steps" \
      --set output.every=1 "$@" 2> /dev/null
    # Without -q: the launcher's own report of the dead rank is the error the user sees.
    rc=0
    timeout 300 "$mpiexec" --oversubscribe -np "$np" "$nwgf" --threads 1 run "$config" \
      --out "$work/ranks" --set "flow.steps=$steps" --set output.every=1 "$@" \
      > "$work/ranks.out" 2> "$work/ranks.err" &
    job=$!
    # Find the last rank's process as soon as it starts, then let the run write a few steps.
    victim=""
    for _ in $(seq 1 1200); do
      for p in $(procs_of "--out $work/ranks --set"); do
        [ "$(rank_of "$p")" = "$((np - 1))" ] && victim=$p
      done
      [ -n "$victim" ] && break
      sleep 0.05
    done
    [ -n "$victim" ] || { echo "FAIL: no rank $((np - 1)) process found"; kill "$job"; exit 1; }
    for _ in $(seq 1 1200); do
      [ -e "$work/ranks/snapshots/step_000005.npy" ] && break
      sleep 0.02
    done
    kill -9 "$victim"
    wait "$job" || rc=$?
    cat "$work/ranks.err"
    [ "$rc" -ne 0 ] || { echo "FAIL: the job exited 0 after a rank was killed"; exit 1; }
    [ "$rc" -ne 124 ] || { echo "FAIL: the job hung after a rank was killed"; exit 1; }
    grep -q "signal 9" "$work/ranks.err" || { echo "FAIL: no message names the killed rank"; exit 1; }
    [ -z "$(procs_of "--out $work/ranks --set")" ] || { echo "FAIL: ranks left running"; exit 1; }
    last=$(printf 'step_%06d.npy' "$steps")
    [ ! -e "$work/ranks/snapshots/$last" ] || { echo "FAIL: the run ended before the kill"; exit 1; }
    n=0
    for f in "$work"/ranks/snapshots/*.npy; do
      cmp "$f" "$work/one/snapshots/$(basename "$f")" ||
        { echo "FAIL: $(basename "$f") after the kill is not the one-process snapshot"; exit 1; }
      n=$((n + 1))
    done
    echo "ok: killed at rank $((np - 1)) after $n snapshots (exit $rc); each complete and identical"
    "${mpirun[@]}" -np "$np" "$nwgf" --threads 1 run "$config" --out "$work/ranks" \
      --set "flow.steps=$steps" --set output.every=1 --resume "$@" 2> "$work/resume.err" ||
      { cat "$work/resume.err"; echo "FAIL: --resume after the kill"; exit 1; }
    same_as_one_process  # after --resume
    ;;
  *) echo "unknown mode $mode"; exit 1 ;;
esac
