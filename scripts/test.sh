#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite:
#   1. every ctest test (labels unit, netns, gui) in a normal build;
#   2. every fuzz target for a short while (scripts/fuzz.sh; FUZZ_SECONDS,
#      default 15 s each);
#   3. the unit and netns tests again in an AddressSanitizer + UBSan build
#      (build-asan). Every braid process writes its sanitizer reports to a
#      file, so a report from a daemon running in the background of a netns
#      test fails the run as surely as one from a unit test.
# Tests that cannot run here (not root, no MPTCP) are reported as skipped
# with a reason by ctest, never as passed.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
stage() { echo "== $* ($(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s so far) =="; }

scripts/setup.sh
stage "ctest (all labels)"
ctest --test-dir build --output-on-failure --timeout 600

stage "fuzzing, ${FUZZ_SECONDS:-15} s per target"
scripts/fuzz.sh

stage "unit and netns tests under ASan/UBSan"
BUILD_DIR=build-asan CMAKE_ARGS="-DBRAID_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DBRAID_GUI=OFF" scripts/setup.sh
reports=$(mktemp -d /tmp/braid-sanitizers.XXXXXX)
export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
rc=0
ctest --test-dir build-asan --output-on-failure -L 'unit|netns' || rc=$?
if compgen -G "$reports/*" >/dev/null; then
  for f in "$reports"/*; do
    echo "--- sanitizer report $f"
    cat "$f"
  done
  rc=1
fi
rm -rf "$reports"
stage "done"
exit "$rc"
