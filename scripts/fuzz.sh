#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang, ASan and UBSan, and
# runs each against its seed corpus for a while.
#   scripts/fuzz.sh                       every target, FUZZ_SECONDS (15) each
#   scripts/fuzz.sh wire http_request     only these targets
#   FUZZ_SECONDS=1800 scripts/fuzz.sh     a longer run (tests/fuzz/README.md)
# Environment: FUZZ_BUILD_DIR (build-fuzz), FUZZ_SECONDS (15), FUZZ_JOBS
# (targets run at once; default: the number of CPUs).
# Inputs that found new coverage go to $FUZZ_BUILD_DIR/corpus/<target>; the
# seeds in tests/fuzz/corpus/ are only read. A crash, a failed check, a leak
# or a slow input fails the script and leaves the input in
# $FUZZ_BUILD_DIR/findings/ (replay it: $FUZZ_BUILD_DIR/bin/fuzz_<target> FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-15}
jobs=${FUZZ_JOBS:-$(nproc)}
cxx=${FUZZ_CXX:-clang++}
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

all=$(sed -n 's/^  \([a-z0-9_]*\) *#.*/\1/p' tests/fuzz/CMakeLists.txt)
targets=("$@")
((${#targets[@]})) || read -r -a targets <<<"$(echo $all)"
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$all" || { echo "fuzz: no target '$t' (targets: $(echo $all))" >&2; exit 2; }
done

cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBRAID_FUZZ=ON -DBRAID_TESTS=OFF -DBRAID_GUI=OFF >/dev/null
ninja -C "$build" "${targets[@]/#/fuzz_}"

mkdir -p "$build/findings" "$build/logs"
run_one() {
  local t=$1 work="$build/corpus/$1"
  mkdir -p "$work"
  # -timeout: one input taking over 10 s is a finding (a parser must never hang).
  if "$build/bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/findings/$t-" "$work" "tests/fuzz/corpus/$t" >"$build/logs/$t.log" 2>&1; then
    echo "fuzz: $t ok: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$build/logs/$t.log" | grep -o '[0-9]*$') runs, corpus $(ls "$work" | wc -l) files"
  else
    echo "fuzz: $t FAILED (log: $build/logs/$t.log)"
    grep -m1 -A12 -E '^==[0-9]+==|fuzz check failed|runtime error' "$build/logs/$t.log" | sed 's/^/  /' || true
    return 1
  fi
}

echo "== fuzzing ${#targets[@]} targets, ${seconds} s each, $jobs at a time =="
failed=0 running=0
pids=() names=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!) names+=("$t")
  if ((++running >= jobs)); then
    wait -n || failed=1
    ((running--)) || true
  fi
done
wait_all=0
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || wait_all=1; done
((failed || wait_all)) && { echo "fuzz: findings in $build/findings/" >&2; exit 1; }
echo "fuzz: no findings"
