#!/usr/bin/env bash
# Benchmark: failover stall on the namespace testbed (root only).
#
# Sources tests/integration/braid_lib.sh (and through it testbed.sh; neither
# modified): namespaces cli / conc / net, paths wifi0 (40 Mbit/s) and cell0
# (20 Mbit/s), MPTCP endpoints for both in cli. braid and the concentrator
# are started with braid_lib.sh's helpers (so whatever they need, e.g. TLS,
# comes from there).
#
# BENCH_FAILOVER_STREAMS streams (default 4), each BENCH_FAILOVER_RATE bit/s
# (default 1,000,000) in each direction at once (bench/failover_streams.py:
# paced 1,250-byte chunks carrying their send time; every read is
# timestamped by its receiver). After BENCH_FAILOVER_PRE s (default 5) Wi-Fi
# fails, and the streams go on for BENCH_FAILOVER_POST s more (default 15):
#   down       `ip link set wifi0 down` in cli (tb_cli_path_down): the laptop
#              knows at once, the concentrator side (veth peer) loses carrier
#   blackhole  nftables drops everything in and out of wifi0 in cli
#              (tb_blackhole): nobody is told, packets just vanish
# Each event is measured through braid (streams: cli → SOCKS5 → braid →
# concentrator → stream server in net at 10.31.9.2) and, as a reference,
# with kernel MPTCP alone (MPTCP sockets from cli straight to a stream
# server in conc at 10.31.1.1, no braid): if the reference stalls as long,
# the kernel is what limits braid.
# After each run Wi-Fi is restored and braid restarted (a fresh pool of
# connections to the concentrator, all with both subflows).
#
# Per run: the longest gap between two reads of any stream, download and
# upload, from 1 s after the start to the end (and the longest before the
# event: the noise floor); when that gap began relative to the event; the
# latest chunk (receive time − send time); delivered ÷ expected bytes;
# broken streams (an error or an early EOF at either end). Wi-Fi's share of
# the bytes in the 3 s before the event shows the failing path was in use.
# Target (issue 6): gap ≤ 1 s, no broken stream.
#
# Variant rows apply sysctls in cli and conc for one run (restored after):
#   BENCH_FAILOVER_VARIANTS="EVENT:VIA:sysctl=v[,sysctl=v] ..." (VIA braid|kernel;
#   EVENT down|blackhole, or down+rm|blackhole+rm: the same, then wifi0's MPTCP
#   endpoint deleted in cli BENCH_FAILOVER_RM_DELAY s later (default 0.3), as a
#   path manager that noticed the failure would; sysctls may be empty)
#   default: see DEFAULT_VARIANTS below. BENCH_FAILOVER_VARIANTS=none: none.
# BENCH_FAILOVER_ONLY=down-braid,bh-kernel,variant1,...: only those runs.
#
# stdout: a markdown section. stderr: progress. Exit: 0 done, 77 skipped
# ("SKIP: ..." on stderr), 1 error.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BIN=${BENCH_BIN_DIR:-$REPO/build/bin}
STREAMS=${BENCH_FAILOVER_STREAMS:-4}
RATE=${BENCH_FAILOVER_RATE:-1000000}
PRE=${BENCH_FAILOVER_PRE:-5}
POST=${BENCH_FAILOVER_POST:-15}
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=$(command -v python3)
LIBDIR=$REPO/tests/integration
TOOL="$HERE/failover_streams.py"
PORT_NET=9000
PORT_CONC=9001
RM_DELAY=${BENCH_FAILOVER_RM_DELAY:-0.3}
DEFAULT_VARIANTS="down:braid:net.mptcp.stale_loss_cnt=1 blackhole:braid:net.mptcp.stale_loss_cnt=1 down+rm:braid: blackhole+rm:braid:"

log() { printf '[%s] failover: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }

for v in STREAMS RATE PRE POST; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "BENCH_FAILOVER_$v must be a number" >&2; exit 1; }
done
((STREAMS >= 1 && STREAMS <= 32 && PRE >= 3 && PRE <= 60 && POST >= 2 && POST <= 120)) ||
    { echo "BENCH_FAILOVER_STREAMS 1..32, _PRE 3..60, _POST 2..120" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || skip "the namespace testbed needs root (network namespaces, tc, nftables)"
[[ -x "$BIN/braid" && -x "$BIN/braid-concentrator" ]] || skip "braid binaries not found in $BIN"
[[ -f "$LIBDIR/braid_lib.sh" ]] || skip "$LIBDIR/braid_lib.sh not found"
command -v nft >/dev/null 2>&1 || skip "nft (nftables) not found: needed for the blackhole"

export BRAID_BIN_DIR=$BIN BRAID_LOG_LEVEL=${BENCH_FAILOVER_LOG_LEVEL:-info} TB_BIG_MB=1 TB_QUIET=1
# shellcheck disable=SC1091
source "$LIBDIR/braid_lib.sh"
for f in testbed_up braid_start_concentrator braid_start_client braid_stop_client tb_cli_path_down \
         tb_cli_path_up tb_blackhole tb_spawn tb_tx_bytes in_cli; do
    declare -F "$f" >/dev/null || skip "the testbed library lacks function $f"
done

T_START=$(date +%s)
log "building the testbed (wifi0 $TB_WIFI_RATE, cell0 $TB_CELL_RATE); $STREAMS streams × $RATE bit/s each way, event after ${PRE}s, then ${POST}s"
testbed_up   # exits 77 itself when impossible; tears down at exit
TSV="$TB_TMP/failover.tsv"
: >"$TSV"

tb_spawn "$TB_NET" streams-net "$PY" "$TOOL" serve --bind "$TB_NET_IP" --port "$PORT_NET" --rate "$RATE" \
    --report "$TB_TMP/srv-net.jsonl"
tb_wait_port "$TB_NET" "$PORT_NET" 10 "$TB_LAST_PID"
tb_spawn "$TB_CONC" streams-conc "$PY" "$TOOL" serve --bind "$TB_CONC_WIFI_IP" --port "$PORT_CONC" --rate "$RATE" \
    --report "$TB_TMP/srv-conc.jsonl" --mptcp
tb_wait_port "$TB_CONC" "$PORT_CONC" 10 "$TB_LAST_PID"
braid_start_concentrator
braid_start_client

# ------------------------------------------------------------------ helpers
ns_sysctl_get() { ip netns exec "$1" sysctl -n "$2" 2>/dev/null; }

apply_sysctls() {  # "k=v,k=v" -> sets them in cli and conc; prints the restore list
    local spec="$1" kv k ns old undo=()
    IFS=, read -ra kvs <<<"$spec"
    for kv in "${kvs[@]}"; do
        [[ -n "$kv" ]] || continue
        k=${kv%%=*}
        for ns in "$TB_CLI" "$TB_CONC"; do
            old=$(ns_sysctl_get "$ns" "$k") || { log "sysctl $k does not exist in $ns"; continue; }
            undo+=("$ns|$k=$old")
            ip netns exec "$ns" sysctl -qw "$kv" >/dev/null || log "cannot set $kv in $ns"
        done
    done
    printf '%s\n' "${undo[@]}"
}

restore_sysctls() {  # lines "ns|k=v"
    local line
    while IFS= read -r line; do
        [[ -n "$line" ]] || continue
        ip netns exec "${line%%|*}" sysctl -qw "${line#*|}" >/dev/null
    done <<<"$1"
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + b > 0) printf "%d", 100 * a / (a + b); else print "–" }'; }

# run_one ID EVENT VIA SYSCTLS LABEL
run_one() {
    local id="$1" event="$2" via="$3" sysctls="$4" label="$5"
    if [[ -n "${BENCH_FAILOVER_ONLY:-}" && ",$BENCH_FAILOVER_ONLY," != *",$id,"* ]]; then return 0; fi
    local out="$TB_TMP/$id.client.json" report pid ev restore="" args
    log "$id: $label"
    printf 'kind=config\tid=%s\tlabel=%s\tevent=%s\tvia=%s\n' "$id" "$label" "$event" "$via" >>"$TSV"
    [[ -n "$sysctls" ]] && restore=$(apply_sysctls "$sysctls")
    if [[ "$via" == braid ]]; then
        # A fresh braid: its pool of connections to the concentrator was
        # made with both paths up, so every stream starts with two subflows.
        braid_stop_client
        braid_start_client
        sleep 2
        report="$TB_TMP/srv-net.jsonl"
        args=(--dest "$TB_NET_IP:$PORT_NET" --socks "127.0.0.1:$BRAID_SOCKS_PORT")
    else
        report="$TB_TMP/srv-conc.jsonl"
        args=(--dest "$TB_CONC_WIFI_IP:$PORT_CONC" --mptcp)
    fi
    local cap=""
    if [[ "${BENCH_FAILOVER_CAPTURE:-0}" == 1 ]] && command -v tcpdump >/dev/null 2>&1; then
        # Diagnostic: headers on cell0 in cli (keep them with TB_KEEP_TMP=1).
        in_cli timeout $((PRE + POST + 10)) tcpdump -i cell0 -n -s 128 -w "$TB_TMP/$id.cell0.pcap" \
            >/dev/null 2>&1 &
        cap=$!
    fi
    in_cli "$PY" "$TOOL" run "${args[@]}" --streams "$STREAMS" --rate "$RATE" --seconds $((PRE + POST)) \
        --out "$out" 2>"$TB_TMP/$id.client.err" &
    pid=$!
    sleep $((PRE - 3))
    local w0a c0a wia cea w0b c0b wib ceb
    w0a=$(tb_tx_bytes "$TB_CONC" w0) c0a=$(tb_tx_bytes "$TB_CONC" c0)
    wia=$(tb_tx_bytes "$TB_CLI" wifi0) cea=$(tb_tx_bytes "$TB_CLI" cell0)
    sleep 3
    w0b=$(tb_tx_bytes "$TB_CONC" w0) c0b=$(tb_tx_bytes "$TB_CONC" c0)
    wib=$(tb_tx_bytes "$TB_CLI" wifi0) ceb=$(tb_tx_bytes "$TB_CLI" cell0)
    ev=$(date +%s.%N)
    case "$event" in
        down | down+rm) tb_cli_path_down wifi0 ;;
        blackhole | blackhole+rm) tb_blackhole "$TB_CLI" wifi0 on ;;
    esac
    if [[ "$event" == *+rm ]]; then
        # What an explicit path-manager signal does: delete wifi0's MPTCP
        # endpoint in cli shortly after the failure (the kernel then sends
        # REMOVE_ADDR over cell0 and both ends close the wifi0 subflow).
        sleep "$RM_DELAY"
        ip -n "$TB_CLI" mptcp endpoint delete address "$TB_CLI_WIFI_IP" 2>/dev/null ||
            log "$id: could not delete the wifi0 endpoint"
    fi
    log "$id: wifi0 $event at +${PRE}s"
    local waited=0
    while kill -0 "$pid" 2>/dev/null && ((waited < (POST + 40) * 10)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
    wait "$pid"
    local rc=$?
    [[ -n "$cap" ]] && { kill -INT "$cap" 2>/dev/null; wait "$cap" 2>/dev/null; }
    [[ -n "$cap" ]] && echo "$ev" >"$TB_TMP/$id.event"
    case "$event" in
        down | down+rm) tb_cli_path_up wifi0 || log "could not bring wifi0 back" ;;
        blackhole | blackhole+rm) tb_blackhole "$TB_CLI" wifi0 off ;;
    esac
    if [[ "$event" == *+rm ]] && ! ip -n "$TB_CLI" mptcp endpoint show | grep -q "$TB_CLI_WIFI_IP "; then
        ip -n "$TB_CLI" mptcp endpoint add "$TB_CLI_WIFI_IP" dev wifi0 subflow ||
            log "$id: could not restore the wifi0 endpoint"
    fi
    [[ -n "$restore" ]] && restore_sysctls "$restore"
    sleep 1  # the server writes its records when the streams end
    local share="wifi0 share before the event: down $(pct $((w0b - w0a)) $((c0b - c0a)))%, up $(pct $((wib - wia)) $((ceb - cea)))%"
    local sum
    if ((rc == 0)) && sum=$("$PY" "$TOOL" summary --client "$out" --server "$report" --event "$ev" --rate "$RATE" 2>&1); then
        printf 'kind=run\tid=%s\tok=1\t%s\tshare=%s\n' "$id" "$sum" "$share" >>"$TSV"
        log "$id: $(tr '\t' ' ' <<<"$sum" | cut -c1-200)"
    else
        local err
        err=$(cat "$TB_TMP/$id.client.err" 2>/dev/null; echo "$sum" 2>/dev/null)
        printf 'kind=run\tid=%s\tok=0\terr=%s\tshare=%s\n' "$id" "$(tr '\n\t' '  ' <<<"$err" | cut -c1-240)" "$share" >>"$TSV"
        log "$id: FAILED (exit $rc): $(tail -n 2 "$TB_TMP/$id.client.err" 2>/dev/null | tr '\n' ' ')"
    fi
    sleep 2  # let the restored path come back (carrier, routes, endpoints)
}

# ------------------------------------------------------------------ runs
run_one down-braid down braid "" "Wi-Fi link down — braid (SOCKS5 → concentrator)"
run_one down-kernel down kernel "" "Wi-Fi link down — kernel MPTCP, no braid (reference)"
run_one bh-braid blackhole braid "" "Wi-Fi blackhole — braid (SOCKS5 → concentrator)"
run_one bh-kernel blackhole kernel "" "Wi-Fi blackhole — kernel MPTCP, no braid (reference)"
variants=${BENCH_FAILOVER_VARIANTS:-$DEFAULT_VARIANTS}
[[ "$variants" == none ]] && variants=""
n=0
for v in $variants; do
    IFS=: read -r event via sysctls <<<"$v"
    [[ "$event" =~ ^(down|blackhole)(\+rm)?$ ]] && [[ "$via" == braid || "$via" == kernel ]] ||
        { log "ignoring variant '$v' (want EVENT:VIA:k=v,...)"; continue; }
    n=$((n + 1))
    name="Wi-Fi link down"
    [[ "$event" == blackhole* ]] && name="Wi-Fi blackhole"
    [[ "$event" == *+rm ]] && name+=" + wifi0 endpoint deleted ${RM_DELAY}s later"
    who="braid"
    [[ "$via" == kernel ]] && who="kernel MPTCP"
    label="$name — $who"
    [[ -n "$sysctls" ]] && label+=", with \`${sysctls//,/ }\` in cli and conc"
    run_one "variant$n" "$event" "$via" "$sysctls" "$label"
done

braid_alive=1
{ [[ -n "$BRAID_CLIENT_PID" ]] && tb_alive "$BRAID_CLIENT_PID"; } || braid_alive=0
{ [[ -n "$BRAID_CONC_PID" ]] && tb_alive "$BRAID_CONC_PID"; } || braid_alive=0

# ------------------------------------------------------------------ report
echo "### Failover stall (namespace testbed)"
echo
echo "$STREAMS streams through the same path, each $((RATE / 1000)) kbit/s in **both directions at once**" \
     "(\`bench/failover_streams.py\`: paced 1,250-byte chunks carrying their send time; every read timestamped by" \
     "its receiver); paths wifi0 $TB_WIFI_RATE and cell0 $TB_CELL_RATE (tbf, no added delay), so either path" \
     "alone carries all of it. After ${PRE} s Wi-Fi fails in cli and the streams run ${POST} s more." \
     "**gap** = the longest time between two reads of any stream (from 1 s after the start to the end)," \
     "\"from\" = when it began, seconds after the failure; the chunks arrive every 10 ms, so the noise floor" \
     "(longest gap before the failure) is ≈ 0.01–0.05 s. **late** = the largest receive − send time of a chunk." \
     "**delivered** = bytes received ÷ rate × duration. **broken** = streams that saw an error or an early EOF" \
     "at either end. Target (issue 6): gap ≤ 1 s and no broken stream, through braid."
echo
"$PY" - "$TSV" <<'EOF'
import sys
rows = []
for line in open(sys.argv[1]):
    d = {}
    for f in line.rstrip("\n").split("\t"):
        k, _, v = f.partition("=")
        d[k] = v
    rows.append(d)
cfg = [r for r in rows if r.get("kind") == "config"]
runs = {r["id"]: r for r in rows if r.get("kind") == "run"}
print("| run | gap down s (from) | gap up s (from) | before the failure down / up s | late down / up s | delivered down / up | broken | target | notes |")
print("|---|---|---|---|---|---|---|---|---|")
fails = []
for c in cfg:
    r = runs.get(c["id"])
    if not r or r.get("ok") != "1":
        print(f"| {c['label']} | fail | – | – | – | – | – | – | {r.get('share', '') if r else ''} |")
        fails.append(f"{c['label']}: {r.get('err', 'no result') if r else 'no result'}")
        continue
    gd, gu = float(r["gap_down"]), float(r["gap_up"])
    broken = int(r["broken"])
    target = ""
    if c["via"] == "braid":
        ok = max(gd, gu) <= 1.0 and broken == 0
        target = "gap ≤ 1 s, none broken: " + ("met" if ok else "**not met**")
    notes = r.get("share", "")
    if r.get("notes"):
        notes += "; " + r["notes"]
    print(f"| {c['label']} | **{gd:.2f}** ({float(r['gap_down_from']):+.2f}) | **{gu:.2f}** ({float(r['gap_up_from']):+.2f}) | "
          f"{float(r['gap_down_before']):.2f} / {float(r['gap_up_before']):.2f} | {float(r['late_down']):.2f} / {float(r['late_up']):.2f} | "
          f"{float(r['delivered_down']):.2f} / {float(r['delivered_up']):.2f} | {broken} of {r['streams']} | {target} | {notes} |")
if fails:
    print("\nFailed runs:\n")
    for f in fails:
        print(f"- {f}")
EOF
echo
echo "- sysctls in both namespaces during the runs: $(for k in net.mptcp.stale_loss_cnt net.ipv4.tcp_retries2 net.mptcp.pm_type; do
    printf '%s=%s ' "$k" "$(ns_sysctl_get "$TB_CLI" "$k")"; done)(cli; conc alike unless a variant row says otherwise)"
w=$(grep -ciE 'warn|error' "$TB_TMP/braid.log" 2>/dev/null)
echo "- braid log (--log-level $BRAID_LOG_LEVEL): ${w:-0} warn/error line(s)$( ((${w:-0})) && printf '; first: `%s`' "$(grep -iE 'warn|error' "$TB_TMP/braid.log" | head -1 | cut -c1-160)")"
w=$(grep -ciE 'warn|error' "$TB_TMP/concentrator.log" 2>/dev/null)
echo "- concentrator log: ${w:-0} warn/error line(s)$( ((${w:-0})) && printf '; first: `%s`' "$(grep -iE 'warn|error' "$TB_TMP/concentrator.log" | head -1 | cut -c1-160)")"
((braid_alive)) || echo "- **braid or the concentrator was not running at the end**"
echo "- part took $(($(date +%s) - T_START)) s"
echo
exit 0
