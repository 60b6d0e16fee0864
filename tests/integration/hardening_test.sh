#!/usr/bin/env bash
# The concentrator against bad clients and forbidden destinations.
#   1. While a download runs through braid (curl --socks5, rate-limited so it
#      overlaps), another client in cli (from cell0's address) sends 1,000
#      malformed requests in a row straight to the concentrator's port
#      (malformed_client.py flood): random bytes, TLS-shaped garbage, a
#      wire header in clear, empty connections, and inside real TLS 1.3
#      sessions wire headers with a bad version, bad flags, an empty user, an
#      unknown address type, an empty domain, cut short, oversized (every
#      length at its maximum plus 16 KiB). Twenty more connections stall
#      halfway through a header. The download must arrive with the right
#      sha256, the header errors must be answered, the stalled connections
#      closed by the handshake timeout, and a new request afterwards must work.
#   2. Through braid and the concentrator, these are refused with SOCKS5 REP 2
#      (curl: "Can't complete SOCKS5 connection ... (2)"): 127.0.0.1,
#      0.0.0.0, [::1], the name "localhost" (resolved at the concentrator),
#      the concentrator's own addresses on the client subnet (10.31.1.1) and
#      on its upstream subnet (10.31.9.1); the HTTP proxy answers 502 for
#      http://127.0.0.1/. Each refusal is logged with its session id.
#   3. UDP through the concentrator (PySocks): the echo server on 10.31.9.2
#      answers; datagrams to 127.0.0.1 (port 7: framed; port 443: the
#      datagram carrier) get no answer and are logged refused.
#   4. At shutdown the concentrator prints its refusal counters, and they
#      account for all of the above.
#   0. (first) `braid up` refuses to listen on a LAN address without local
#      auth, saying why, and starts with it.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/udp_lib.sh"

FLOOD_COUNT=${FLOOD_COUNT:-1000}
MALFORMED_PY="$BRAID_TESTS_DIR/malformed_client.py"

udp_require_pysocks
braid_require_bins
testbed_up
udp_start_echo

# --- 0. the local proxy off loopback needs auth ---------------------------------
lan_cfg="$TB_TMP/lan.json"
echo '{"manage_endpoints": false, "control": null, "state_file": "", "http": null}' >"$lan_cfg"
# shellcheck disable=SC2046
out=$(in_cli env $(braid__env) "$BRAID" up -c "$lan_cfg" --socks "$TB_CLI_WIFI_IP:1090" 2>&1)
rc=$?
((rc == 2)) && [[ "$out" == *"not loopback"*"auth"* ]] ||
    tb_fail "[lan-listen] braid up on $TB_CLI_WIFI_IP:1090 without auth: want exit 2 and a message, got $rc: $out"
tb_log "[lan-listen] refused without auth: $out"
# shellcheck disable=SC2046
tb_spawn "$TB_CLI" braid-lan env $(braid__env) "$BRAID" up -c "$lan_cfg" --socks "$TB_CLI_WIFI_IP:1090" \
    --user lan --password secret
lan_pid=$TB_LAST_PID
tb_wait_port "$TB_CLI" 1090 15 "$lan_pid"
tb_stop "$lan_pid"
tb_log "[lan-listen] OK: starts with --user/--password"

braid_start_concentrator
braid_start_client

# --- 1. 1,000 malformed requests during a download ----------------------------
tb_spawn "$TB_CLI" flood "$TB_PYTHON" -u "$MALFORMED_PY" flood "$TB_CONC_WIFI_IP" "$BRAID_CONC_PORT" \
    --count "$FLOOD_COUNT" --source "$TB_CLI_CELL_IP" --progress "$TB_TMP/flood.progress"
flood_pid=$TB_LAST_PID
tb_spawn "$TB_CLI" stall "$TB_PYTHON" -u "$MALFORMED_PY" stall "$TB_CONC_WIFI_IP" "$BRAID_CONC_PORT" \
    --count 20 --seconds 14 --source "$TB_CLI_CELL_IP"
stall_pid=$TB_LAST_PID
for ((i = 0; i < 300; i++)); do
    [[ -s "$TB_TMP/flood.progress" ]] && break
    tb_alive "$flood_pid" || break
    sleep 0.1
done
[[ -s "$TB_TMP/flood.progress" ]] || tb_fail "the flood client never got going (see flood.log)"
tb_log "flood under way ($(cat "$TB_TMP/flood.progress") requests sent); starting the download"

tag=$(new_tag)
expect_download during-flood big.bin --limit-rate 2500k --socks5 "$BRAID_SOCKS" "$(tb_url "big.bin?tag=$tag")"
expect_via_concentrator "$tag"
at_end=$(cat "$TB_TMP/flood.progress")
tb_log "the download finished with $at_end of $FLOOD_COUNT malformed requests sent"
((at_end < FLOOD_COUNT)) || tb_alive "$flood_pid" ||
    tb_fail "the flood finished before the download did: they did not overlap (raise FLOOD_COUNT)"

for ((i = 0; i < 1200; i++)); do
    tb_alive "$flood_pid" || break
    sleep 0.1
done
tb_alive "$flood_pid" && tb_fail "the flood client did not finish within 120 s"
wait "$flood_pid" 2>/dev/null
flood_rc=$?
cat "$TB_TMP/flood.log" >&2
((flood_rc == 0)) || tb_fail "the flood client failed (exit $flood_rc, see flood.log)"
grep -qx "total $FLOOD_COUNT" "$TB_TMP/flood.log" || tb_fail "the flood client did not send $FLOOD_COUNT requests"
# Inside TLS every malformed header gets a status and a close, none waits.
for kind in tls_bad_version tls_bad_flags tls_empty_user tls_bad_atyp tls_empty_domain tls_oversized; do
    read -r sent answered < <(awk -v k="$kind" '$1 == "kind" && $2 == k {print $4, $6}' "$TB_TMP/flood.log")
    [[ -n "${sent:-}" && "$sent" -gt 0 && "$answered" == "$sent" ]] ||
        tb_fail "[$kind] the concentrator answered ${answered:-?} of ${sent:-?} malformed headers"
done

wait "$stall_pid" 2>/dev/null
grep -q "closed by the concentrator 20" "$TB_TMP/stall.log" ||
    tb_fail "stalled half-headers were not all closed by the handshake timeout: $(tail -n1 "$TB_TMP/stall.log")"
braid_check_alive

tag=$(new_tag)
expect_download after-flood small.bin --socks5 "$BRAID_SOCKS" "$(tb_url "small.bin?tag=$tag")"
expect_via_concentrator "$tag"

# --- 2. forbidden destinations: REP 2 and 502 ---------------------------------
expect_not_allowed() {
    local label="$1" rep
    shift
    CURL_MAX_TIME=20 cli_curl "$label" "$@"
    ((CURL_RC != 0)) || tb_fail "[$label] curl $* succeeded; the concentrator must refuse it"
    rep=$(socks_rep_of_last_curl)
    [[ "$rep" == 2 ]] || tb_fail "[$label] want SOCKS5 REP 2 (not allowed), got REP $rep, curl exit $CURL_RC: $CURL_ERR"
    tb_log "[$label] OK: REP 2 not allowed"
}
expect_not_allowed loopback --socks5 "$BRAID_SOCKS" "http://127.0.0.1/"
expect_not_allowed unspecified --socks5 "$BRAID_SOCKS" "http://0.0.0.0/"
expect_not_allowed loopback6 --socks5 "$BRAID_SOCKS" "http://[::1]/"
expect_not_allowed localhost-name --socks5-hostname "$BRAID_SOCKS" "http://localhost/"
expect_not_allowed own-client-subnet --socks5 "$BRAID_SOCKS" "http://$TB_CONC_WIFI_IP:$BRAID_CONC_PORT/"
expect_not_allowed own-upstream-subnet --socks5 "$BRAID_SOCKS" "http://$TB_CONC_UP_IP/"

CURL_MAX_TIME=20 cli_curl http-loopback --proxy "http://$BRAID_HTTP" "http://127.0.0.1/"
[[ "${CURL_W%% *}" == 502 ]] || tb_fail "[http-loopback] want HTTP 502 from the proxy, got '${CURL_W%% *}'"
tb_log "[http-loopback] OK: 502"

grep -Eq '\[s[0-9]+\] .*destination 127\.0\.0\.1:80 refused: loopback \(127\.0\.0\.0/8\)' "$TB_TMP/concentrator.log" ||
    tb_fail "the concentrator did not log the refusal of 127.0.0.1:80 with its session id"
grep -Eq "destination localhost:80 \(.*\) refused" "$TB_TMP/concentrator.log" ||
    tb_fail "the concentrator did not log the refusal of localhost:80 after resolving it"
grep -Eq "destination $TB_CONC_WIFI_IP:$BRAID_CONC_PORT refused: the concentrator's own address" \
    "$TB_TMP/concentrator.log" || tb_fail "the concentrator did not refuse its own address $TB_CONC_WIFI_IP as its own"

# --- 3. UDP: allowed echo, refused loopback ------------------------------------
out=$(in_cli "$TB_PYTHON" "$MALFORMED_PY" udp 127.0.0.1 "$BRAID_SOCKS_PORT" "$TB_NET_IP" "$UDP_ECHO_PORT" 2>&1)
[[ "$out" == "reply "* ]] || tb_fail "[udp-echo] no reply from the echo server through the concentrator: $out"
out=$(in_cli "$TB_PYTHON" "$MALFORMED_PY" udp 127.0.0.1 "$BRAID_SOCKS_PORT" 127.0.0.1 "$UDP_ECHO_PORT" 2>&1)
[[ "$out" == "no reply" ]] || tb_fail "[udp-loopback] a datagram to 127.0.0.1 got an answer: $out"
for ((i = 0; i < 50; i++)); do
    grep -q "UDP to 127.0.0.1:$UDP_ECHO_PORT refused: not allowed" "$TB_TMP/concentrator.log" && break
    sleep 0.1
done
grep -q "UDP to 127.0.0.1:$UDP_ECHO_PORT refused: not allowed" "$TB_TMP/concentrator.log" ||
    tb_fail "[udp-loopback] the concentrator did not log the refused datagram"
# Port 443 rides the datagram carrier by default: the same policy applies.
out=$(in_cli "$TB_PYTHON" "$MALFORMED_PY" udp 127.0.0.1 "$BRAID_SOCKS_PORT" 127.0.0.1 443 2>&1)
[[ "$out" == "no reply" ]] || tb_fail "[udp-datagram-loopback] a datagram to 127.0.0.1:443 got an answer: $out"
for ((i = 0; i < 50; i++)); do
    grep -q "UDP to 127.0.0.1:443 refused: not allowed" "$TB_TMP/concentrator.log" && break
    sleep 0.1
done
grep -q "UDP to 127.0.0.1:443 refused: not allowed" "$TB_TMP/concentrator.log" ||
    tb_fail "[udp-datagram-loopback] the concentrator did not log the refused datagram"
tb_log "[udp] OK: echo through the concentrator; 127.0.0.1 refused, framed and datagram carrier"
braid_check_alive

# --- 4. the counters ------------------------------------------------------------
braid_stop_client  # ends the UDP associations, whose refusals are counted then
sleep 0.5
braid_stop_concentrator
summary=$(grep -o 'refused since start: .*' "$TB_TMP/concentrator.log" | tail -n1)
tb_log "concentrator: $summary"
count_of() { sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p" <<<"$summary" | head -n1; }
n=$(count_of "connections to destinations not allowed")
((${n:-0} >= 7)) || tb_fail "want at least 7 refused connections to destinations in the counters, got '${n:-0}': $summary"
n=$(count_of "datagrams to destinations not allowed")
((${n:-0} >= 2)) || tb_fail "want the 2 refused datagrams in the counters: $summary"
n=$(count_of "malformed requests")
((${n:-0} >= FLOOD_COUNT / 3)) || tb_fail "want at least $((FLOOD_COUNT / 3)) malformed requests counted, got '${n:-0}': $summary"
n=$(count_of "failed TLS handshakes")
((${n:-0} >= FLOOD_COUNT / 4)) || tb_fail "want at least $((FLOOD_COUNT / 4)) failed TLS handshakes counted, got '${n:-0}': $summary"
n=$(count_of "incomplete requests (handshake timeout)")
((${n:-0} >= 20)) || tb_fail "want the 20 stalled connections counted as handshake timeouts, got '${n:-0}': $summary"

tb_pass "1,000 malformed requests did not disturb a download; loopback, own addresses and localhost refused (REP 2 / 502, UDP too); all counted"
