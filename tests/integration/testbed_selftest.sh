#!/usr/bin/env bash
# Self-test of the testbed with kernel tools only (no Braid binaries needed),
# so a testbed problem is never mistaken for a Braid bug:
#  1. reachability and routing: cli -> net directly (conc forwards), source
#     routing per address, name resolution (files.braid.test in cli and conc,
#     remote-only.braid.test in conc only, unknown names fail fast);
#  2. MPTCP bonding by the kernel alone: `mptcpize run curl` in cli against
#     `mptcpize run "$TB_PYTHON" -m http.server` in conc gets 2 subflows
#     (`ip mptcp monitor`: SF_ESTABLISHED from the other address) and each of
#     wifi0/cell0 receives >= 20% of a 20 MiB download (40/20 Mbit/s shaping);
#  3. failover by the kernel alone: wifi0 down during a download, sha256 OK;
#  4. nftables blackhole helper drops a path;
#  5. teardown: a nested testbed killed with SIGTERM leaves no namespace,
#     /etc/netns entry, process or temp dir behind.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/testbed.sh"

command -v mptcpize >/dev/null || tb_skip "mptcpize (package mptcpd) not installed"
command -v nft >/dev/null || tb_skip "nft (package nftables) not installed"
testbed_up

fetch() {  # fetch LABEL FILE CURL-ARGS... -> checks sha256
    local label="$1" file="$2" w rc
    shift 2
    w=$(in_cli "$@" -sS --max-time 120 -o "$TB_TMP/$label.body" -w '%{http_code} %{time_total}' 2>"$TB_TMP/$label.err")
    rc=$?
    tb_log "[$label] rc=$rc w='$w' $(cat "$TB_TMP/$label.err")"
    ((rc == 0)) || tb_fail "[$label] curl failed: $(cat "$TB_TMP/$label.err")"
    [[ "$(sha256sum "$TB_TMP/$label.body" | cut -d' ' -f1)" == "$(tb_file_sha "$file")" ]] ||
        tb_fail "[$label] sha256 mismatch"
}

# ---- 1. routing and names -------------------------------------------------------
fetch direct-ip small.bin curl "$(tb_url small.bin)"
fetch direct-name small.bin curl "http://$TB_FILES_HOST/small.bin"
fetch direct-from-cell small.bin curl --interface "$TB_CLI_CELL_IP" "$(tb_url small.bin)"
in_conc getent hosts "$TB_REMOTE_ONLY_HOST" >/dev/null || tb_fail "$TB_REMOTE_ONLY_HOST does not resolve in conc"
in_cli getent hosts "$TB_REMOTE_ONLY_HOST" >/dev/null && tb_fail "$TB_REMOTE_ONLY_HOST resolves in cli"
t0=$(date +%s)
in_conc getent hosts no-such-host.invalid >/dev/null && tb_fail "no-such-host.invalid resolves in conc"
(($(date +%s) - t0 <= 3)) || tb_fail "resolving an unknown name in conc took more than 3 s"
[[ "$(in_cli ip -o route get 10.31.9.2 from "$TB_CLI_CELL_IP" | grep -o 'dev [a-z0-9]*')" == "dev cell0" ]] ||
    tb_fail "traffic from $TB_CLI_CELL_IP is not routed via cell0: $(in_cli ip route get 10.31.9.2 from "$TB_CLI_CELL_IP")"
[[ "$(in_cli ip -o route get 10.31.9.2 | grep -o 'dev [a-z0-9]*')" == "dev wifi0" ]] ||
    tb_fail "default route does not prefer wifi0"

# ---- 2. kernel MPTCP bonding -------------------------------------------------------
tb_spawn "$TB_CONC" mptcp-http mptcpize run "$TB_PYTHON" -m http.server --protocol HTTP/1.1 --bind 0.0.0.0 --directory "$TB_TMP/www" 8080
tb_wait_port "$TB_CONC" 8080 15 "$TB_LAST_PID"
tb_spawn "$TB_CLI" mptcp-monitor ip mptcp monitor
sleep 0.3  # let the monitor subscribe (no event to poll for)
w0=$(tb_rx_bytes "$TB_CLI" wifi0) c0=$(tb_rx_bytes "$TB_CLI" cell0)
fetch kernel-mptcp big.bin mptcpize run curl "http://$TB_CONC_WIFI_IP:8080/big.bin"
w=$(($(tb_rx_bytes "$TB_CLI" wifi0) - w0)) c=$(($(tb_rx_bytes "$TB_CLI" cell0) - c0))
tb_log "kernel MPTCP 20 MiB download: wifi0 rx $w B ($((w * 100 / (w + c)))%), cell0 rx $c B ($((c * 100 / (w + c)))%)"
for ((i = 0; i < 30; i++)); do grep -q 'SF_ESTABLISHED' "$TB_TMP/mptcp-monitor.log" && break; sleep 0.1; done
grep -E 'CREATED|SF_ESTABLISHED' "$TB_TMP/mptcp-monitor.log" >&2
grep -q "SF_ESTABLISHED.*saddr4=$TB_CLI_CELL_IP" "$TB_TMP/mptcp-monitor.log" ||
    tb_fail "no second subflow from $TB_CLI_CELL_IP (ip mptcp monitor saw no SF_ESTABLISHED)"
((w * 100 / (w + c) >= 20 && c * 100 / (w + c) >= 20)) || tb_fail "kernel MPTCP did not bond: wifi0 $w B, cell0 $c B"

# ---- 3. kernel failover -----------------------------------------------------------
tb_shape "$TB_CLI" wifi0 20mbit && tb_shape "$TB_CONC" w0 20mbit
tb_shape "$TB_CLI" cell0 10mbit && tb_shape "$TB_CONC" c0 10mbit
in_cli mptcpize run curl -sS --max-time 180 -o "$TB_TMP/kfail.body" "http://$TB_CONC_WIFI_IP:8080/big.bin" 2>"$TB_TMP/kfail.err" &
cp=$!
for ((i = 0; i < 300; i++)); do
    [[ -f "$TB_TMP/kfail.body" ]] && (($(stat -c %s "$TB_TMP/kfail.body") >= 1048576)) && break
    sleep 0.1
done
tb_alive "$cp" || tb_fail "kernel failover: download ended before wifi0 went down"
tb_cli_path_down wifi0
wait "$cp" || tb_fail "kernel failover: curl failed after wifi0 down: $(cat "$TB_TMP/kfail.err")"
[[ "$(sha256sum "$TB_TMP/kfail.body" | cut -d' ' -f1)" == "$(tb_file_sha big.bin)" ]] || tb_fail "kernel failover: sha256 mismatch"
tb_log "kernel failover OK"
fetch after-down small.bin curl "$(tb_url small.bin)"
tb_cli_path_up wifi0
[[ "$(in_cli ip -o route get 10.31.9.2 | grep -o 'dev [a-z0-9]*')" == "dev wifi0" ]] ||
    tb_fail "tb_cli_path_up did not restore the wifi0 default route"
fetch after-up small.bin curl --interface "$TB_CLI_WIFI_IP" "$(tb_url small.bin)"

# ---- 4. blackhole ----------------------------------------------------------------
tb_blackhole "$TB_CLI" cell0 on || tb_fail "tb_blackhole failed"
in_cli curl -s --max-time 3 --interface "$TB_CLI_CELL_IP" -o /dev/null "$(tb_url small.bin)" &&
    tb_fail "blackholed cell0 still carries traffic"
fetch blackhole-wifi-ok small.bin curl --interface "$TB_CLI_WIFI_IP" "$(tb_url small.bin)"
tb_blackhole "$TB_CLI" cell0 off
fetch blackhole-off small.bin curl --interface "$TB_CLI_CELL_IP" "$(tb_url small.bin)"

# ---- 5. teardown of a nested testbed on SIGTERM -----------------------------------
info="$TB_TMP/nested.info"
TB_BIG_MB=1 bash -c '
    source "$1"
    testbed_up
    echo "$TB_CLI $TB_CONC $TB_NET $TB_TMP $TB_HTTP_PID" >"$2"
    kill -TERM $$
    sleep 30
' nested "$TB_SELF" "$info" 2>"$TB_TMP/nested.log"
nested_rc=$?
read -r n_cli n_conc n_net n_tmp n_pid <"$info" || tb_fail "nested testbed did not come up: $(cat "$TB_TMP/nested.log")"
((nested_rc == 143)) || tb_fail "nested testbed exited $nested_rc on SIGTERM, want 143"
for ns in "$n_cli" "$n_conc" "$n_net"; do
    ip netns list | grep -qw "$ns" && tb_fail "namespace $ns survived teardown"
    [[ -e "/etc/netns/$ns" ]] && tb_fail "/etc/netns/$ns survived teardown"
done
[[ -e "$n_tmp" ]] && tb_fail "temp dir $n_tmp survived teardown"
kill -0 "$n_pid" 2>/dev/null && tb_fail "HTTP server pid $n_pid survived teardown"
tb_log "nested testbed torn down cleanly on SIGTERM (rc $nested_rc)"

printf 'PASS: testbed self-test (routing, names, kernel MPTCP bonding %s/%s%%, kernel failover, blackhole, teardown)\n' \
    $((w * 100 / (w + c))) $((c * 100 / (w + c))) >&2
exit 0
