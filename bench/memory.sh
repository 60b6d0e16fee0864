#!/usr/bin/env bash
# Benchmark: memory per idle proxied connection on loopback (bench/memory.py):
# braid direct mode, braid → concentrator (each process), microsocks, dante,
# shadowsocks. Any user; the 10,000 level needs an open-file limit of about
# 21,000 per process (raised when allowed; otherwise the level shrinks and
# the section says so).
# stdout: a markdown section. stderr: progress. Exit: 0 done, 77 skipped
# ("SKIP: ..." on stderr), 1 error.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${BENCH_BIN_DIR:-$HERE/../build/bin}
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=$(command -v python3) || { echo "SKIP: python3 not found" >&2; exit 77; }
exec "$PY" "$HERE/memory.py" "$BIN"
