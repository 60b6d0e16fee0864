#!/usr/bin/env bash
# Run all Braid benchmarks and append a dated section to bench/RESULTS.md.
#
#   bench/run.sh [-t SECONDS] [-r REPS] [--tb-reps N] [--tb-seconds N] [--file-mb N]
#                [--only loopback|bonding|telemetry|udp|aggregation|ttfb|memory|connrate|failover]
#                [--bin-dir DIR] [--no-record] [-h]
#
# Parts (see bench/README.md):
#   1 loopback  relay throughput on loopback: direct, braid (direct mode, HTTP,
#               --no-mptcp, via concentrator), microsocks, dante, shadowsocks [bench/loopback.sh]
#   2 bonding   bonded goodput on the namespace testbed (root)     [bench/bonding.sh]
#   3 telemetry CPU of once-a-second subflow sampling, 5,000 conns [bench/telemetry_cost.sh]
#   4 udp       SOCKS5 UDP, 5% random loss per path: carriers (root) [bench/udp_loss.sh]
#   aggregation bonded goodput vs the sum of emulated path rates (root) [bench/aggregation.sh]
#   ttfb        time to first byte over a 40 ms-RTT path, braid vs peers (root) [bench/ttfb.sh]
#   memory      memory per idle proxied connection, 1,000 and 10,000, braid vs peers [bench/memory.sh]
#   connrate    new proxied connections per second on loopback, braid vs peers [bench/connrate.sh]
#   failover    longest stall when Wi-Fi goes down / silent, 4 constant-rate streams (root) [bench/failover.sh]
#
# Benchmarks report; they do not judge. A slow result never fails the run.
# Exit status: 0 when every part ran or was skipped (reason printed and
# recorded), 1 when a part could not run because of an error (its stderr
# tail is recorded), 2 on bad usage.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RESULTS="$HERE/RESULTS.md"
CMDLINE="bench/run.sh"
for a in "$@"; do CMDLINE+=" $(printf '%q' "$a")"; done

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

SECONDS_PER=5 REPS=3 TB_REPS=3 TB_SECONDS=8 FILE_MB=32 ONLY="" RECORD=1
BIN_DIR=${BENCH_BIN_DIR:-$REPO/build/bin}
while (($#)); do
    case "$1" in
        -t | --seconds) SECONDS_PER="${2:?}"; shift 2 ;;
        -r | --reps) REPS="${2:?}"; shift 2 ;;
        --tb-reps) TB_REPS="${2:?}"; shift 2 ;;
        --tb-seconds) TB_SECONDS="${2:?}"; shift 2 ;;
        --file-mb) FILE_MB="${2:?}"; shift 2 ;;
        --only) ONLY="${2:?}"; shift 2 ;;
        --bin-dir) BIN_DIR="${2:?}"; shift 2 ;;
        --no-record) RECORD=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$ONLY" in "" | loopback | bonding | telemetry | udp | aggregation | ttfb | memory | connrate | failover) ;; *) echo "--only loopback|bonding|telemetry|udp|aggregation|ttfb|memory|connrate|failover" >&2; exit 2 ;; esac
for v in SECONDS_PER REPS TB_REPS TB_SECONDS FILE_MB; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "$v must be a number" >&2; exit 2; }
done
((FILE_MB >= 1 && FILE_MB <= 200)) || { echo "--file-mb must be 1..200" >&2; exit 2; }
BIN_DIR=$(cd "$BIN_DIR" 2>/dev/null && pwd || echo "$BIN_DIR")

WORK=$(mktemp -d /tmp/braid-bench-run.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT

# ------------------------------------------------------------------ header
cpu_model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
[[ -n "$cpu_model" ]] || cpu_model=$(uname -m)
commit=$(git -c safe.directory="$REPO" -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "unknown (not a git checkout)")
dirty=""
[[ -n "$(git -c safe.directory="$REPO" -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]] && dirty=" (working tree has uncommitted changes)"
ver() { "$@" 2>&1 | head -1 | tr -d '\r'; }
binver="missing"
[[ -x "$BIN_DIR/braid" ]] && binver="$("$BIN_DIR/braid" version 2>&1 | head -1), built $(date -r "$BIN_DIR/braid" '+%Y-%m-%d %H:%M')"
{
    echo "## $(date '+%Y-%m-%d %H:%M:%S %Z')"
    echo
    echo "- commit: \`$commit\`$dirty"
    echo "- machine: kernel $(uname -r), $(nproc) CPU(s), $cpu_model; load average at start $(cut -d' ' -f1-3 /proc/loadavg); user $(id -un)"
    echo "- command: \`$CMDLINE\`"
    echo "- binaries: $BIN_DIR ($binver)"
    echo "- tools: $(ver iperf3 --version | awk '{print "iperf3", $2}'), $(ver curl --version | awk '{print "curl", $2}')," \
         "$(ver danted -v | awk '{print "dante", $2}' || true), microsocks $(dpkg-query -W -f '${Version}' microsocks 2>/dev/null || echo '?')," \
         "proxychains4 $(dpkg-query -W -f '${Version}' proxychains4 2>/dev/null || echo '?')," \
         "shadowsocks-libev $(dpkg-query -W -f '${Version}' shadowsocks-libev 2>/dev/null || echo '?')"
    echo
} >"$WORK/header.md"
cat "$WORK/header.md"

# ------------------------------------------------------------------ parts
FAILED=0
run_part() {  # NAME SCRIPT TIMEOUT TITLE
    local name="$1" script="$2" to="$3" title="$4" rc reason
    printf '[%s] run.sh: part %s (bench/%s, at most %s s)\n' "$(date +%H:%M:%S)" "$name" "$script" "$to" >&2
    BENCH_BIN_DIR="$BIN_DIR" BENCH_SECONDS="$SECONDS_PER" BENCH_REPS="$REPS" \
        BENCH_TB_REPS="$TB_REPS" BENCH_TB_SECONDS="$TB_SECONDS" BENCH_FILE_MB="$FILE_MB" \
        timeout -k 15 "$to" bash "$HERE/$script" 2>&1 1>"$WORK/$name.md" | tee "$WORK/$name.err" >&2
    rc=${PIPESTATUS[0]}
    if ((rc == 0)); then
        cat "$WORK/$name.md"
    elif ((rc == 77)); then
        reason=$(grep -m1 '^SKIP:' "$WORK/$name.err" | sed 's/^SKIP: *//')
        {
            echo "### $title"
            echo
            echo "Skipped: ${reason:-no reason given}"
            echo
        } | tee "$WORK/$name.md"
    else
        FAILED=1
        {
            echo "### $title"
            echo
            if ((rc == 124)); then
                echo "**Did not finish within $to s (killed).** Last lines of its output:"
            else
                echo "**Could not run (exit status $rc).** Last lines of its output:"
            fi
            echo
            echo '```'
            grep -v '^$' "$WORK/$name.err" | tail -n 15
            echo '```'
            echo
            # Whatever it printed before failing is still worth keeping.
            cat "$WORK/$name.md" 2>/dev/null
        } >"$WORK/$name.fail.md"
        mv "$WORK/$name.fail.md" "$WORK/$name.md"
        cat "$WORK/$name.md"
    fi
}

[[ -z "$ONLY" || "$ONLY" == loopback ]] &&
    run_part loopback loopback.sh 600 "1. Loopback relay throughput (one TCP stream)"
[[ -z "$ONLY" || "$ONLY" == bonding ]] &&
    run_part bonding bonding.sh 420 "2. Bonded goodput on the namespace testbed"
[[ -z "$ONLY" || "$ONLY" == telemetry ]] &&
    run_part telemetry telemetry_cost.sh 300 "3. Telemetry sampling cost"
[[ -z "$ONLY" || "$ONLY" == udp ]] &&
    run_part udp udp_loss.sh 420 "4. UDP under random loss"
[[ -z "$ONLY" || "$ONLY" == aggregation ]] &&
    run_part aggregation aggregation.sh 600 "Aggregation: bonded goodput vs the sum of the path rates"
[[ -z "$ONLY" || "$ONLY" == ttfb ]] &&
    run_part ttfb ttfb.sh 300 "Time to first byte over a 40 ms-RTT path"
[[ -z "$ONLY" || "$ONLY" == memory ]] &&
    run_part memory memory.sh 420 "Memory per idle proxied connection"
[[ -z "$ONLY" || "$ONLY" == connrate ]] &&
    run_part connrate connrate.sh 360 "New proxied connections per second (loopback)"
[[ -z "$ONLY" || "$ONLY" == failover ]] &&
    run_part failover failover.sh 420 "Failover stall (namespace testbed)"

# ------------------------------------------------------------------ record
if ((RECORD)); then
    (
        flock -w 30 9 || echo "run.sh: could not lock $RESULTS; appending anyway" >&2
        if [[ ! -s "$RESULTS" ]]; then
            printf '# Braid benchmark results\n\nAppended by `bench/run.sh`, newest last. See bench/README.md for what each table measures.\n\n' >"$RESULTS"
        fi
        {
            cat "$WORK/header.md"
            for p in loopback bonding telemetry udp aggregation ttfb memory connrate failover; do
                [[ -s "$WORK/$p.md" ]] && cat "$WORK/$p.md"
            done
        } >>"$RESULTS"
    ) 9>>/tmp/braid-bench-results.lock
    printf '[%s] run.sh: appended to %s\n' "$(date +%H:%M:%S)" "$RESULTS" >&2
fi
exit "$FAILED"
