#!/usr/bin/env bash
# Bonding: one 20 MiB download through Braid's SOCKS5 proxy with wifi shaped
# to 40 Mbit/s and cell to 20 Mbit/s must use both paths. Each path must carry
# at least BOND_MIN_SHARE percent (default 20) of the bytes, measured twice:
#  (a) braid's own per-subflow telemetry: the client logs, when an upstream
#      connection closes, one line per subflow:
#        subflow-stats session=<id> local=<ip>:<port> remote=<ip>:<port>
#          bytes_sent=<n> bytes_received=<n> bytes_acked=<n> rtt_us=<n>
#      bytes_received is summed per local address (10.31.1.2 = wifi0,
#      10.31.2.2 = cell0) over the download's session. Missing lines = failure.
#  (b) the kernel's interface counters in cli: rx bytes of wifi0 and cell0
#      before/after the download (`ip -s -j link`).
# The two must also agree with each other (same path carries the larger share)
# and with the file size (sum >= file size).
set -uo pipefail
: "${TB_WIFI_RATE:=40mbit}"
: "${TB_CELL_RATE:=20mbit}"
: "${BOND_MIN_SHARE:=20}"
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

braid_require_bins
testbed_up
braid_start_concentrator
braid_start_client

# Warm-up: one small download, so a pre-warmed connection pool (if any) has
# had time to join its second subflow; then measure the big one.
expect_download warmup small.bin --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"

wifi_rx0=$(tb_rx_bytes "$TB_CLI" wifi0)
cell_rx0=$(tb_rx_bytes "$TB_CLI" cell0)
tag=$(new_tag)
expect_download bond-big big.bin --socks5 "$BRAID_SOCKS" "$(tb_url "big.bin?tag=$tag")"
expect_via_concentrator "$tag"
wifi_rx=$(($(tb_rx_bytes "$TB_CLI" wifi0) - wifi_rx0))
cell_rx=$(($(tb_rx_bytes "$TB_CLI" cell0) - cell_rx0))
size=$(tb_file_size big.bin)

# share NAME PART TOTAL -> percent (integer); fails below BOND_MIN_SHARE.
check_share() {
    local what="$1" part="$2" total="$3" pct
    ((total > 0)) || tb_fail "$what: no bytes counted at all"
    pct=$((part * 100 / total))
    tb_log "$what: $part of $total bytes = $pct%"
    ((pct >= BOND_MIN_SHARE)) ||
        tb_fail "$what carried only $pct% of the download (want >= $BOND_MIN_SHARE%): the transfer was not bonded over both paths"
}

# ---- (b) interface counters ---------------------------------------------------
tb_log "(b) interface rx during the download: wifi0 $wifi_rx B, cell0 $cell_rx B (file $size B)"
((wifi_rx + cell_rx >= size)) ||
    tb_fail "(b) wifi0+cell0 received $((wifi_rx + cell_rx)) B, less than the file ($size B)?"
check_share "(b) wifi0 rx" "$wifi_rx" $((wifi_rx + cell_rx))
check_share "(b) cell0 rx" "$cell_rx" $((wifi_rx + cell_rx))

# ---- (a) braid's per-subflow telemetry -----------------------------------------
# Identify the session of the big download: the one whose subflows received
# the most bytes among sessions that closed after the warm-up. Wait (bounded)
# for the close to be logged.
parse_stats() {
    python3 - "$TB_TMP/braid.log" "$TB_CLI_WIFI_IP" "$TB_CLI_CELL_IP" <<'EOF'
import re, sys
log, wifi, cell = sys.argv[1:4]
pat = re.compile(r'subflow-stats session=(\S+) local=([0-9.]+):\d+ remote=(\S+) '
                 r'bytes_sent=(\d+) bytes_received=(\d+) bytes_acked=(\d+) rtt_us=(\d+)')
sessions = {}
for line in open(log, errors='replace'):
    m = pat.search(line)
    if not m:
        continue
    sid, local = m.group(1), m.group(2)
    rx = int(m.group(5))
    s = sessions.setdefault(sid, {})
    s[local] = s.get(local, 0) + rx
if not sessions:
    print("none")
    sys.exit(0)
sid, s = max(sessions.items(), key=lambda kv: sum(kv[1].values()))
other = sum(v for k, v in s.items() if k not in (wifi, cell))
print(sid, s.get(wifi, 0), s.get(cell, 0), other, len(sessions))
EOF
}
stats="none"
for ((i = 0; i < 50; i++)); do
    stats=$(parse_stats)
    if [[ "$stats" != none ]]; then
        read -r _ a_wifi a_cell _ _ <<<"$stats"
        ((a_wifi + a_cell >= size)) && break
    fi
    sleep 0.1
done
if [[ "$stats" == none ]]; then
    tb_fail "(a) braid logged no 'subflow-stats session=... local=... bytes_received=...' lines after the download closed"
fi
read -r a_sid a_wifi a_cell a_other a_nsessions <<<"$stats"
tb_log "(a) braid subflow-stats, session $a_sid (of $a_nsessions logged): bytes_received local $TB_CLI_WIFI_IP=$a_wifi, $TB_CLI_CELL_IP=$a_cell, other=$a_other"
grep 'subflow-stats' "$TB_TMP/braid.log" | grep -F "session=$a_sid " >&2
((a_wifi + a_cell >= size)) ||
    tb_fail "(a) subflows of session $a_sid received $((a_wifi + a_cell)) B in total, less than the file ($size B)"
check_share "(a) wifi0 subflow(s) bytes_received" "$a_wifi" $((a_wifi + a_cell))
check_share "(a) cell0 subflow(s) bytes_received" "$a_cell" $((a_wifi + a_cell))

# ---- (a) vs (b) -------------------------------------------------------------------
# The kernel counters include headers and the concurrent warm pool, so compare
# only which path carried more, and only when the split is clearly uneven.
if (( (wifi_rx > cell_rx * 12 / 10 && a_cell > a_wifi) || (cell_rx > wifi_rx * 12 / 10 && a_wifi > a_cell) )); then
    tb_fail "braid's subflow-stats (wifi $a_wifi / cell $a_cell) disagree with the interface counters (wifi0 $wifi_rx / cell0 $cell_rx) about which path carried more"
fi

tb_pass "20 MiB download bonded: interfaces wifi0/cell0 $((wifi_rx * 100 / (wifi_rx + cell_rx)))/$((cell_rx * 100 / (wifi_rx + cell_rx)))%, braid subflow-stats $((a_wifi * 100 / (a_wifi + a_cell)))/$((a_cell * 100 / (a_wifi + a_cell)))%"
