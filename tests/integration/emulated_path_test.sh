#!/usr/bin/env bash
# The link emulator on the testbed's paths (testbed.sh: tb_emulate):
#  1. ICMP RTT over each emulated path = 2 × the configured one-way delay
#     (never less; at most 3 ms more on a busy machine), through cli → conc
#     and through conc's forwarding to net;
#  2. a run-time change of one direction (`tb_emulate wifi0 up delay=40`) shows
#     in the RTT at once;
#  3. braid → concentrator over both emulated paths: 20 MiB downloaded intact
#     through braid's SOCKS5 port, each path carrying ≥ 10 % (conc's byte
#     counters) and both emulators forwarding;
#  4. wifi0 link down and up again (tb_cli_path_down/up) with the emulator in
#     place: the path works again (R answers ARP for conc's address).
# Needs root, MPTCP, /dev/net/tun and the braid binaries (else exit 77).
set -u
# shellcheck source=braid_lib.sh
source "$(dirname "$0")/braid_lib.sh"
braid_require_bins
# shellcheck disable=SC2034  # read by braid_lib.sh
BRAID_LOG_LEVEL=info
testbed_up

# rtt_ok LABEL "AVG MIN MAX RECV SENT" WANT_MS: fail unless WANT <= min and avg <= WANT + 3
rtt_ok() {
    local label="$1" want="$3" avg mn mx rcv snt
    read -r avg mn mx rcv snt <<<"$2"
    [[ "$rcv" == "$snt" && "$rcv" -gt 0 ]] || tb_fail "$label: $rcv of $snt ICMP echoes answered"
    "$TB_PYTHON" -c "import sys; sys.exit(0 if $mn >= $want - 0.05 and $avg <= $want + 3 else 1)" ||
        tb_fail "$label: RTT avg $avg ms, min $mn ms; want $want ms (min ≥ $want, avg ≤ $want + 3)"
    tb_log "$label: RTT avg $avg ms (min $mn, max $mx), configured $want ms: ok"
}

base=$(tb_ping "$TB_CLI" "$TB_CONC_WIFI_IP" 5 50)
tb_log "before the emulator: wifi0 RTT $base"

tb_emulate wifi0 delay=15
tb_emulate cell0 delay=25
[[ -n "$(tb_emu_ns wifi0)" && -n "$(tb_emu_ns cell0)" ]] || tb_fail "tb_emu_ns reports no router namespace"
rtt_ok "wifi0 cli->conc" "$(tb_ping "$TB_CLI" "$TB_CONC_WIFI_IP" 20 50)" 30
rtt_ok "cell0 cli->conc" "$(tb_ping "$TB_CLI" "$TB_CONC_CELL_IP" 20 50 "$TB_CLI_CELL_IP")" 50
rtt_ok "wifi0 cli->net" "$(tb_ping "$TB_CLI" "$TB_NET_IP" 10 50 "$TB_CLI_WIFI_IP")" 30
rtt_ok "cell0 cli->net" "$(tb_ping "$TB_CLI" "$TB_NET_IP" 10 50 "$TB_CLI_CELL_IP")" 50

tb_emulate wifi0 up delay=40
rtt_ok "wifi0 after 'up delay=40'" "$(tb_ping "$TB_CLI" "$TB_CONC_WIFI_IP" 10 50)" 55
tb_emulate_stats wifi0 | grep -q '^a2b delay=40 ' || tb_fail "emulator stats do not show a2b delay=40"
tb_emulate wifi0 delay=10
tb_emulate cell0 delay=30

braid_start_concentrator
braid_start_client
tb_emulate_ctl wifi0 reset >/dev/null
tb_emulate_ctl cell0 reset >/dev/null
w0=$(tb_tx_bytes "$TB_CONC" w0) c0=$(tb_tx_bytes "$TB_CONC" c0)
expect_download emulated big.bin --socks5-hostname "$BRAID_SOCKS" "$(tb_url big.bin)"
w0=$(($(tb_tx_bytes "$TB_CONC" w0) - w0)) c0=$(($(tb_tx_bytes "$TB_CONC" c0) - c0))
tot=$((w0 + c0))
tb_log "download over emulated paths (${CURL_W##* } s): conc sent $w0 B on wifi0, $c0 B on cell0"
((w0 * 10 >= tot && c0 * 10 >= tot)) || tb_fail "both paths should carry ≥ 10 %: wifi0 $w0 B, cell0 $c0 B"
for p in wifi0 cell0; do
    fwd=$(tb_emulate_stats "$p" | awk '$1 == "b2a" { for (i = 1; i <= NF; i++) if ($i ~ /^forwarded=/) { split($i, a, "="); print a[2] } }')
    ((${fwd:-0} > 1000)) || tb_fail "emulator on $p forwarded only ${fwd:-0} packets conc -> cli"
    tb_log "emulator $p forwarded $fwd packets conc -> cli"
done

tb_cli_path_down wifi0
sleep 0.5
tb_cli_path_up wifi0
rtt_ok "wifi0 after link down/up" "$(tb_ping "$TB_CLI" "$TB_CONC_WIFI_IP" 5 50)" 20

tb_pass "emulated paths: RTT as configured, run-time change, bonded download over both, link down/up"
