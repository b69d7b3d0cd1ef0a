#!/usr/bin/env bash
# Summarises a tools/ci/time_tu.sh log: the N (default 30) costliest steps by CPU seconds and the
# totals per kind (cc: compiles, link: links). usage: tools/ci/tu_report.sh LOG [N]
set -euo pipefail
log=$1; n=${2:-30}
echo "top $n steps by CPU seconds (cpu wall kind output):"
sort -k1,1 -g -r "$log" | head -n "$n"
awk '{c[$3]+=$1; w[$3]+=$2; k[$3]++; t+=$1} END {for (x in c) printf "%-5s %4d steps %8.1f CPU s %8.1f wall s (sum)\n", x, k[x], c[x], w[x]; printf "total %8.1f CPU s\n", t}' "$log"
