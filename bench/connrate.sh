#!/usr/bin/env bash
# Benchmark: new proxied connections per second on loopback
# (bench/connrate.py, client and server in bench/connrate.c built with cc):
# direct, braid direct mode, braid → concentrator, microsocks, dante,
# shadowsocks. Any user.
# stdout: a markdown section. stderr: progress. Exit: 0 done, 77 skipped
# ("SKIP: ..." on stderr), 1 error.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${BENCH_BIN_DIR:-$HERE/../build/bin}
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=$(command -v python3) || { echo "SKIP: python3 not found" >&2; exit 77; }
exec "$PY" "$HERE/connrate.py" "$BIN"
