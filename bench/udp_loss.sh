#!/usr/bin/env bash
# Benchmark 4: SOCKS5 UDP under random loss on the namespace testbed (root only).
#
# Sources tests/integration/udp_lib.sh (and through it braid_lib.sh and
# testbed.sh): namespaces cli / conc / net, paths wifi0 and cell0 (shaped
# 40 / 20 Mbit/s by default), the UDP echo server (udp_echo_server.py) on
# 10.31.9.2:7 in net. Three scenarios (BENCH_UDP_SCENARIOS, in this order):
#
#   nodelay  nftables in cli drops BENCH_UDP_LOSS % (default 5) of the packets
#            at random on each path, in each direction, independently
#            (`numgen random mod 100 < N drop` in the netdev ingress and egress
#            hooks of wifi0 and cell0, so drops are silent); no added delay.
#   delay    braid-link-emu on both paths (`tb_emulate`): one-way delay
#            BENCH_UDP_DELAY_WIFI ms on wifi0 (default 10) and
#            BENCH_UDP_DELAY_CELL ms on cell0 (default 40), both directions,
#            and BENCH_UDP_LOSS % random loss in the emulator, per path and
#            direction, independently.
#   delay-clean  the same delays; BENCH_UDP_LOSS % loss on cell0 (the slow
#            path) only, wifi0 loses nothing: here "redundant's p99 within
#            10 % of the faster path's" is a target that can hold (with loss on
#            the fast path it cannot, see the table's notes). No framed row.
#
# bench/udp_loss.py sends BENCH_UDP_COUNT datagrams (default 1000, 160 bytes)
# every BENCH_UDP_INTERVAL s (default 0.01) with a sequence number and send
# time, and records which came back and their round-trip time. Variants:
#   direct-wifi  no braid: a socket bound to 10.31.1.2 (wifi0) → 10.31.9.2 via conc's forwarding
#   direct-cell  the same bound to 10.31.2.2 (cell0)
#   framed       braid, "udp": {"carrier": "framed", "rules": []}
#   lowest-rtt   braid, "udp": {"carrier": "datagram", "scheduler": "lowest-rtt", "rules": []}
#   redundant    braid, "udp": {"preset": "realtime", "rules": []}
# Per variant: % lost or later than 100 ms, p50 / p99 / max RTT.
# Targets (issue 5): redundant's effective loss ≤ 2 × (wifi round-trip loss ×
# cell round-trip loss), both measured by the direct rows of the same run;
# with delays, also redundant's p99 within 10 % of the faster path's direct p99.
#
# stdout: a markdown section. stderr: progress.
# Exit: 0 done, 77 skipped ("SKIP: ..." on stderr), 1 error.
#
# Environment:
#   BENCH_BIN_DIR         braid, braid-concentrator, braid-link-emu (default <repo>/build/bin)
#   BENCH_UDP_COUNT       datagrams per variant (default 1000, at most 5000)
#   BENCH_UDP_INTERVAL    seconds between datagrams (default 0.01)
#   BENCH_UDP_LOSS        % dropped per path and direction (default 5)
#   BENCH_UDP_SCENARIOS   "nodelay delay delay-clean" (default), or some of them
#   BENCH_UDP_VARIANTS    the variants to run (default all: direct-wifi direct-cell framed lowest-rtt redundant)
#   BENCH_UDP_DUMP_DIR    keep per-datagram RTTs there (SCENARIO-VARIANT.txt: seq send_ms rtt_ms)
#   BENCH_UDP_CLIENT_CFG  more fields for braid's config, e.g. '"pool": false'
#   BENCH_UDP_DELAY_WIFI  one-way delay on wifi0 in the delay scenario (default 10 ms)
#   BENCH_UDP_DELAY_CELL  one-way delay on cell0 in the delay scenario (default 40 ms)
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BIN=${BENCH_BIN_DIR:-$REPO/build/bin}
COUNT=${BENCH_UDP_COUNT:-1000}
INTERVAL=${BENCH_UDP_INTERVAL:-0.01}
LOSS=${BENCH_UDP_LOSS:-5}
SCENARIOS=${BENCH_UDP_SCENARIOS:-nodelay delay delay-clean}
VARIANTS=${BENCH_UDP_VARIANTS:-direct-wifi direct-cell framed lowest-rtt redundant}
DUMP_DIR=${BENCH_UDP_DUMP_DIR:-}
CLIENT_CFG=${BENCH_UDP_CLIENT_CFG:-}  # more client config fields, e.g. '"pool": false'
DW=${BENCH_UDP_DELAY_WIFI:-10}
DC=${BENCH_UDP_DELAY_CELL:-40}
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=$(command -v python3)
LIBDIR=$REPO/tests/integration
DEADLINE_MS=100

log() { printf '[%s] udp_loss: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }
has_sc() { [[ " $SCENARIOS " == *" $1 "* ]]; }

[[ "$COUNT" =~ ^[0-9]+$ ]] && ((COUNT >= 10 && COUNT <= 5000)) || { echo "BENCH_UDP_COUNT must be 10..5000" >&2; exit 1; }
[[ "$LOSS" =~ ^[0-9]+$ ]] && ((LOSS >= 0 && LOSS <= 50)) || { echo "BENCH_UDP_LOSS must be 0..50" >&2; exit 1; }
[[ "$INTERVAL" =~ ^0?\.[0-9]+$ ]] || { echo "BENCH_UDP_INTERVAL must be a fraction of a second, e.g. 0.01" >&2; exit 1; }
[[ "$DW" =~ ^[0-9]+$ && "$DC" =~ ^[0-9]+$ ]] || { echo "BENCH_UDP_DELAY_WIFI/CELL must be whole ms" >&2; exit 1; }
for sc in $SCENARIOS; do
    [[ "$sc" == nodelay || "$sc" == delay || "$sc" == delay-clean ]] ||
        { echo "BENCH_UDP_SCENARIOS: nodelay, delay and/or delay-clean, got '$sc'" >&2; exit 1; }
done
[[ "$(id -u)" == 0 ]] || skip "the namespace testbed needs root (network namespaces, tc, nftables)"
[[ -x "$BIN/braid" && -x "$BIN/braid-concentrator" ]] || skip "braid binaries not found in $BIN"
[[ -f "$LIBDIR/udp_lib.sh" ]] || skip "$LIBDIR/udp_lib.sh not found"
"$PY" -c 'import socks' 2>/dev/null || skip "python3-socks (PySocks) is not installed for $PY"
SKIPPED=()
RUN=""
for sc in nodelay delay delay-clean; do
    has_sc "$sc" || continue
    if [[ "$sc" == nodelay ]] && ! command -v nft >/dev/null 2>&1; then
        SKIPPED+=("no-delay scenario: nft (nftables) not found")
    elif [[ "$sc" == delay* && ! -x "$BIN/braid-link-emu" ]]; then
        SKIPPED+=("$sc scenario: braid-link-emu not found in $BIN (tests/tools)")
    else
        RUN+=" $sc"
    fi
done
SCENARIOS=$RUN
[[ -n "$SCENARIOS" ]] || skip "nothing to run: ${SKIPPED[*]}"

export BRAID_BIN_DIR=$BIN BRAID_LOG_LEVEL=info TB_BIG_MB=1 TB_QUIET=1 TB_LINK_EMU=$BIN/braid-link-emu
# shellcheck disable=SC1091
source "$LIBDIR/udp_lib.sh"
for f in testbed_up braid_start_concentrator braid_stop_concentrator braid_start_client braid_stop_client \
         braid_write_config udp_start_echo in_cli; do
    declare -F "$f" >/dev/null || skip "the testbed library lacks function $f"
done
if has_sc delay || has_sc delay-clean; then
    for f in tb_emulate tb_emulate_ctl tb_emulate_stats; do
        declare -F "$f" >/dev/null || skip "the testbed library lacks function $f"
    done
fi

# (seconds each stream takes, for the timeout)
STREAM_S=$(awk -v n="$COUNT" -v i="$INTERVAL" 'BEGIN { printf "%d", n * i + 0.999 }')
log "building the testbed (wifi0 $TB_WIFI_RATE, cell0 $TB_CELL_RATE); scenarios:$SCENARIOS;" \
    "$COUNT datagrams every ${INTERVAL}s per variant (~${STREAM_S}s each)"
testbed_up   # exits 77 itself when impossible; tears down at exit
udp_start_echo
braid_start_concentrator

# ---- loss without delay: nftables in cli
# netdev ingress / egress hooks of the two interfaces: the drop is silent, like
# loss out in the network. (A drop in the inet output hook would make the
# sender's sendto() fail with EPERM, which braid notices and answers by sending
# that datagram framed: not loss.) IPv4 only, so ARP is not disturbed.
{
    for dev in wifi0 cell0; do
        cat <<EOF
table netdev braid_bench_loss_$dev {
    chain out {
        type filter hook egress device "$dev" priority 0; policy accept;
        meta protocol ip counter
        meta protocol ip numgen random mod 100 < $LOSS counter drop
    }
    chain in {
        type filter hook ingress device "$dev" priority 0; policy accept;
        meta protocol ip counter
        meta protocol ip numgen random mod 100 < $LOSS counter drop
    }
}
EOF
    done
} >"$TB_TMP/loss.nft"
nft_loss_on() { in_cli nft -f "$TB_TMP/loss.nft"; }
nft_loss_off() {
    in_cli nft delete table netdev braid_bench_loss_wifi0 2>/dev/null || true
    in_cli nft delete table netdev braid_bench_loss_cell0 2>/dev/null || true
}
# nft_loss_counters: "DEV out dropped/seen, in dropped/seen; ..." from the tables' counters
nft_loss_counters() {
    local dev
    for dev in wifi0 cell0; do
        in_cli nft list table netdev "braid_bench_loss_$dev" 2>/dev/null | awk -v dev="$dev" '
            $1 == "chain" { dir = $2 }
            /counter packets/ {
                for (i = 1; i <= NF; i++) if ($i == "packets") n = $(i + 1)
                if ($0 ~ /drop/) d[dir] = n; else s[dir] = n
            }
            END { printf "%s out %d/%d, in %d/%d; ", dev, d["out"], s["out"], d["in"], s["in"] }'
    done
}

# ---- loss with delay: the link emulator's own random loss
emu_loss_on() {
    tb_emulate_ctl wifi0 reset >/dev/null && tb_emulate_ctl cell0 reset >/dev/null &&
        tb_emulate wifi0 loss="$LOSS" && tb_emulate cell0 loss="$LOSS"
}
emu_loss_off() { tb_emulate wifi0 loss=0; tb_emulate cell0 loss=0; }
# delay-clean: the same emulators, loss on the slow path only
emuslow_loss_on() {
    tb_emulate_ctl wifi0 reset >/dev/null && tb_emulate_ctl cell0 reset >/dev/null &&
        tb_emulate wifi0 loss=0 && tb_emulate cell0 loss="$LOSS"
}
emuslow_loss_off() { emu_loss_off; }
emuslow_loss_counters() { emu_loss_counters; }
# emu_loss_counters: "DEV up dropped/in, down dropped/in; ..." from the emulators' counters
emu_loss_counters() {
    local p
    for p in wifi0 cell0; do
        tb_emulate_stats "$p" 2>/dev/null | awk -v dev="$p" '
            $1 == "a2b" || $1 == "b2a" {
                for (i = 1; i <= NF; i++) {
                    split($i, a, "=")
                    if (a[1] == "in") n[$1] = a[2]
                    if (a[1] == "drop_loss") d[$1] = a[2]
                }
            }
            END { printf "%s up %d/%d, down %d/%d; ", dev, d["a2b"], n["a2b"], d["b2a"], n["b2a"] }'
    done
}

PATHS_CFG='"paths": {"wifi0": {"kind": "wifi"}, "cell0": {"kind": "cellular"}}'
declare -A RES NOTE LABEL
ORDER=(direct-wifi direct-cell framed lowest-rtt redundant)
LABEL[direct-wifi]="direct UDP on wifi0, no braid (socket bound to $TB_CLI_WIFI_IP)"
LABEL[direct-cell]="direct UDP on cell0, no braid (socket bound to $TB_CLI_CELL_IP)"
LABEL[framed]='braid framed (`{"carrier": "framed", "rules": []}`)'
LABEL[lowest-rtt]='braid datagram lowest-rtt (`{"carrier": "datagram", "scheduler": "lowest-rtt", "rules": []}`)'
LABEL[redundant]='braid datagram redundant (`{"preset": "realtime", "rules": []}`)'
LOSS_KIND=nft

run_variant() {  # ID ARGS... (udp_loss.py arguments)
    local id="$1" out rc mark line
    shift
    mark=0
    [[ "$id" == direct-* ]] || mark=$(udp_log_mark braid)
    "${LOSS_KIND}_loss_on" || { RES[$id]=""; NOTE[$id]="could not switch the random loss on ($LOSS_KIND)"; return; }
    local dump=()
    [[ -n "$DUMP_DIR" ]] && dump=(--dump "$DUMP_DIR/$CUR_SC-$id.txt")
    out=$(timeout -k 5 $((STREAM_S + 30)) ip netns exec "$TB_CLI" "$PY" -u "$HERE/udp_loss.py" \
        --dest "$UDP_ECHO" --count "$COUNT" --interval "$INTERVAL" --deadline-ms "$DEADLINE_MS" "${dump[@]}" "$@" \
        2>"$TB_TMP/$id.err")
    rc=$?
    if [[ "$LOSS_KIND" == nft ]]; then
        NOTE[$id]="nft drops (dropped/seen): $(nft_loss_counters)"
    else
        NOTE[$id]="emulator drops (dropped/in): $(emu_loss_counters)"
    fi
    "${LOSS_KIND}_loss_off"
    if ((rc != 0)) || [[ "$out" != \{* ]]; then
        RES[$id]=""
        NOTE[$id]="FAILED (exit $rc): $(tail -n 3 "$TB_TMP/$id.err" | tr '\n' ' ')"
        log "$id: ${NOTE[$id]}"
        return
    fi
    RES[$id]=$out
    if [[ "$id" != direct-* ]]; then
        sleep 0.5  # (braid logs the association's end after the client closes it)
        line=$(udp_log_since braid "$mark" | grep -oE 'datagram carrier \(association [0-9]+\):.*' | tail -n1)
        [[ -n "$line" ]] && NOTE[$id]+=" braid: ${line#*: }"
        [[ -z "$line" && "$id" != framed ]] && NOTE[$id]+=" (braid logged no datagram-carrier line: datagram carrier not used?)"
    fi
    log "$id: $out"
}

start_braid() {  # UDP-CONFIG-JSON
    braid_stop_client
    braid_write_config "{$PATHS_CFG, ${CLIENT_CFG:+$CLIENT_CFG, }\"udp\": $1}"
    braid_start_client
}

has_variant() { [[ " $VARIANTS " == *" $1 "* ]]; }

# run_scenario NAME: the variants; results in $TB_TMP/udp_loss-NAME.tsv
run_scenario() {
    local sc="$1" id
    CUR_SC=$sc
    RES=() NOTE=()
    if has_variant direct-wifi; then
        log "[$sc] variant direct-wifi"
        run_variant direct-wifi --bind "$TB_CLI_WIFI_IP"
    fi
    if has_variant direct-cell; then
        log "[$sc] variant direct-cell"
        run_variant direct-cell --bind "$TB_CLI_CELL_IP"
    fi
    # (framed says nothing about the p99 target delay-clean is for)
    if has_variant framed && [[ "$sc" != delay-clean ]]; then
        log "[$sc] variant framed"
        start_braid '{"carrier": "framed", "rules": []}'
        run_variant framed --proxy "$BRAID_SOCKS"
    fi
    if has_variant lowest-rtt; then
        log "[$sc] variant lowest-rtt"
        start_braid '{"carrier": "datagram", "scheduler": "lowest-rtt", "rules": []}'
        run_variant lowest-rtt --proxy "$BRAID_SOCKS"
    fi
    if has_variant redundant; then
        log "[$sc] variant redundant"
        start_braid '{"preset": "realtime", "rules": []}'
        run_variant redundant --proxy "$BRAID_SOCKS"
    fi
    braid_check_alive
    braid_stop_client
    : >"$TB_TMP/udp_loss-$sc.tsv"
    for id in "${ORDER[@]}"; do
        has_variant "$id" || continue
        [[ "$sc" == delay-clean && "$id" == framed ]] && continue
        printf '%s\t%s\t%s\t%s\n' "$id" "${LABEL[$id]}" "${RES[$id]:-}" "${NOTE[$id]:-}" >>"$TB_TMP/udp_loss-$sc.tsv"
    done
}

T0=$(date +%s)
EMULATED=0
[[ -n "$DUMP_DIR" ]] && mkdir -p "$DUMP_DIR"
for sc in nodelay delay delay-clean; do
    has_sc "$sc" || continue
    if [[ "$sc" == delay* ]]; then
        if ((!EMULATED)); then
            # The emulator goes in between cli and conc on both paths. That re-creates
            # conc's side of each path, so the concentrator is restarted around it.
            braid_stop_concentrator
            tb_emulate wifi0 delay="$DW" loss=0
            tb_emulate cell0 delay="$DC" loss=0
            braid_start_concentrator
            EMULATED=1
        fi
        LOSS_KIND=emu
        [[ "$sc" == delay-clean ]] && LOSS_KIND=emuslow
    else
        LOSS_KIND=nft
    fi
    run_scenario "$sc"
done
ELAPSED=$(($(date +%s) - T0))

# ------------------------------------------------------------------ report
report() {  # SCENARIO
    "$PY" - "$TB_TMP/udp_loss-$1.tsv" "$DEADLINE_MS" "$LOSS" "$1" <<'EOF'
import json, sys
tsv, deadline, loss, sc = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
rows = {}
order = []
for line in open(tsv):
    idv, label, res, note = (line.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
    order.append(idv)
    rows[idv] = (label, json.loads(res) if res else None, note)
f = lambda v: "–" if v is None else ("%.2f" % v)
print("| variant | sent | answered | lost or > %s ms | p50 RTT ms | p99 RTT ms | max RTT ms | notes |" % deadline)
print("|---|---|---|---|---|---|---|---|")
for idv in order:
    label, r, note = rows[idv]
    if r is None:
        print("| %s | – | – | – | – | – | – | %s |" % (label, note))
        continue
    extra = "%d lost, %d late" % (r["lost"], r["late"])
    if r.get("send_errors"):
        extra += ", %d sends failed" % r["send_errors"]
    if r["dups"]:
        extra += ", %d duplicate replies" % r["dups"]
    bursts = r.get("late_bursts") or []
    if bursts:
        # One long run is a stall somewhere (a queue, a path switch); many
        # single ones are datagrams that took the slow path.
        extra += " (late in %d run%s: %s)" % (len(bursts), "" if len(bursts) == 1 else "s", ", ".join(
            ("#%d" % b["first"]) if b["n"] == 1 else ("#%d–%d ×%d" % (b["first"], b["last"], b["n"])) for b in bursts[:6])
            + (", …" if len(bursts) > 6 else ""))
    print("| %s | %d | %d | **%.2f %%** | %s | %s | %s | %s; %s |" % (
        label, r["sent"], r["answered"], r["lost_or_late_pct"], f(r["p50_ms"]), f(r["p99_ms"]), f(r["max_ms"]), extra, note))
print()
exp = 100 * (1 - (1 - loss / 100) ** 2)
if sc == "delay-clean":
    print("- expected round-trip loss: wifi0 none; cell0 1 − (1 − %.0f %%)² = %.2f %%" % (loss, exp))
else:
    print("- expected round-trip loss of one path: 1 − (1 − %.0f %%)² = %.2f %%; of both paths at once: %.3f %%"
          % (loss, exp, exp * exp / 100))
w, c, red = (rows.get(k, (None, None, None))[1] for k in ("direct-wifi", "direct-cell", "redundant"))
if w and c and red:
    lw, lc = w["lost_pct"] / 100, c["lost_pct"] / 100
    prod = 100 * lw * lc
    target = 2 * prod
    got = red["lost_or_late_pct"]
    print("- target (issue 5): redundant's effective loss ≤ 2× the product of the two path loss rates: measured"
          " path losses %.2f %% (wifi0) × %.2f %% (cell0) = %.3f %% → target ≤ %.2f %%; redundant: %.2f %% → %s"
          % (100 * lw, 100 * lc, prod, target, got, "met" if got <= target else "**not met**"))
    if red["lost"] == 0 and red["late"] == 0:
        print("- redundant lost nothing: with %d datagrams the resolution is %.2f %%, so \"met\" says the loss is below"
              " about that, not that it is below the target itself" % (red["sent"], 100 / red["sent"]))
    if sc.startswith("delay") and w["p50_ms"] is not None and c["p50_ms"] is not None:
        fast, slow, fname = (w, c, "wifi0") if w["p50_ms"] <= c["p50_ms"] else (c, w, "cell0")
        if fast["p99_ms"] is not None and red["p99_ms"] is not None:
            lim = 1.1 * fast["p99_ms"]
            print("- target (issue 5): redundant's p99 within 10 %% of the faster path's (%s) direct p99: %.2f ms → ≤ %.2f ms;"
                  " redundant %.2f ms → %s" % (fname, fast["p99_ms"], lim, red["p99_ms"], "met" if red["p99_ms"] <= lim else "**not met**"))
            fl = fast["lost_pct"]
            if fl == 0:
                print("- here the fast path loses nothing, so its direct p99 is over every datagram and the target is"
                      " meaningful: redundant p99 / %s direct p99 = %.3f" % (fname, red["p99_ms"] / fast["p99_ms"]))
        if fast["p99_ms"] is not None and red["p99_ms"] is not None and fast["lost_pct"] > 0:
            fl = fast["lost_pct"]
            print("- reading that p99: the fast path's direct p99 is taken over *its answered* datagrams, so its %.2f %%"
                  " lost ones do not count. redundant answers those too, but a copy that went up or down the slow path"
                  " arrives %.0f–%.0f ms later than the fast round trip; once more than 1 %% of round trips lose a"
                  " fast-path copy, redundant's p99 is set by the slow path. Counting lost datagrams as infinitely"
                  " late, the fast path's own p99 would be ∞ (%.2f %% > 1 %%), redundant's is %.2f ms."
                  % (fl, (slow["p50_ms"] - fast["p50_ms"]) / 2, slow["p50_ms"] - fast["p50_ms"], fl, red["p99_ms"]))
else:
    print("- target (issue 5): redundant's effective loss ≤ 2× the product of the path loss rates: not evaluated (a variant failed)")
EOF
}

echo "### 4. UDP under random loss (${LOSS}% per path and direction)"
echo
echo "Client: \`bench/udp_loss.py\` in cli, $COUNT datagrams of 160 bytes every ${INTERVAL}s per variant, echo"
echo "server on $UDP_ECHO in net; braid in cli → concentrator in conc; paths shaped wifi0 $TB_WIFI_RATE /"
echo "cell0 $TB_CELL_RATE (tbf). \"lost or > ${DEADLINE_MS} ms\" = unanswered plus answered after ${DEADLINE_MS} ms (a real-time"
echo "app would have given up on them), ÷ sent; p50 / p99 / max RTT over the answered ones. Notes: the loss"
echo "counters of the variant's run and braid's end-of-association line (datagrams per path, duplicates dropped)."
echo
if has_sc delay; then
    echo "#### (a) wifi0 $DW ms and cell0 $DC ms one way; ${LOSS} % loss per path and direction in the link emulator"
    echo
    echo "braid-link-emu on both paths (\`tb_emulate\`): fixed delay in each direction (round trip $((2 * DW)) /"
    echo "$((2 * DC)) ms), independent random loss per packet, direction and path."
    echo
    report delay
    echo
fi
if has_sc delay-clean; then
    echo "#### (c) the same delays; ${LOSS} % loss on cell0 (the slow path) only, none on wifi0"
    echo
    echo "Where issue 5's \"redundant's p99 within 10 % of the faster path's\" can hold: every datagram has a"
    echo "copy on the fast path that arrives, so the slow copies only matter for cell0's own losses (masked)."
    echo
    report delay-clean
    echo
fi
if has_sc nodelay; then
    echo "#### (b) no added delay; ${LOSS} % loss per path and direction by nftables"
    echo
    echo "nftables in cli drops ${LOSS}% of packets at random on wifi0 and on cell0, in and out, independently"
    echo "(netdev ingress/egress hooks, \`numgen random mod 100 < $LOSS drop\`, IPv4 only). RTTs are the testbed's"
    echo "sub-millisecond base plus queueing, so \"later than ${DEADLINE_MS} ms\" mostly measures recovery (TCP"
    echo "retransmits for framed)."
    echo
    report nodelay
    echo
fi
echo "- the part took ${ELAPSED} s after the testbed was up"
for s in "${SKIPPED[@]}"; do echo "- skipped: $s"; done
echo
