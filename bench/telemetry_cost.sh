#!/usr/bin/env bash
# Part 3 of bench/run.sh: the cost of sampling every live connection's MPTCP
# subflows once a second, with 5,000 idle proxied connections (loopback).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BENCH_BIN_DIR:-$here/../build/bin}
[[ -x "$bin/braid" && -x "$bin/braid-concentrator" ]] || { echo "SKIP: braid binaries not found in $bin" >&2; exit 77; }
echo "### 3. Telemetry sampling cost (5,000 idle connections)"
echo
echo "Command: \`/usr/bin/python3 bench/telemetry_cost.py $bin 5000 10\`"
echo
/usr/bin/python3 "$here/telemetry_cost.py" "$bin" "${BENCH_CONNECTIONS:-5000}" 10
echo
