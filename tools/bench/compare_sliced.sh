#!/usr/bin/env bash
# nwgf's sliced Riesz value + gradient against the PyTorch peer on the same work, in one run.
# Usage: tools/bench/compare_sliced.sh [NWGF_BINARY] [--n N] [--d D] [--directions S]
#        [--dtype f32|f64] [--repeats K] [--threads T]
# Prints both JSON lines and one summary line with the ratio torch_seconds / nwgf_seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
NWGF=build/nwgf
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then NWGF=$1; shift; fi
n=1000000 d=2 s=128 dtype=f32 repeats=3 threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n=$2 ;; --d) d=$2 ;; --directions) s=$2 ;; --dtype) dtype=$2 ;;
    --repeats) repeats=$2 ;; --threads) threads=$2 ;;
    *) echo "error: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
ours=$("$NWGF" --threads "$threads" bench sliced --backend cpu --n "$n" --d "$d" \
  --directions "$s" --dtype "$dtype" --repeats "$repeats")
peer=$(python3 tools/bench/peers/sliced_torch.py --threads "$threads" --n "$n" --d "$d" \
  --directions "$s" --dtype "$dtype" --repeats "$repeats")
echo "$ours"
echo "$peer"
python3 - "$ours" "$peer" <<'PY'
import json, sys
ours, peer = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"compare": "sliced", "n": ours["n"], "d": ours["d"],
                  "directions": ours["directions"], "dtype": ours["dtype"],
                  "threads": ours["threads"], "nwgf_seconds": ours["seconds"],
                  "torch_seconds": peer["seconds"],
                  "speedup": peer["seconds"] / ours["seconds"]}))
PY
