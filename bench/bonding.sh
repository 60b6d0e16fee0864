#!/usr/bin/env bash
# Benchmark 2: bonded goodput on the network-namespace testbed (root only).
#
# Reuses tests/integration/testbed.sh (sourced, not modified): namespaces
# cli / conc / net, two shaped paths wifi0 (TB_WIFI_RATE, default 40mbit) and
# cell0 (TB_CELL_RATE, default 20mbit), MPTCP endpoints for both in cli, an
# HTTP server in net at 10.31.9.2 serving big.bin (TB_BIG_MB MiB) with a
# known sha256.
#
# Measures, interleaved over BENCH_TB_REPS rounds:
#   braid   curl --socks5-hostname via braid in cli → braid-concentrator in
#           conc (10.31.1.1:7300) → HTTP server in net; goodput = bytes / total time
#   mptcp   kernel MPTCP without braid: mptcpize iperf3 -R, cli ↔ conc
#   wifi    plain TCP iperf3 -R bound to wifi0's address (single path)
#   cell    plain TCP iperf3 -R bound to cell0's address (single path)
#   curl    curl without any proxy, plain TCP (routes via wifi0): HTTP-server sanity check
#
# stdout: a markdown section. stderr: progress.
# Exit: 0 done, 77 skipped (reason on stderr as "SKIP: ..."), 1 setup error.
#
# Environment:
#   BENCH_BIN_DIR    directory with braid and braid-concentrator (default <repo>/build/bin)
#   BENCH_TB_REPS    rounds (default 3)
#   BENCH_TB_SECONDS iperf3 -t for the kernel references (default 8)
#   BENCH_FILE_MB    size of the downloaded file in MiB (default 32; passed as TB_BIG_MB)
#   BENCH_TESTBED    path of testbed.sh (default <repo>/tests/integration/testbed.sh)
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BIN=${BENCH_BIN_DIR:-$REPO/build/bin}
REPS=${BENCH_TB_REPS:-3}
TBT=${BENCH_TB_SECONDS:-8}
LIB=(python3 "$HERE/benchlib.py")
TESTBED=${BENCH_TESTBED:-$REPO/tests/integration/testbed.sh}
CONC_PORT=7300
SOCKS_PORT=1080

log() { printf '[%s] bonding: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }

[[ "$REPS" =~ ^[0-9]+$ && "$REPS" -ge 1 && "$REPS" -le 10 ]] || { echo "BENCH_TB_REPS must be 1..10" >&2; exit 1; }
[[ "$TBT" =~ ^[0-9]+$ && "$TBT" -ge 2 && "$TBT" -le 60 ]] || { echo "BENCH_TB_SECONDS must be 2..60" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || skip "the namespace testbed needs root (network namespaces, tc, MPTCP endpoints)"
[[ -f "$TESTBED" ]] || skip "testbed library $TESTBED not found"

HAVE_BRAID=1 HAVE_IPERF=1 HAVE_MPTCPIZE=1
SKIPPED=()
if [[ ! -x "$BIN/braid" || ! -x "$BIN/braid-concentrator" ]]; then
    HAVE_BRAID=0
    SKIPPED+=("braid row: $BIN/braid or $BIN/braid-concentrator missing")
fi
command -v iperf3 >/dev/null 2>&1 || { HAVE_IPERF=0; SKIPPED+=("kernel MPTCP and single-path rows: iperf3 not installed"); }
command -v mptcpize >/dev/null 2>&1 || { HAVE_MPTCPIZE=0; SKIPPED+=("kernel MPTCP row: mptcpize (package mptcpd) not installed"); }
((HAVE_BRAID || HAVE_IPERF)) || skip "nothing to measure: neither braid nor iperf3 is available"

export TB_BIG_MB=${BENCH_FILE_MB:-32}
# shellcheck disable=SC1090,SC1091  # the testbed library; path decided at run time
source "$TESTBED"
for f in testbed_up testbed_down in_cli in_conc tb_spawn tb_stop tb_tx_bytes tb_file_sha tb_url tb_rate_bits; do
    declare -F "$f" >/dev/null || skip "testbed library $TESTBED lacks function $f"
done

log "building the testbed (file ${TB_BIG_MB} MiB)"
testbed_up   # exits 77 itself when impossible; installs testbed_down as the EXIT trap
TSV="$TB_TMP/bonding.tsv"
: >"$TSV"

WIFI_BITS=$(tb_rate_bits "$TB_WIFI_RATE" 2>/dev/null || echo 0)
CELL_BITS=$(tb_rate_bits "$TB_CELL_RATE" 2>/dev/null || echo 0)
SHAPED_MBPS=$(python3 -c "print(($WIFI_BITS + $CELL_BITS) / 1e6)")
printf 'kind=shaped\tmbps=%s\n' "$SHAPED_MBPS" >>"$TSV"

# ------------------------------------------------------------------ helpers
# bwait NS PORT PID [SECS]: 0 when something listens on PORT in NS; 1 on timeout / death.
bwait() {
    local ns="$1" port="$2" pid="$3" secs="${4:-10}" i
    for ((i = 0; i < secs * 20; i++)); do
        [[ -n "$(ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null)" ||
           -n "$(ip netns exec "$ns" ss -HlMn "sport = :$port" 2>/dev/null)" ]] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

mb() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1e6:.1f}')" "$1"; }

run_ok() {  # ID REP MBPS NOTE
    printf 'kind=run\tid=%s\trep=%s\tok=1\tmbps=%s\tnote=%s\n' "$1" "$2" "$3" "$4" >>"$TSV"
    log "$(printf '%-6s rep %s: %s Mbit/s  %s' "$1" "$2" "$3" "$4")"
}
run_fail() {  # ID REP ERR
    printf 'kind=run\tid=%s\trep=%s\tok=0\terr=%s\n' "$1" "$2" "$(printf '%s' "$3" | tr '\n\t' '  ' | cut -c1-240)" >>"$TSV"
    log "$1 rep $2: FAILED: $3"
}

split_note() {  # W0_BEFORE C0_BEFORE -> "wifi X MB / cell Y MB" sent by conc during the run
    local w c
    w=$(($(tb_tx_bytes "$TB_CONC" w0) - $1))
    c=$(($(tb_tx_bytes "$TB_CONC" c0) - $2))
    local tot=$((w + c))
    ((tot > 0)) || tot=1
    echo "conc sent $(mb "$w") MB on wifi / $(mb "$c") MB on cell ($((100 * w / tot))% / $((100 * c / tot))%)"
}

# ------------------------------------------------------------------ configurations
if ((HAVE_BRAID)); then
    printf 'kind=config\tid=braid\tlabel=%s\ttarget_shaped=0.90\ttarget_kernel=0.97\n' \
        "(a) braid: curl → SOCKS5 (cli) → concentrator (conc) → HTTP (net), ${TB_BIG_MB} MiB" >>"$TSV"
fi
if ((HAVE_IPERF && HAVE_MPTCPIZE)); then
    printf 'kind=config\tid=mptcp\tlabel=%s\n' "(b) kernel MPTCP, no braid: mptcpize iperf3 -R -t $TBT, cli ↔ conc" >>"$TSV"
fi
if ((HAVE_IPERF)); then
    printf 'kind=config\tid=wifi\tlabel=%s\n' "(c) single path wifi0 ($TB_WIFI_RATE): plain TCP iperf3 -R -t $TBT" >>"$TSV"
    printf 'kind=config\tid=cell\tlabel=%s\n' "(c) single path cell0 ($TB_CELL_RATE): plain TCP iperf3 -R -t $TBT" >>"$TSV"
fi
printf 'kind=config\tid=curl\tlabel=%s\n' "curl without proxy, plain TCP via wifi0 (server sanity check)" >>"$TSV"

# ------------------------------------------------------------------ daemons
if ((HAVE_BRAID)); then
    # No control API, no user config: the benchmark measures the data path only.
    echo '{"control": null}' >"$TB_TMP/braid.json"
    # TLS with a pinned key, as users run it: init prints the access key; the
    # testbed's "internet" (10.31.9.2) is private, so the concentrator must be
    # allowed to reach it.
    ACCESS_KEY=$("$BIN/braid-concentrator" init --dir "$TB_TMP/conc" --host "$TB_CONC_WIFI_IP" --port "$CONC_PORT" \
        2>"$TB_TMP/conc-init.log")
    tb_spawn "$TB_CONC" concentrator "$BIN/braid-concentrator" -c "$TB_TMP/conc/concentrator.json" \
        --listen "$TB_CONC_WIFI_IP:$CONC_PORT" --allow "$TB_NET_IP/32" --log-level warn
    PID_CONC=$TB_LAST_PID
    if bwait "$TB_CONC" "$CONC_PORT" "$PID_CONC" 10; then
        tb_spawn "$TB_CLI" braid "$BIN/braid" up -c "$TB_TMP/braid.json" --socks "127.0.0.1:$SOCKS_PORT" --http off \
            --access-key "$ACCESS_KEY" --log-level warn
        PID_BRAID=$TB_LAST_PID
        if ! bwait "$TB_CLI" "$SOCKS_PORT" "$PID_BRAID" 10; then
            HAVE_BRAID=0
            SKIPPED+=("braid row: braid did not listen on $SOCKS_PORT in cli within 10 s: $(tail -n 3 "$TB_TMP/braid.log" | tr '\n' ' ')")
        fi
    else
        HAVE_BRAID=0
        SKIPPED+=("braid row: braid-concentrator did not listen within 10 s: $(tail -n 3 "$TB_TMP/concentrator.log" | tr '\n' ' ')")
    fi
fi

# ------------------------------------------------------------------ measurements
m_braid() {  # REP
    local rep="$1" w0 c0 out res size total ttfb code sha
    w0=$(tb_tx_bytes "$TB_CONC" w0) c0=$(tb_tx_bytes "$TB_CONC" c0)
    rm -f "$TB_TMP/dl.bin"
    out=$(in_cli timeout 120 curl -sS --socks5-hostname "127.0.0.1:$SOCKS_PORT" -o "$TB_TMP/dl.bin" \
        -w '%{size_download} %{time_total} %{time_starttransfer} %{http_code}' "$(tb_url big.bin)" 2>&1)
    local rc=$?
    if ((rc != 0)); then run_fail braid "$rep" "curl exit $rc: $out"; return; fi
    res=$("${LIB[@]}" curlrate "$out") || { run_fail braid "$rep" "curl output: $out"; return; }
    read -r size total ttfb code <<<"$res"
    sha=$(sha256sum "$TB_TMP/dl.bin" | cut -d' ' -f1)
    if [[ "$code" != 200 || "$sha" != "$(tb_file_sha big.bin)" ]]; then
        run_fail braid "$rep" "HTTP $code, $size bytes, sha256 $([[ "$sha" == "$(tb_file_sha big.bin)" ]] && echo ok || echo MISMATCH)"
        return
    fi
    run_ok braid "$rep" "$(python3 -c "print(f'{$size * 8 / $total / 1e6:.2f}')")" \
        "ttfb $(python3 -c "print(f'{$ttfb * 1000:.0f}')") ms; $(split_note "$w0" "$c0")"
}

m_iperf() {  # ID REP
    local id="$1" rep="$2" port pid w0 c0 res json="$TB_TMP/iperf-$1-$2.json"
    local srvaddr=$TB_CONC_WIFI_IP
    local -a pre=() bind=()
    case "$id" in
        mptcp) pre=(mptcpize run); port=5201 ;;
        wifi) bind=(-B "$TB_CLI_WIFI_IP"); port=5202 ;;
        cell) bind=(-B "$TB_CLI_CELL_IP"); srvaddr=$TB_CONC_CELL_IP; port=5203 ;;
    esac
    tb_spawn "$TB_CONC" "iperf3-$id" "${pre[@]}" iperf3 -s -B "$srvaddr" -p "$port" -1
    pid=$TB_LAST_PID
    if ! bwait "$TB_CONC" "$port" "$pid" 10; then run_fail "$id" "$rep" "iperf3 server did not start"; tb_stop "$pid" 1; return; fi
    w0=$(tb_tx_bytes "$TB_CONC" w0) c0=$(tb_tx_bytes "$TB_CONC" c0)
    in_cli timeout -k 5 $((TBT + 25)) "${pre[@]}" iperf3 -c "$srvaddr" -p "$port" "${bind[@]}" -R -t "$TBT" -J \
        --connect-timeout 5000 >"$json" 2>"$json.err"
    local rc=$?
    tb_stop "$pid" 2
    if res=$("${LIB[@]}" iperf "$json" 2>&1); then
        read -r bps _ retr <<<"$res"
        local note="retransmits $retr"
        [[ "$id" == mptcp ]] && note+="; $(split_note "$w0" "$c0")"
        run_ok "$id" "$rep" "$(python3 -c "print(f'{$bps / 1e6:.2f}')")" "$note"
    else
        run_fail "$id" "$rep" "exit $rc: $res $(head -c 200 "$json.err" 2>/dev/null)"
    fi
}

m_curl() {  # REP
    local rep="$1" out res size total ttfb code
    out=$(in_cli timeout 120 curl -sS --noproxy '*' -o /dev/null \
        -w '%{size_download} %{time_total} %{time_starttransfer} %{http_code}' "$(tb_url big.bin)" 2>&1)
    local rc=$?
    if ((rc != 0)); then run_fail curl "$rep" "curl exit $rc: $out"; return; fi
    res=$("${LIB[@]}" curlrate "$out") || { run_fail curl "$rep" "curl output: $out"; return; }
    read -r size total ttfb code <<<"$res"
    [[ "$code" == 200 ]] || { run_fail curl "$rep" "HTTP $code"; return; }
    run_ok curl "$rep" "$(python3 -c "print(f'{$size * 8 / $total / 1e6:.2f}')")" ""
}

log "rounds: $REPS (braid download ${TB_BIG_MB} MiB, iperf3 ${TBT}s each)"
for ((rep = 1; rep <= REPS; rep++)); do
    if ((HAVE_BRAID)); then
        m_braid "$rep"
    fi
    if ((HAVE_IPERF)); then
        ((HAVE_MPTCPIZE)) && m_iperf mptcp "$rep"
        m_iperf wifi "$rep"
        # the cell path is slower by construction; one run is enough
        ((rep == 1)) && m_iperf cell "$rep"
    fi
    ((rep == 1)) && m_curl "$rep"
done

# ------------------------------------------------------------------ report
echo "### 2. Bonded goodput on the namespace testbed"
echo
echo "Testbed: tests/integration/testbed.sh (wifi0 $TB_WIFI_RATE + cell0 $TB_CELL_RATE, tbf on both" \
     "directions, sum $SHAPED_MBPS Mbit/s). Downloads (conc → cli). Goodput = payload bits / total" \
     "time (curl: \`size_download / time_total\`, includes connection setup; iperf3: receiver average" \
     "over \`-t $TBT\`). $REPS round(s), interleaved; median (min–max). tbf counts Ethernet frames, so" \
     "the payload ceiling is ≈ 0.96 × the shaped rate."
echo
"${LIB[@]}" bonding-table "$TSV"
echo
notes=()
best=$(awk -F'\t' '$1=="kind=run" && ($2=="id=wifi" || $2=="id=cell") && $4=="ok=1" {split($5,a,"="); print a[2]}' "$TSV" | sort -n | tail -1)
braidm=$(awk -F'\t' '$1=="kind=run" && $2=="id=braid" && $4=="ok=1" {split($5,a,"="); print a[2]}' "$TSV" | sort -n | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}')
if [[ -n "$best" && -n "$braidm" ]]; then
    notes+=("bonding gain: braid median $braidm Mbit/s ÷ best single-path run $best Mbit/s = $(python3 -c "print(f'{$braidm / $best:.2f}')")×")
fi
for f in braid concentrator; do
    [[ -s "$TB_TMP/$f.log" ]] || continue
    c=$(grep -ciE 'warn|error' "$TB_TMP/$f.log")
    s="$f log (--log-level warn): $(wc -l <"$TB_TMP/$f.log") line(s), $c with warn/error"
    ((c)) && s+="; first: \`$(grep -iE 'warn|error' "$TB_TMP/$f.log" | head -1 | cut -c1-160)\`"
    notes+=("$s")
done
for v in PID_BRAID PID_CONC; do
    p=${!v:-}
    [[ -n "$p" ]] && ! kill -0 "$p" 2>/dev/null &&
        notes+=("**$v (pid $p) not running at the end**; last log line: \`$(tail -n 1 "$TB_TMP/$([[ $v == PID_BRAID ]] && echo braid || echo concentrator).log" 2>/dev/null | cut -c1-200)\`")
done
notes+=("MPTCP endpoints in cli: $(ip -n "$TB_CLI" mptcp endpoint show 2>/dev/null | tr '\n' ';' | sed 's/ *;/; /g')")
for s in "${SKIPPED[@]}"; do notes+=("skipped: $s"); done
for s in "${notes[@]}"; do echo "- $s"; done
echo
exit 0
