#!/usr/bin/env bash
# SOCKS5 UDP ASSOCIATE through Braid, driven by PySocks (python3-socks) in cli
# against a UDP echo server on 10.31.9.2:7 in net (udp_echo_server.py: the
# answer is "echo:" + the payload with every byte inverted, so an echo is told
# apart from our own datagram reflected back).
#
#  1. framed (braid up --concentrator): datagrams ride the association's MPTCP
#     connection to the concentrator, which sends them from 10.31.9.1.
#     - 200 datagrams of random content and random sizes 1..1400 to
#       10.31.9.2:7, one at a time: every reply has the right content and the
#       SOCKS5 UDP header names 10.31.9.2:7 as its source;
#     - 50 datagrams to remote-only.braid.test:7 (ATYP 3), a name only the
#       concentrator can resolve: replies name 10.31.9.2:7 (the real source);
#     - edge sizes: empty payload, 1472, 4000, 9000, 32768, 65000 bytes;
#     - an empty reply datagram (warning only, see empty_reply_check);
#     - 4 associations at once (100 datagrams each): no cross-talk;
#     for each: the echo server saw every datagram from 10.31.9.1 only; braid's
#     end-of-association line counts exactly the datagrams sent and received
#     and no drops; the concentrator's line counts the same.
#  2. direct (braid up without --concentrator): the same 200 + 50 (name
#     files.braid.test, resolved in cli) + edge sizes, now arriving at the echo
#     server from a cli address; a name cli cannot resolve gets no reply and
#     braid counts it as unsendable.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/udp_lib.sh"

braid_require_bins
udp_require_pysocks
testbed_up
udp_start_echo
braid_start_concentrator
braid_start_client

SEED=${UDP_SEED:-$RANDOM}
tb_log "random seed $SEED (UDP_SEED=$SEED to replay)"

# echo_phase LABEL MODE WANT_SOURCES CLIENT-ARGS...
#   MODE framed|direct; WANT_SOURCES: regex the echo server's source IPs must match.
echo_phase() {
    local label="$1" mode="$2" want_src="$3"
    shift 3
    local echo_mark conc_mark relay port sent recvd lost srcs total
    echo_mark=$(udp_log_mark udp-echo)
    conc_mark=$(udp_log_mark concentrator)
    udp_client "$label" echo "$@"
    udp_expect_ok "$label"
    relay=$(udp_out_value relay)
    sent=$(udp_out_value sent_total)
    recvd=$(udp_out_value received_total)
    lost=$(udp_out_value lost)
    [[ "$relay" == 127.0.0.1:* ]] || tb_fail "[$label] relay address '$relay', want 127.0.0.1:PORT (BND.PORT on the proxy host)"
    port=${relay##*:}

    # braid's own account of the association.
    udp_client_counters braid "$port"
    ((UDP_C_UP == sent)) || tb_fail "[$label] braid counted $UDP_C_UP datagrams up, the client sent $sent"
    if ((lost == 0)); then
        ((UDP_C_DOWN == recvd)) || tb_fail "[$label] braid counted $UDP_C_DOWN datagrams down, the client received $recvd"
    else
        ((UDP_C_DOWN >= recvd)) || tb_fail "[$label] braid counted $UDP_C_DOWN datagrams down, the client received $recvd"
    fi
    ((UDP_C_FOREIGN + UDP_C_FRAG + UDP_C_MALFORMED + UDP_C_LATE + UDP_C_FULL + UDP_C_UNSENDABLE == 0)) ||
        tb_fail "[$label] braid dropped datagrams of a well-behaved client (see the s$UDP_SID line in braid.log)"

    # Where the datagrams reached the server from.
    srcs=$(udp_echo_sources "$echo_mark")
    tb_log "[$label] echo server saw: $(tr '\n' ';' <<<"$srcs")"
    total=$(awk '{ s += $1 } END { print s + 0 }' <<<"$srcs")
    ((total == sent)) || tb_fail "[$label] the echo server received $total datagrams, the client sent $sent"
    if (($(awk '{ print $2 }' <<<"$srcs" | grep -cvE "^($want_src)\$") > 0)); then
        tb_fail "[$label] datagrams reached the echo server from '$(awk '{ print $2 }' <<<"$srcs" | tr '\n' ' ')', want only $want_src ($mode)"
    fi

    if [[ "$mode" == framed ]]; then
        # framed: the datagrams rode the association's own MPTCP connection.
        local bytes payload
        bytes=$(udp_session_mptcp_bytes braid)
        payload=$(udp_out_value payload_bytes_sent)
        tb_log "[$label] the association's MPTCP connection: $bytes bytes sent/received; payload sent $payload"
        ((${bytes% *} >= payload)) ||
            tb_fail "[$label] the association's MPTCP connection carried ${bytes% *} bytes up, less than the $payload bytes of datagrams: not framed?"
        udp_conc_counters "$conc_mark"
        ((UDP_K_FROM == sent)) || tb_fail "[$label] the concentrator got $UDP_K_FROM datagrams from the client, it sent $sent"
        ((UDP_K_TO == UDP_C_DOWN)) ||
            tb_fail "[$label] the concentrator sent $UDP_K_TO datagrams to the client, braid delivered $UDP_C_DOWN"
        ((UDP_K_LATE + UDP_K_FULL + UDP_K_UNSENDABLE == 0)) ||
            tb_fail "[$label] the concentrator dropped datagrams (see its s$UDP_K_SID line)"
    else
        (($(udp_log_since concentrator "$conc_mark" | grep -c 'UDP association') == 0)) ||
            tb_fail "[$label] direct mode, yet the concentrator saw a UDP association"
    fi
    tb_log "[$label] OK: $sent datagrams sent, $recvd replies, all correct"
}

# --- 1. framed over MPTCP to the concentrator ----------------------------------
echo_phase framed-ip framed "$TB_CONC_UP_IP" \
    --dest "$UDP_ECHO" --expect-from "$UDP_ECHO" --count 200 --min 1 --max 1400 --seed "$SEED"
grep -qE 'SOCKS5 UDP ASSOCIATE on 127\.0\.0\.1:[0-9]+, .*concentrator' "$TB_TMP/braid.log" ||
    tb_fail "braid.log does not say the association goes to the concentrator"
grep -qE '\[s[0-9]+\] UDP association [(0-9]' "$TB_TMP/concentrator.log" ||
    tb_fail "concentrator.log does not show the start of a UDP association"

if in_cli getent hosts "$TB_REMOTE_ONLY_HOST" >/dev/null; then
    tb_fail "testbed: $TB_REMOTE_ONLY_HOST unexpectedly resolves in cli"
fi
echo_phase framed-domain framed "$TB_CONC_UP_IP" \
    --dest "$TB_REMOTE_ONLY_HOST:$UDP_ECHO_PORT" --expect-from "$UDP_ECHO" --count 50 --min 1 --max 1400 \
    --seed "$((SEED + 1))"

echo_phase framed-sizes framed "$TB_CONC_UP_IP" \
    --dest "$UDP_ECHO" --expect-from "$UDP_ECHO" --sizes 0,1,1472,4000,9000,32768,65000 --seed "$((SEED + 2))"

# empty_reply_check LABEL: the echo server answers "empty-reply?" with an
# empty datagram, which the client must get as a bare SOCKS5 UDP header
# (libuv reports an empty datagram as nread == 0 with an address).
empty_reply_check() {
    local label="$1"
    udp_client "$label" echo --dest "$UDP_ECHO" --expect-from "$UDP_ECHO" --sizes 5,-1,5 \
        --retries 0 --max-lost 1 --timeout 2
    udp_expect_ok "$label"
    [[ "$(udp_out_value lost)" == 0 ]] ||
        tb_fail "[$label] an empty datagram from the destination never reached the client"
    tb_log "[$label] OK: an empty reply datagram was relayed"
}
empty_reply_check framed-empty-reply

# Several associations at once: each on its own MPTCP connection, no cross-talk.
conc_mark=$(udp_log_mark concentrator)
echo_mark=$(udp_log_mark udp-echo)
pids=()
for i in 1 2 3 4; do
    (
        UDP_OUT=$(timeout -k 5 120 ip netns exec "$TB_CLI" "$TB_PYTHON" -u "$UDP_CLIENT_PY" echo \
            --dest "$UDP_ECHO" --expect-from "$UDP_ECHO" --count 100 --min 1 --max 1400 --seed "$((SEED + 10 + i))" 2>&1)
        rc=$?
        printf '%s\n' "$UDP_OUT" >"$TB_TMP/parallel-$i.udp-client.log"
        exit "$rc"
    ) &
    pids+=($!)
done
for i in 1 2 3 4; do
    wait "${pids[$((i - 1))]}" ||
        tb_fail "[parallel-$i] udp_client.py failed: $(grep -m1 '^FAIL' "$TB_TMP/parallel-$i.udp-client.log")"
done
for i in 1 2 3 4; do
    UDP_OUT=$(cat "$TB_TMP/parallel-$i.udp-client.log")
    udp_client_counters braid "$(udp_out_value relay | sed 's/.*://')"
    ((UDP_C_UP == $(udp_out_value sent_total) && UDP_C_DOWN == $(udp_out_value received_total))) ||
        tb_fail "[parallel-$i] braid counted $UDP_C_UP up / $UDP_C_DOWN down, the client sent $(udp_out_value sent_total) / received $(udp_out_value received_total)"
done
n=$(udp_log_since concentrator "$conc_mark" | grep -cE '\[s[0-9]+\] UDP association [(0-9]')
((n == 4)) || tb_fail "[parallel] the concentrator saw $n UDP associations start, want 4"
tb_log "[parallel] OK: 4 associations at once, 400 datagrams, every reply right"
braid_check_alive

# --- 2. direct mode --------------------------------------------------------------
braid_stop_client
braid_stop_concentrator
braid_start_client --direct
cli_ips="$TB_CLI_WIFI_IP|$TB_CLI_CELL_IP"

echo_phase direct-ip direct "${cli_ips//./\\.}" \
    --dest "$UDP_ECHO" --expect-from "$UDP_ECHO" --count 200 --min 1 --max 1400 --seed "$((SEED + 3))"
grep -qE 'SOCKS5 UDP ASSOCIATE on 127\.0\.0\.1:[0-9]+, direct to destinations' "$TB_TMP/braid.log" ||
    tb_fail "braid.log does not say the association goes direct to destinations"

echo_phase direct-domain direct "${cli_ips//./\\.}" \
    --dest "$TB_FILES_HOST:$UDP_ECHO_PORT" --expect-from "$UDP_ECHO" --count 50 --min 1 --max 1400 \
    --seed "$((SEED + 4))"

echo_phase direct-sizes direct "${cli_ips//./\\.}" \
    --dest "$UDP_ECHO" --expect-from "$UDP_ECHO" --sizes 0,1,1472,4000,9000,32768,65000 --seed "$((SEED + 5))"

empty_reply_check direct-empty-reply

# A name cli cannot resolve: no reply, counted as unsendable, nothing sent.
echo_mark=$(udp_log_mark udp-echo)
udp_client direct-unresolvable echo --dest "$TB_REMOTE_ONLY_HOST:$UDP_ECHO_PORT" --expect-from "$UDP_ECHO" \
    --sizes 100 --retries 0 --max-lost 1 --timeout 3
udp_expect_ok direct-unresolvable
[[ "$(udp_out_value lost)" == 1 ]] || tb_fail "[direct-unresolvable] got a reply for a name cli cannot resolve"
udp_client_counters braid "$(udp_out_value relay | sed 's/.*://')"
((UDP_C_UP == 1 && UDP_C_DOWN == 0 && UDP_C_UNSENDABLE == 1)) ||
    tb_fail "[direct-unresolvable] braid counted $UDP_C_UP up, $UDP_C_DOWN down, $UDP_C_UNSENDABLE unsendable; want 1, 0, 1"
(($(udp_log_since udp-echo "$echo_mark" | grep -c '^rx') == 0)) ||
    tb_fail "[direct-unresolvable] something reached the echo server"
tb_log "[direct-unresolvable] OK: no reply, counted as unsendable"

tb_pass "SOCKS5 UDP ASSOCIATE with PySocks: framed via the concentrator (IP, remote name, edge sizes, 4 at once) and direct"
