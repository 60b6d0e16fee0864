#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite:
#   1. every ctest test (labels unit, netns, gui) in a normal build;
#   2. the unit tests again under AddressSanitizer + UBSan.
# Tests that cannot run here (not root, no MPTCP) are reported as skipped
# with a reason by ctest, never as passed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "== ctest (all labels) =="
ctest --test-dir build --output-on-failure --timeout 600

echo "== unit tests under ASan/UBSan =="
BUILD_DIR=build-asan CMAKE_ARGS="-DBRAID_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DBRAID_GUI=OFF" scripts/setup.sh
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -L unit
