#!/usr/bin/env bash
# Benchmark: aggregation — bonded goodput through braid vs the sum of the
# path rates, on the namespace testbed with the link emulator on both paths
# (root only).
#
# Sources tests/integration/braid_lib.sh (and through it testbed.sh):
# namespaces cli / conc / net; the testbed's tbf shaping is off
# (TB_WIFI_RATE=0, TB_CELL_RATE=0) and `tb_emulate` puts braid-link-emu on
# wifi0 and cell0, which then sets each path's rate (IP-level line rate),
# one-way delay (the same both ways) and bottleneck queue (both directions).
#
# For every rate pair (wifi0/cell0 Mbit/s) and delay pair (one-way ms), one
# download each, in this order:
#   braid   curl --socks5-hostname → braid (cli) → braid-concentrator (conc)
#           → HTTP server in net (10.31.9.2); file of ≈ BENCH_AGG_SECONDS at the
#           sum rate; sha256 checked
#   kernel  kernel MPTCP without braid: `mptcpize run curl` in cli →
#           `mptcpize run python3 -m http.server` in conc (10.31.1.1:8080),
#           same file, sha256 checked (both paths: cli's MPTCP endpoints)
#   single  plain TCP curl bound to wifi0's address → the HTTP server in net;
#           file of ≈ BENCH_AGG_SECONDS at wifi0's rate. wifi0 is the best
#           single path by construction (its rate ≥ cell0's, its delay ≤ cell0's)
# Goodput = payload bits / curl's time_total (includes TCP, SOCKS and HTTP
# set-up and slow start, the same for every row).
#
# stdout: a markdown section. stderr: progress.
# Exit: 0 done, 77 skipped ("SKIP: ..." on stderr), 1 error.
#
# Environment:
#   BENCH_BIN_DIR       braid, braid-concentrator, braid-link-emu (default <repo>/build/bin)
#   BENCH_AGG_RATES     rate pairs wifi0/cell0 in Mbit/s (default "10/10 15/5 40/5")
#   BENCH_AGG_DELAYS    one-way delay pairs wifi0/cell0 in ms (default "10/10 10/60")
#   BENCH_AGG_SECONDS   target length of each transfer (default 10)
#   BENCH_AGG_QUEUE_MS  bottleneck queue of each path, in ms at its rate, but at
#                       least its bandwidth-delay product (default 50)
#   BENCH_AGG_REPS      downloads per row and cell (default 1; median reported)
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BIN=${BENCH_BIN_DIR:-$REPO/build/bin}
RATES=${BENCH_AGG_RATES:-10/10 15/5 40/5}
DELAYS=${BENCH_AGG_DELAYS:-10/10 10/60}
SECS=${BENCH_AGG_SECONDS:-10}
QUEUE_MS=${BENCH_AGG_QUEUE_MS:-50}
REPS=${BENCH_AGG_REPS:-1}
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=$(command -v python3)
LIBDIR=$REPO/tests/integration
KPORT=8080

log() { printf '[%s] aggregation: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }

for v in SECS QUEUE_MS REPS; do
    [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -ge 1 ]] || { echo "BENCH_AGG_${v/SECS/SECONDS} must be a positive integer" >&2; exit 1; }
done
for p in $RATES $DELAYS; do
    [[ "$p" =~ ^[0-9]+/[0-9]+$ ]] || { echo "rate/delay pairs look like 10/60, got '$p'" >&2; exit 1; }
done
[[ "$(id -u)" == 0 ]] || skip "the namespace testbed needs root (network namespaces, TUN, MPTCP endpoints)"
[[ -x "$BIN/braid" && -x "$BIN/braid-concentrator" ]] || skip "braid binaries not found in $BIN"
[[ -x "$BIN/braid-link-emu" ]] || skip "braid-link-emu not found in $BIN (tests/tools)"
[[ -f "$LIBDIR/braid_lib.sh" ]] || skip "$LIBDIR/braid_lib.sh not found"
HAVE_MPTCPIZE=1
command -v mptcpize >/dev/null 2>&1 || HAVE_MPTCPIZE=0

export BRAID_BIN_DIR=$BIN BRAID_LOG_LEVEL=warn TB_BIG_MB=1 TB_WIFI_RATE=0 TB_CELL_RATE=0 TB_QUIET=1
export TB_LINK_EMU=$BIN/braid-link-emu
# shellcheck disable=SC1091
source "$LIBDIR/braid_lib.sh"
for f in testbed_up tb_emulate tb_emulate_ctl braid_start_concentrator braid_start_client in_cli tb_spawn; do
    declare -F "$f" >/dev/null || skip "the testbed library lacks function $f"
done

log "building the testbed (rates $RATES; delays $DELAYS; ~${SECS}s per transfer)"
testbed_up   # exits 77 itself when impossible; tears down at exit
# Each transfer starts from scratch: no cached ssthresh/RTT from the previous one.
for ns in "$TB_CLI" "$TB_CONC" "$TB_NET"; do ip netns exec "$ns" sysctl -qw net.ipv4.tcp_no_metrics_save=1; done
tb_emulate wifi0 delay=10 rate=10mbit
tb_emulate cell0 delay=10 rate=10mbit
braid_start_concentrator
braid_start_client
KERNEL_SRV=0
if ((HAVE_MPTCPIZE)); then
    tb_spawn "$TB_CONC" mptcp-http mptcpize run "$TB_PYTHON" -m http.server --protocol HTTP/1.1 \
        --bind "$TB_CONC_WIFI_IP" --directory "$TB_TMP/www" "$KPORT"
    for ((i = 0; i < 100; i++)); do
        [[ -n "$(in_conc ss -HlMn "sport = :$KPORT" 2>/dev/null)" ]] && { KERNEL_SRV=1; break; }
        sleep 0.1
    done
fi

WWW=$TB_TMP/www
declare -A SHA=()
# file_for MBITPS: FILE = name of a served file of ≈ SECS at that rate (payload), created once
file_for() {
    local mb
    mb=$(( ($1 * SECS * 1000000 / 8 * 96 / 100 + 1048575) / 1048576 ))
    ((mb < 2)) && mb=2
    FILE="agg-$mb.bin"
    if [[ -z "${SHA[$FILE]:-}" ]]; then
        head -c $((mb * 1048576)) /dev/urandom >"$WWW/$FILE"
        SHA[$FILE]=$(sha256sum "$WWW/$FILE" | cut -d' ' -f1)
    fi
}

emu_drops() {  # PATH -> "queue drops down/up" from the emulator's counters
    tb_emulate_stats "$1" 2>/dev/null | awk '
        $1 == "a2b" || $1 == "b2a" { for (i = 1; i <= NF; i++) if ($i ~ /^drop_queue=/) { split($i, a, "="); d[$1] = a[2] } }
        END { printf "%d/%d", d["b2a"], d["a2b"] }'
}

TSV=$TB_TMP/aggregation.tsv
: >"$TSV"
# measure ID CELL FILE CURL-ARGS...: one download; appends a TSV line
measure() {
    local id="$1" cell="$2" file="$3" out rc size total ttfb code sha w0 c0 note
    shift 3
    tb_emulate_ctl wifi0 reset >/dev/null
    tb_emulate_ctl cell0 reset >/dev/null
    w0=$(tb_tx_bytes "$TB_CONC" w0) c0=$(tb_tx_bytes "$TB_CONC" c0)
    rm -f "$TB_TMP/dl.bin"
    out=$(in_cli timeout 150 "$@" -sS --noproxy '' -o "$TB_TMP/dl.bin" \
        -w '%{size_download} %{time_total} %{time_starttransfer} %{http_code}' 2>&1)
    rc=$?
    read -r size total ttfb code <<<"$out"
    sha=$(sha256sum "$TB_TMP/dl.bin" 2>/dev/null | cut -d' ' -f1)
    w0=$(($(tb_tx_bytes "$TB_CONC" w0) - w0)) c0=$(($(tb_tx_bytes "$TB_CONC" c0) - c0))
    note="conc sent $(awk -v w="$w0" -v c="$c0" 'BEGIN { printf "%.1f MB on wifi0 / %.1f MB on cell0", w / 1e6, c / 1e6 }');"
    note+=" emulator queue drops (down/up) wifi0 $(emu_drops wifi0), cell0 $(emu_drops cell0)"
    if ((rc != 0)) || [[ "$code" != 200 || "$sha" != "${SHA[$file]}" ]]; then
        printf 'cell=%s\tid=%s\tok=0\terr=%s\n' "$cell" "$id" \
            "$(printf 'exit %s, HTTP %s, sha256 %s: %s' "$rc" "${code:-?}" "$([[ "$sha" == "${SHA[$file]}" ]] && echo ok || echo MISMATCH)" "$out" | tr '\n\t' '  ' | cut -c1-200)" >>"$TSV"
        log "$cell $id: FAILED ($out)"
        return
    fi
    printf 'cell=%s\tid=%s\tok=1\tbytes=%s\ttotal=%s\tttfb=%s\tnote=%s\n' "$cell" "$id" "$size" "$total" "$ttfb" "$note" >>"$TSV"
    log "$(printf '%-8s %-6s %6.2f Mbit/s (%s B in %s s, first byte %s s); %s' "$cell" "$id" \
        "$("$PY" -c "print($size * 8 / $total / 1e6)")" "$size" "$total" "$ttfb" "$note")"
}

T0=$(date +%s)
for rp in $RATES; do
    rw=${rp%/*} rc_=${rp#*/}
    file_for $((rw + rc_)); fsum=$FILE
    file_for "$rw"; fwifi=$FILE
    for dp in $DELAYS; do
        dw=${dp%/*} dc=${dp#*/}
        cell="$rp@$dp"
        # Bottleneck queue: QUEUE_MS at the path's rate, at least one BDP (RTT = 2 × one-way delay).
        qw=$(( rw * 1000 * (QUEUE_MS > 2 * dw ? QUEUE_MS : 2 * dw) / 8 ))
        qc=$(( rc_ * 1000 * (QUEUE_MS > 2 * dc ? QUEUE_MS : 2 * dc) / 8 ))
        tb_emulate wifi0 delay="$dw" rate="${rw}mbit" queue=0 queue_bytes="$qw"
        tb_emulate cell0 delay="$dc" rate="${rc_}mbit" queue=0 queue_bytes="$qc"
        printf 'kind=cell\tcell=%s\trw=%s\trc=%s\tdw=%s\tdc=%s\tqw=%s\tqc=%s\tfsum=%s\tfwifi=%s\n' \
            "$cell" "$rw" "$rc_" "$dw" "$dc" "$qw" "$qc" "$fsum" "$fwifi" >>"$TSV"
        for ((rep = 1; rep <= REPS; rep++)); do
            measure braid "$cell" "$fsum" curl --socks5-hostname "$BRAID_SOCKS" "$(tb_url "$fsum")"
            if ((KERNEL_SRV)); then
                measure kernel "$cell" "$fsum" mptcpize run curl "http://$TB_CONC_WIFI_IP:$KPORT/$fsum"
            fi
            measure single "$cell" "$fwifi" curl --interface "$TB_CLI_WIFI_IP" "$(tb_url "$fwifi")"
        done
    done
done
ELAPSED=$(($(date +%s) - T0))
braid_check_alive

# ------------------------------------------------------------------ report
echo "### Aggregation: bonded goodput vs the sum of the path rates"
echo
echo "Testbed with braid-link-emu on both paths (\`tb_emulate\`; the testbed's tbf is off): each path has"
echo "the given rate (IP-level line rate, both directions), one-way delay (both directions) and a"
echo "tail-drop bottleneck queue of max(${QUEUE_MS} ms, 1 BDP) at its rate. Downloads (conc → cli) of a file of"
echo "≈ ${SECS} s at the sum rate (single path: at wifi0's rate); goodput = payload bits / curl \`time_total\`"
echo "(includes connection set-up and slow start). ${REPS} download(s) per row and cell, median."
echo "braid: curl → SOCKS5 (cli) → concentrator (conc) → HTTP (net). kernel MPTCP: \`mptcpize run curl\` →"
echo "\`mptcpize run python3 -m http.server\` in conc, no braid. single: plain TCP over wifi0 alone (the best"
echo "single path by construction). TCP payload is at most 1448/1500 = 0.965 of the IP-level rate."
echo
"$PY" - "$TSV" "$REPS" <<'EOF'
import statistics, sys
rows, cells, order = {}, {}, []
for line in open(sys.argv[1]):
    d = dict(f.split("=", 1) for f in line.rstrip("\n").split("\t") if "=" in f)
    if d.get("kind") == "cell":
        cells[d["cell"]] = d; order.append(d["cell"])
    else:
        rows.setdefault((d["cell"], d["id"]), []).append(d)

def med(cell, idv):
    ok = [r for r in rows.get((cell, idv), []) if r["ok"] == "1"]
    if not ok:
        return None, rows.get((cell, idv), [{}])[-1:]
    vals = sorted((int(r["bytes"]) * 8 / float(r["total"]) / 1e6, r) for r in ok)
    m = vals[(len(vals) - 1) // 2]
    return m[0], [m[1]]

print("| wifi0 / cell0 rate Mbit/s | one-way delay ms | sum | braid Mbit/s (÷ sum) | kernel MPTCP (÷ sum) | wifi0 alone (÷ sum) | braid ÷ kernel | braid ÷ best single | target | notes |")
print("|---|---|---|---|---|---|---|---|---|---|")
misses = []
for c in order:
    k = cells[c]
    rw, rc, dw, dc = (int(k[x]) for x in ("rw", "rc", "dw", "dc"))
    s = rw + rc
    b, br = med(c, "braid"); kk, kr = med(c, "kernel"); w, wr = med(c, "single")
    cellf = lambda v: "–" if v is None else "%.2f (%.2f)" % (v, v / s)
    ratio = lambda x, y: "–" if x is None or y is None else "%.2f" % (x / y)
    want = 0.90 if dw == dc else 0.85
    if b is None:
        verdict = "braid failed"
    else:
        ok1 = b / s >= want
        ok2 = w is None or b >= w
        verdict = "÷ sum ≥ %.2f: %s; ≥ best single: %s" % (want, "met" if ok1 else "**not met**",
                  "–" if w is None else ("met" if ok2 else "**not met**"))
        if not (ok1 and ok2):
            misses.append(c)
    notes = []
    for name, r in (("braid", br), ("kernel", kr)):
        if r and r[0].get("ok") == "1":
            notes.append("%s: first byte %.0f ms; %s" % (name, float(r[0]["ttfb"]) * 1000, r[0]["note"]))
        elif r and r[0].get("err"):
            notes.append("%s FAILED: %s" % (name, r[0]["err"]))
    if wr and wr[0].get("err"):
        notes.append("single FAILED: %s" % wr[0]["err"])
    print("| %d / %d | %d / %d | %d | %s | %s | %s | %s | %s | %s | %s |" % (
        rw, rc, dw, dc, s, cellf(b), cellf(kk), cellf(w), ratio(b, kk), ratio(b, w), verdict,
        "queue %d / %d kB; " % (int(k["qw"]) // 1000, int(k["qc"]) // 1000) + "; ".join(notes)))
print()
print("- targets (issue 6): braid ≥ 0.90 of the sum with equal delays, ≥ 0.85 with unequal delays, never below the best single path")
print("- cells that miss a braid target: %s" % (", ".join(misses) if misses else "none"))
EOF
echo "- part took ${ELAPSED} s of transfers; kernel MPTCP rows: $([[ $KERNEL_SRV == 1 ]] && echo "mptcpize http.server on $TB_CONC_WIFI_IP:$KPORT" || echo "skipped (mptcpize missing or its server did not listen)")"
for f in braid concentrator; do
    c=$(grep -ciE 'warn|error' "$TB_TMP/$f.log" 2>/dev/null)
    ((c)) && echo "- $f log: $c warn/error line(s); first: \`$(grep -iE 'warn|error' "$TB_TMP/$f.log" | head -1 | cut -c1-160)\`"
done
echo
exit 0
