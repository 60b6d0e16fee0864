#!/usr/bin/env bash
# Benchmark: time to first byte of a new proxied HTTP request over a
# 40 ms-RTT path (root only).
#
# Sources tests/integration/braid_lib.sh (and through it testbed.sh). The link
# emulator (`tb_emulate`) adds BENCH_TTFB_RTT_MS / 2 each way on wifi0 and on
# cell0 (both paths equally delayed, so it does not matter which one a
# connection starts on). The HTTP server in net (10.31.9.2) serves a 100-byte
# file; conc ↔ net has no added delay.
#
# Rows (BENCH_TTFB_COUNT requests each, interleaved, a new connection each time):
#   no proxy    curl in cli straight to the server (through conc's forwarding)
#   braid cold  curl --socks5-hostname → braid (cli) → braid-concentrator (conc) → server,
#               with `"pool": false`: every connect dials (MPTCP, then TLS, then the
#               request header; TCP Fast Open is off, see docs/PROTOCOL.md)
#   braid cold + optimistic reply   `"pool": false, "optimistic_reply": true`: SOCKS5
#               success once TLS is up, the request rides with the header
#   braid pool  BENCH_TTFB_POOL_JSON in braid's config (pre-warmed connections;
#               the SOCKS5 reply waits for the concentrator's)
#   braid pool + optimistic reply   the same plus `"optimistic_reply": true`
#   microsocks  curl --socks5-hostname → microsocks in conc (10.31.1.1:1081) over wifi0 → server
#   dante       curl --socks5-hostname → danted in conc (10.31.1.1:1082) over wifi0 → server
# The pool rows run only when braid accepts the pool member (checked with
# `braid up -c` in direct mode); otherwise they are skipped with a note.
# TTFB = curl's time_starttransfer, median; ratio = TTFB ÷ the path's RTT
# measured with ICMP echo in the same run. Targets (issue 7): warm pool with
# optimistic reply ≤ 1.1 RTT; cold (same settings, pool empty) ≤ the best peer.
# The round-trip breakdown comes from bench/ttfb.py (SOCKS5 step by step,
# each step waiting for the previous one, as curl does).
#
# stdout: a markdown section. stderr: progress.
# Exit: 0 done, 77 skipped ("SKIP: ..." on stderr), 1 error.
#
# Environment:
#   BENCH_BIN_DIR        braid, braid-concentrator, braid-link-emu (default <repo>/build/bin)
#   BENCH_TTFB_COUNT     requests per row (default 10)
#   BENCH_TTFB_RTT_MS    round-trip time added on each path (default 40)
#   BENCH_TTFB_POOL_JSON the pool rows' config member(s), default
#                        '"pool": {"min": 2, "max": 16, "max_idle_ms": 60000}'
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BIN=${BENCH_BIN_DIR:-$REPO/build/bin}
COUNT=${BENCH_TTFB_COUNT:-10}
RTT_MS=${BENCH_TTFB_RTT_MS:-40}
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=$(command -v python3)
LIBDIR=$REPO/tests/integration
MS_PORT=1081
DANTE_PORT=1082

log() { printf '[%s] ttfb: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }

[[ "$COUNT" =~ ^[0-9]+$ ]] && ((COUNT >= 1 && COUNT <= 100)) || { echo "BENCH_TTFB_COUNT must be 1..100" >&2; exit 1; }
[[ "$RTT_MS" =~ ^[0-9]+$ ]] && ((RTT_MS % 2 == 0 && RTT_MS <= 1000)) || { echo "BENCH_TTFB_RTT_MS must be an even number of ms" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || skip "the namespace testbed needs root (network namespaces, TUN)"
[[ -x "$BIN/braid" && -x "$BIN/braid-concentrator" ]] || skip "braid binaries not found in $BIN"
[[ -x "$BIN/braid-link-emu" ]] || skip "braid-link-emu not found in $BIN (tests/tools)"
[[ -f "$LIBDIR/braid_lib.sh" ]] || skip "$LIBDIR/braid_lib.sh not found"

export BRAID_BIN_DIR=$BIN BRAID_LOG_LEVEL=warn TB_BIG_MB=1 TB_QUIET=1 TB_LINK_EMU=$BIN/braid-link-emu
# shellcheck disable=SC1091
source "$LIBDIR/braid_lib.sh"
for f in testbed_up tb_emulate tb_ping braid_start_concentrator braid_start_client braid_stop_client braid_write_config; do
    declare -F "$f" >/dev/null || skip "the testbed library lacks function $f"
done

log "building the testbed (RTT $RTT_MS ms on wifi0 and cell0)"
testbed_up
tb_emulate wifi0 delay=$((RTT_MS / 2))
tb_emulate cell0 delay=$((RTT_MS / 2))
printf '%0100d' 0 >"$TB_TMP/www/ttfb.txt"
URL=$(tb_url ttfb.txt)
DEST="$TB_NET_IP:80"

read -r RTT_W _ _ RCV_W _ <<<"$(tb_ping "$TB_CLI" "$TB_CONC_WIFI_IP" 20 50)"
read -r RTT_C _ _ RCV_C _ <<<"$(tb_ping "$TB_CLI" "$TB_CONC_CELL_IP" 20 50 "$TB_CLI_CELL_IP")"
[[ "$RTT_W" =~ ^[0-9.]+$ ]] || { echo "no ICMP echo replies over wifi0: the emulated path does not work" >&2; exit 1; }
log "ICMP RTT wifi0 $RTT_W ms ($RCV_W/20), cell0 $RTT_C ms ($RCV_C/20)"

braid_start_concentrator
# The cold row: no pre-warmed connections.
braid_write_config '{"pool": false}'
braid_start_client

# TCP Fast Open counters (nstat, absolute) in NS: "Active ActiveFail Passive PassiveFail".
tfo_counters() {
    ip netns exec "$1" nstat -asz 2>/dev/null | awk '
        $1=="TcpExtTCPFastOpenActive"{a=$2} $1=="TcpExtTCPFastOpenActiveFail"{af=$2}
        $1=="TcpExtTCPFastOpenPassive"{p=$2} $1=="TcpExtTCPFastOpenPassiveFail"{pf=$2}
        END{printf "%d %d %d %d\n", a, af, p, pf}'
}
read -r TFO_A0 TFO_AF0 _ _ <<<"$(tfo_counters "$TB_CLI")"
read -r _ _ TFO_P0 TFO_PF0 <<<"$(tfo_counters "$TB_CONC")"

# wait_listen NS PORT PID: 0 once something listens on tcp PORT in NS; 1 after 10 s or if PID died.
wait_listen() {
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null)" ]] && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

declare -A LABEL=() PROXY=()
ROWS=(direct braid)
LABEL[direct]="no proxy: curl → server (TCP over wifi0, through conc's forwarding)"
LABEL[braid]="braid cold (\`\"pool\": false\`): curl → SOCKS5 (cli) → concentrator (conc) → server"
PROXY[braid]=$BRAID_SOCKS
SKIPPED=()

if command -v microsocks >/dev/null 2>&1; then
    tb_spawn "$TB_CONC" microsocks microsocks -i "$TB_CONC_WIFI_IP" -p "$MS_PORT"
    if wait_listen "$TB_CONC" "$MS_PORT" "$TB_LAST_PID"; then
        ROWS+=(microsocks)
        LABEL[microsocks]="microsocks in conc ($TB_CONC_WIFI_IP:$MS_PORT), reached over wifi0"
        PROXY[microsocks]="$TB_CONC_WIFI_IP:$MS_PORT"
    else
        SKIPPED+=("microsocks: did not listen within 10 s: $(tail -n 2 "$TB_TMP/microsocks.log" | tr '\n' ' ')")
    fi
else
    SKIPPED+=("microsocks: not installed")
fi
DANTED=$(command -v danted || command -v sockd || true)
if [[ -n "$DANTED" ]]; then
    D=$TB_TMP/dante
    mkdir -p "$D"
    chmod a+x "$TB_TMP"
    chmod a+rwx "$D"
    cat >"$D/danted.conf" <<EOF
logoutput: $D/danted.out
internal: $TB_CONC_WIFI_IP port = $DANTE_PORT
external: $TB_CONC_UP_IP
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 10.31.0.0/16 to: 0.0.0.0/0 }
socks pass { from: 10.31.0.0/16 to: 0.0.0.0/0 command: connect }
EOF
    tb_spawn "$TB_CONC" danted "$DANTED" -f "$D/danted.conf" -p "$D/danted.pid"
    if wait_listen "$TB_CONC" "$DANTE_PORT" "$TB_LAST_PID"; then
        ROWS+=(dante)
        LABEL[dante]="dante (danted) in conc ($TB_CONC_WIFI_IP:$DANTE_PORT), reached over wifi0"
        PROXY[dante]="$TB_CONC_WIFI_IP:$DANTE_PORT"
    else
        SKIPPED+=("dante: danted did not listen within 10 s: $(tail -n 2 "$TB_TMP/danted.log" "$D/danted.out" 2>/dev/null | tr '\n' ' ')")
    fi
else
    SKIPPED+=("dante: danted not installed")
fi

TSV=$TB_TMP/ttfb.tsv
: >"$TSV"
# one_curl ID: one request; appends "ID ttfb_s connect_s" or an error line
one_curl() {
    local id="$1" out rc
    local -a p=(--noproxy '*')
    [[ -n "${PROXY[$id]:-}" ]] && p=(--noproxy '' --socks5-hostname "${PROXY[$id]}")
    out=$(in_cli timeout 20 curl -sS -o /dev/null "${p[@]}" -w '%{time_connect} %{time_starttransfer} %{http_code}' "$URL" 2>&1)
    rc=$?
    local tc tf code
    read -r tc tf code <<<"$out"
    if ((rc == 0)) && [[ "$code" == 200 ]]; then
        printf 'curl\t%s\t%s\t%s\n' "$id" "$tf" "$tc" >>"$TSV"
    else
        printf 'err\t%s\t%s\n' "$id" "$(printf 'exit %s: %s' "$rc" "$out" | tr '\n\t' '  ' | cut -c1-160)" >>"$TSV"
    fi
}
steps() {  # ID: ttfb.py breakdown
    local id="$1" out
    local -a p=()
    [[ -n "${PROXY[$id]:-}" ]] && p=(--proxy "${PROXY[$id]}")
    out=$(in_cli timeout 60 "$PY" "$HERE/ttfb.py" --dest "$DEST" --path /ttfb.txt --count "$COUNT" "${p[@]}" 2>&1)
    printf 'steps\t%s\t%s\n' "$id" "$(tr '\n\t' '  ' <<<"$out")" >>"$TSV"
}

log "rows: ${ROWS[*]}; $COUNT requests each, interleaved"
for ((i = 0; i < COUNT; i++)); do
    for id in "${ROWS[@]}"; do
        one_curl "$id"
        sleep 0.2
    done
done
for id in "${ROWS[@]}"; do steps "$id"; done
read -r TFO_A1 TFO_AF1 _ _ <<<"$(tfo_counters "$TB_CLI")"
read -r _ _ TFO_P1 TFO_PF1 <<<"$(tfo_counters "$TB_CONC")"

# ------------------------------------------------------------------ pool variant
# `braid up -c FILE` in direct mode on spare ports: accepted = still running
# after 3 s (a config error makes it exit at once, naming the field).
pool_probe() {  # JSON-MEMBER -> 0 when braid accepts it; POOL_ERR = its complaint
    local f="$TB_TMP/pool-probe.json" rc
    printf '{%s}\n' "$1" >"$f"
    # shellcheck disable=SC2046
    POOL_ERR=$(in_cli env $(braid__env) timeout 3 "$BRAID" up -c "$f" --socks 127.0.0.1:1090 --http off \
        --control off --log-level warn 2>&1)
    rc=$?
    ((rc == 124))
}
POOL_JSON=""
braid_stop_client
DEFAULT_POOL_JSON='"pool": {"min": 2, "max": 16, "max_idle_ms": 60000}'
cands=("${BENCH_TTFB_POOL_JSON:-$DEFAULT_POOL_JSON}")
for c in "${cands[@]}"; do
    if pool_probe "$c"; then POOL_JSON=$c; break; fi
done
# pool_row ID JSON-MEMBERS LABEL: braid restarted with those members, the
# pool given time to fill, then COUNT requests (a new connection each).
pool_row() {
    braid_stop_client
    braid_write_config "{$2}"
    braid_start_client
    sleep 2  # (let the pool fill)
    ROWS+=("$1")
    LABEL[$1]=$3
    PROXY[$1]=$BRAID_SOCKS
    for ((i = 0; i < COUNT; i++)); do one_curl "$1"; sleep 0.3; done
    steps "$1"
    POOL_STATUS[$1]=$(braid_cli status --json 2>/dev/null | "$PY" -c '
import json, sys
p = json.load(sys.stdin).get("pool", {})
print("%d hits, %d misses, %d fallbacks, %d refill failures, %d idle" % (p.get("hits", 0), p.get("misses", 0),
      p.get("fallbacks", 0), p.get("refill_failures", 0), p.get("idle", 0)) if p.get("enabled") else "pool off")' 2>/dev/null)
}
declare -A POOL_STATUS=()
if [[ -n "$POOL_JSON" ]]; then
    pool_row braidcoldopt '"pool": false, "optimistic_reply": true' "braid cold + \`\"optimistic_reply\": true\` (\`\"pool\": false\`): SOCKS5 reply once TLS is up"
    pool_row braidpool "$POOL_JSON" "braid pool (\`$POOL_JSON\`): SOCKS5 reply after the concentrator's"
    pool_row braidopt "$POOL_JSON, \"optimistic_reply\": true" "braid pool + \`\"optimistic_reply\": true\`: SOCKS5 reply at once"
else
    SKIPPED+=("braid pool rows: braid does not accept \`$c\` (it said: \`$(head -n 1 <<<"$POOL_ERR" | sed 's/^braid: config [^:]*: //' | cut -c1-120)\`)")
fi
braid_check_alive

# ------------------------------------------------------------------ report
echo "### Time to first byte over a ${RTT_MS} ms-RTT path"
echo
echo "braid-link-emu adds $((RTT_MS / 2)) ms each way on wifi0 and on cell0 (\`tb_emulate\`); ICMP echo RTT measured"
echo "in this run: wifi0 $RTT_W ms, cell0 $RTT_C ms (20 probes each). A new HTTP/1.1 request for a 100-byte file"
echo "on 10.31.9.2 (net; conc ↔ net has no added delay), a new connection every time; $COUNT requests per row,"
echo "interleaved. TTFB = curl \`time_starttransfer\` (median, min–max); ÷ RTT uses wifi0's measured RTT."
echo "Breakdown: \`bench/ttfb.py\`, $COUNT more requests per row speaking SOCKS5 step by step as curl does (ms"
echo "from connect(): TCP connected / method reply / CONNECT reply / first response byte, medians)."
echo
"$PY" - "$TSV" "$RTT_W" "$(for id in "${ROWS[@]}"; do printf '%s=%s\x1f' "$id" "${LABEL[$id]}"; done)" <<'EOF'
import json, statistics, sys
tsv, rtt, labels = sys.argv[1], float(sys.argv[2]), sys.argv[3]
order, label = [], {}
for item in labels.split("\x1f"):
    if item:
        k, _, v = item.partition("="); order.append(k); label[k] = v
curl, errs, steps = {}, {}, {}
for line in open(tsv):
    f = line.rstrip("\n").split("\t")
    if f[0] == "curl":
        curl.setdefault(f[1], []).append(float(f[2]) * 1000)
    elif f[0] == "err":
        errs.setdefault(f[1], []).append(f[2])
    elif f[0] == "steps":
        try:
            steps[f[1]] = json.loads(f[2])
        except ValueError:
            steps[f[1]] = {"error": f[2]}
peers = [statistics.median(curl[k]) for k in ("microsocks", "dante") if curl.get(k)]
print("| row | TTFB ms, median (min–max) | ok | ÷ RTT | target | breakdown ms (÷ RTT): TCP / method / CONNECT reply / first byte |")
print("|---|---|---|---|---|---|")
for k in order:
    v = sorted(curl.get(k, []))
    n_err = len(errs.get(k, []))
    if v:
        m = statistics.median(v)
        cell = "%.1f (%.1f–%.1f)" % (m, v[0], v[-1])
        ratio = "%.2f" % (m / rtt)
        if k == "braidopt":
            target = "≤ 1.1 RTT: " + ("met" if m / rtt <= 1.1 else "**not met**")
        elif k in ("braid", "braidcoldopt") and peers:
            target = "≤ best peer: " + ("met" if m <= min(peers) else "**not met**")
        elif k == "braidpool":
            target = "– (≈ 2 RTT expected)"
        else:
            target = "–"
    else:
        cell, ratio, target = "–", "–", "–"
    s = steps.get(k, {})
    if "median" in s:
        md = s["median"]
        br = " / ".join("%.1f (%.2f)" % (md[x], md[x] / rtt) if x in md else "–" for x in ("tcp", "greet", "reply", "first"))
    else:
        br = "breakdown failed: %s" % (s.get("error") or s.get("errors") or "no data")
    okc = "%d/%d" % (len(v), len(v) + n_err)
    if n_err:
        okc += " (first error: %s)" % errs[k][0]
    print("| %s | %s | %s | %s | %s | %s |" % (label[k], cell, okc, ratio, target, br))
print()
names = {"braid": "braid cold", "braidcoldopt": "braid cold + optimistic reply", "braidpool": "braid pool",
         "braidopt": "braid pool + optimistic reply"}
for k in ("braid", "braidcoldopt", "braidpool", "braidopt"):
    if curl.get(k) and peers:
        print("- %s TTFB ÷ the best peer's: %.2f" % (names[k], statistics.median(curl[k]) / min(peers)))
for k, how in (("braid", "braid dials the concentrator (MPTCP handshake), runs TLS (a round trip each) and waits for"
                          " the concentrator's answer to the request header (one more)"),
               ("braidcoldopt", "braid dials and runs TLS, then answers at once; the request follows the header"),
               ("braidpool", "braid takes a pre-warmed connection (MPTCP established, TLS done) and waits only for the"
                             " concentrator's answer to the header"),
               ("braidopt", "braid answers at once from a pre-warmed connection; the request follows the header in the"
                            " same flight")):
    b = steps.get(k, {}).get("median")
    if b:
        print("- %s, round trips (ttfb.py medians): SOCKS5 to braid is local (method reply at %.1f ms); the CONNECT"
              " reply comes %.1f ms = %.2f RTT after the request — %s — and the first response byte %.1f ms = %.2f"
              " RTT after that. Total %.2f RTT."
              % (names[k], b["greet"], b["reply"] - b["greet"], (b["reply"] - b["greet"]) / rtt, how,
                 b["first"] - b["reply"], (b["first"] - b["reply"]) / rtt, b["first"] / rtt))
for k in ("microsocks", "dante"):
    s = steps.get(k, {}).get("median")
    if s:
        print("- %s: TCP %.2f RTT, method reply +%.2f, CONNECT reply +%.2f, first byte +%.2f RTT: one round trip per step,"
              " %.2f RTT in all." % (k, s["tcp"] / rtt, (s["greet"] - s["tcp"]) / rtt, (s["reply"] - s["greet"]) / rtt,
                                      (s["first"] - s["reply"]) / rtt, s["first"] / rtt))
EOF
echo "- TCP Fast Open (off by default: over MPTCP it stalls, docs/PROTOCOL.md) while the interleaved rows ran (nstat):"
echo "  data in $((TFO_A1 - TFO_A0)) SYN(s) sent by braid's namespace (TcpExtTCPFastOpenActive), $((TFO_P1 - TFO_P0)) accepted by the concentrator's."
declare -A SHORT=([braidpool]="braid pool" [braidopt]="braid pool + optimistic reply")
for id in braidpool braidopt; do
    [[ -n "${POOL_STATUS[$id]:-}" ]] && echo "- ${SHORT[$id]}: \`braid status\` after its rows: ${POOL_STATUS[$id]}"
done
for s in "${SKIPPED[@]}"; do echo "- skipped: $s"; done
for f in braid concentrator; do
    c=$(grep -ciE 'warn|error' "$TB_TMP/$f.log" 2>/dev/null)
    ((c)) && echo "- $f log: $c warn/error line(s); first: \`$(grep -iE 'warn|error' "$TB_TMP/$f.log" | head -1 | cut -c1-160)\`"
done
echo
exit 0
