#!/usr/bin/env bash
# SOCKS5 UDP ASSOCIATE: what the relay must refuse, and when an association
# ends. A hand-written SOCKS5 client (udp_client.py security) in cli opens an
# association over 127.0.0.1 (DST 0.0.0.0:0) and, against the UDP echo server
# on 10.31.9.2:7:
#   - BND.ADDR is 127.0.0.1 (the control connection's local address), BND.PORT
#     a real port;
#   - a first datagram from another address of cli (10.31.1.2) gets no reply
#     and does not capture the association;
#   - the client's own datagram (127.0.0.1) gets the echo, with the real
#     source 10.31.9.2:7 in the SOCKS5 UDP header; that pins its port;
#   - then datagrams from 10.31.1.2 and from 127.0.0.1 on another port, with
#     FRAG 1 and FRAG 0x81, and malformed ones (RSV != 0, ATYP 9, truncated)
#     get no reply; the association still works afterwards;
#   - closing the TCP control connection ends the association: braid logs its
#     end, the relay port is closed (ICMP port unreachable) and a datagram sent
#     there gets no reply;
#   - none of the dropped datagrams reached the echo server, and braid's
#     end-of-association counters are exactly: 2 up, 2 down, 3 from other
#     addresses, 2 fragments, 3 malformed (plus the garbage of the idle run),
#     0 late / queue full / unsendable.
# Runs framed (via the concentrator, whose counters must say 2 from the
# client and 2 to it), framed with limits.idle_timeout_ms = 3000 and the client
# staying idle after its last good datagram while garbage (foreign address,
# FRAG 1) keeps arriving for 2 s (braid must end the association and close the
# control connection itself 2.5 to 4.5 s after the last good datagram: dropped
# datagrams are not activity), and direct.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/udp_lib.sh"

braid_require_bins
testbed_up
udp_start_echo

# security_run LABEL MODE ARGS...: the udp_client.py security sequence.
security_run() {
    local label="$1" mode="$2" conc_mark
    shift 2
    conc_mark=$(udp_log_mark concentrator)
    udp_client "$label" security --proxy "$BRAID_SOCKS" --echo "$UDP_ECHO" --echo-log "$TB_TMP/udp-echo.log" \
        --braid-log "$TB_TMP/braid.log" --foreign-ip "$TB_CLI_WIFI_IP" "$@"
    udp_expect_ok "$label"
    if [[ "$mode" == framed ]]; then
        udp_conc_counters "$conc_mark"
        ((UDP_K_FROM == 2 && UDP_K_TO == 2)) ||
            tb_fail "[$label] the concentrator counted $UDP_K_FROM datagrams from the client and $UDP_K_TO to it, want 2 and 2"
    else
        (($(udp_log_since concentrator "$conc_mark" | grep -c 'UDP association') == 0)) ||
            tb_fail "[$label] direct mode, yet the concentrator saw a UDP association"
    fi
    braid_check_alive
    tb_log "[$label] OK"
}

# --- 1. framed, the association ends with its control connection ------------------
braid_start_concentrator
braid_start_client
security_run framed-close framed --end close

# --- 2. framed, the association ends after limits.idle_timeout_ms -----------------
braid_stop_client
braid_write_config '{"limits": {"idle_timeout_ms": 3000}}'
braid_start_client
# (short silences so that the whole sequence fits in the idle timeout: dropped
# datagrams must not count as activity, only the client's good ones)
security_run framed-idle framed --end idle --quiet 0.3 --idle-min 2.5 --idle-max 4.5 --idle-wait 10
rm -f "$TB_TMP/home/.config/braid/braid.json"

# --- 3. direct ----------------------------------------------------------------------
braid_stop_client
braid_stop_concentrator
braid_start_client --direct
security_run direct-close direct --end close

tb_pass "SOCKS5 UDP relay: foreign address/port, FRAG != 0 and malformed datagrams dropped and counted; association ends with its control connection and on idle timeout (framed and direct)"
