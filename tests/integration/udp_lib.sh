# shellcheck shell=bash
# shellcheck disable=SC2034  # UDP_* results are read by the sourcing tests
# Helpers for the SOCKS5 UDP ASSOCIATE tests (udp_*_test.sh). Sources
# braid_lib.sh (and through it testbed.sh).
#
#   udp_require_pysocks            skip (77) without python3-socks
#   udp_start_echo                 udp_echo_server.py on 10.31.9.2:$UDP_ECHO_PORT in net (log: udp-echo.log)
#   udp_client LABEL SUBCMD ARGS   run udp_client.py in cli; sets UDP_RC, UDP_OUT (its stdout+stderr)
#   udp_out_value KEY              value of the "KEY value" line in UDP_OUT
#   udp_log_mark NAME              current line count of $TB_TMP/NAME.log (an offset for udp_log_since)
#   udp_log_since NAME MARK        the lines of NAME.log after MARK
#   udp_client_counters LOG PORT   wait (5 s) for braid's end-of-association line ("A datagrams up, B down;
#                                  dropped: ..." -- the words between the numbers may vary) of the association
#                                  whose relay is 127.0.0.1:PORT; sets UDP_C_{UP,DOWN,FOREIGN,FRAG,
#                                  MALFORMED,LATE,FULL,UNSENDABLE} and UDP_SID
#   udp_session_mptcp_bytes LOGNAME "SENT RECEIVED" on that association's MPTCP connection
#                                  (braid's subflow-stats lines)
#   udp_conc_counters MARK         wait (5 s) for the first concentrator end-of-association line after
#                                  MARK; sets UDP_K_{FROM,TO,LATE,FULL,UNSENDABLE}
#   udp_echo_sources MARK          "COUNT SOURCE-IP" lines for the echo server's log after MARK

# shellcheck source=braid_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

UDP_ECHO_PORT=7
UDP_ECHO="$TB_NET_IP:$UDP_ECHO_PORT"
UDP_CLIENT_PY="$BRAID_TESTS_DIR/udp_client.py"
UDP_ECHO_PY="$BRAID_TESTS_DIR/udp_echo_server.py"
UDP_RC=0
UDP_OUT=""

udp_require_pysocks() {
    "$TB_PYTHON" -c 'import socks' 2>/dev/null ||
        tb_skip "python3-socks (PySocks) is not installed for $TB_PYTHON (apt-get install python3-socks)"
}

# udp_wait_udp_port NS IP PORT [SECS]: wait until a UDP socket is bound to IP:PORT in NS.
udp_wait_udp_port() {
    local ns="$1" ip="$2" port="$3" secs="${4:-10}" i
    for ((i = 0; i < secs * 10; i++)); do
        [[ -n "$(ip netns exec "$ns" ss -Hlun "src = $ip and sport = :$port" 2>/dev/null)" ]] && return 0
        sleep 0.1
    done
    tb_fail "nothing bound to udp $ip:$port in $ns after ${secs}s"
}

udp_start_echo() {
    tb_spawn "$TB_NET" udp-echo "$TB_PYTHON" -u "$UDP_ECHO_PY" "$TB_NET_IP" "$UDP_ECHO_PORT"
    UDP_ECHO_PID=$TB_LAST_PID
    udp_wait_udp_port "$TB_NET" "$TB_NET_IP" "$UDP_ECHO_PORT" 10
}

# udp_client LABEL SUBCMD ARGS...: udp_client.py in cli, bounded by timeout(1).
udp_client() {
    local label="$1"
    shift
    UDP_OUT=$(timeout -k 5 "${UDP_CLIENT_TIMEOUT:-120}" ip netns exec "$TB_CLI" "$TB_PYTHON" -u "$UDP_CLIENT_PY" "$@" 2>&1)
    UDP_RC=$?
    printf '%s\n' "$UDP_OUT" >"$TB_TMP/$label.udp-client.log"
    tb_log "udp_client [$label] $* -> rc=$UDP_RC"
    printf '%s\n' "$UDP_OUT" | sed 's/^/    | /' >&2
    ((UDP_RC == 77)) && tb_skip "udp_client.py: $(grep -m1 '^SKIP' <<<"$UDP_OUT")"
    return 0
}

# udp_expect_ok LABEL: the last udp_client run must have succeeded.
udp_expect_ok() {
    ((UDP_RC == 0)) || tb_fail "[$1] udp_client.py failed (exit $UDP_RC): $(grep -m1 '^FAIL' <<<"$UDP_OUT")"
}

udp_out_value() {
    awk -v k="$1" '$1 == k { print $2; exit }' <<<"$UDP_OUT"
}

udp_log_mark() { wc -l <"$TB_TMP/$1.log" 2>/dev/null || echo 0; }
udp_log_since() { tail -n +"$(($2 + 1))" "$TB_TMP/$1.log" 2>/dev/null; }

# udp_client_counters LOGNAME PORT
udp_client_counters() {
    local log="$TB_TMP/$1.log" port="$2" i line sid="" at=0
    local re_start="^([0-9]+):.*\\[s([0-9]+)\\] SOCKS5 UDP ASSOCIATE on 127\\.0\\.0\\.1:$port,"
    for ((i = 0; i < 50; i++)); do
        line=$(grep -nE "$re_start" "$log" | tail -n1)
        if [[ "$line" =~ $re_start ]]; then
            at=${BASH_REMATCH[1]} sid=${BASH_REMATCH[2]}
            break
        fi
        sleep 0.1
    done
    [[ -n "$sid" ]] || tb_fail "$1.log has no 'SOCKS5 UDP ASSOCIATE on 127.0.0.1:$port' line"
    UDP_SID=$sid
    # (session numbers restart when braid restarts: look only after the start line)
    local re="\\[s$sid\\] UDP association: ([0-9]+) ([a-z ]*datagrams [a-z ]+), ([0-9]+) ([a-z ]+); dropped: ([0-9]+) from other addresses, ([0-9]+) fragments, ([0-9]+) malformed, ([0-9]+) late, ([0-9]+) queue full, ([0-9]+) unsendable"
    for ((i = 0; i < 50; i++)); do
        line=$(tail -n +"$at" "$log" | grep -E "$re" | head -n1)
        if [[ "$line" =~ $re ]]; then
            UDP_C_UP=${BASH_REMATCH[1]} UDP_C_DOWN=${BASH_REMATCH[3]} UDP_C_FOREIGN=${BASH_REMATCH[5]}
            UDP_C_FRAG=${BASH_REMATCH[6]} UDP_C_MALFORMED=${BASH_REMATCH[7]} UDP_C_LATE=${BASH_REMATCH[8]}
            UDP_C_FULL=${BASH_REMATCH[9]} UDP_C_UNSENDABLE=${BASH_REMATCH[10]}
            tb_log "braid s$sid: ${line#*\] }"
            UDP_C_FROM_LINE=$at
            return 0
        fi
        sleep 0.1
    done
    tb_fail "$1.log: association s$sid (relay 127.0.0.1:$port) never logged its end within 5 s of the client closing"
}

# udp_session_mptcp_bytes LOGNAME: "SENT RECEIVED", the bytes braid's
# subflow-stats lines count on the MPTCP connection of the association last
# found by udp_client_counters (all its subflows), or "0 0".
udp_session_mptcp_bytes() {
    sleep 0.2  # (the subflow-stats lines follow the end-of-association line)
    tail -n +"$UDP_C_FROM_LINE" "$TB_TMP/$1.log" | awk -v s="session=$UDP_SID" '
        $0 ~ ("subflow-stats " s " ") {
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^bytes_sent=/) { split($i, a, "="); tx += a[2] }
                if ($i ~ /^bytes_received=/) { split($i, a, "="); rx += a[2] }
            }
        }
        END { print tx + 0, rx + 0 }'
}

# udp_conc_counters MARK: the concentrator's first end-of-association line after MARK.
udp_conc_counters() {
    local mark="$1" i line
    local re="\\[s([0-9]+)\\] UDP association: ([0-9]+) [a-z ]*datagrams from the client, ([0-9]+) to it; dropped:? ([0-9]+) late, ([0-9]+) queue full, ([0-9]+) unsendable"
    for ((i = 0; i < 50; i++)); do
        line=$(udp_log_since concentrator "$mark" | grep -E "$re" | head -n1)
        if [[ "$line" =~ $re ]]; then
            UDP_K_SID=${BASH_REMATCH[1]} UDP_K_FROM=${BASH_REMATCH[2]} UDP_K_TO=${BASH_REMATCH[3]}
            UDP_K_LATE=${BASH_REMATCH[4]} UDP_K_FULL=${BASH_REMATCH[5]} UDP_K_UNSENDABLE=${BASH_REMATCH[6]}
            tb_log "concentrator s$UDP_K_SID: ${line#*\] }"
            return 0
        fi
        sleep 0.1
    done
    tb_fail "the concentrator logged no end of a UDP association (within 5 s of the client closing)"
}

# udp_echo_sources MARK: "COUNT IP" per source address the echo server saw after MARK.
udp_echo_sources() {
    udp_log_since udp-echo "$1" | awk '$1 == "rx" { split($3, a, ":"); n[a[1]]++ } END { for (k in n) print n[k], k }' |
        sort -rn
}
