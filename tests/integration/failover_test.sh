#!/usr/bin/env bash
# Failover: a 20 MiB download through Braid's SOCKS5 proxy (wifi shaped to
# 20 Mbit/s, cell to 10 Mbit/s so it takes several seconds) loses wifi0
# (`ip link set wifi0 down` in cli) after ~1 MiB has arrived. The download must
# still complete with the right sha256; the kernel's cell0 rx counter must show
# that the rest came over cell0. Afterwards, with wifi0 still down, new
# connections through braid (SOCKS5 and HTTP proxy) must work. Finally wifi0
# comes back (link up, routes restored): a new 20 MiB download must be bonded
# over both paths again (each >= 20% of the interface rx bytes).
set -uo pipefail
: "${TB_WIFI_RATE:=20mbit}"
: "${TB_CELL_RATE:=10mbit}"
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

braid_require_bins
testbed_up
braid_start_concentrator
braid_start_client

expect_download warmup small.bin --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"

size=$(tb_file_size big.bin)
out="$TB_TMP/failover.body"
wifi_rx0=$(tb_rx_bytes "$TB_CLI" wifi0)
cell_rx0=$(tb_rx_bytes "$TB_CLI" cell0)
in_cli curl -sS --max-time 180 --socks5 "$BRAID_SOCKS" -o "$out" -w '%{http_code} %{size_download} %{time_total}' \
    "$(tb_url big.bin)" >"$TB_TMP/failover.curl-w" 2>"$TB_TMP/failover.curl-stderr" &
curl_pid=$!

# Wait (bounded) until the download is under way: >= 1 MiB written.
started=0
for ((i = 0; i < 300; i++)); do
    if [[ -f "$out" ]] && (($(stat -c %s "$out") >= 1048576)); then started=1; break; fi
    tb_alive "$curl_pid" || break
    sleep 0.1
done
((started)) || { wait "$curl_pid"; tb_fail "the download did not get going (curl: $(cat "$TB_TMP/failover.curl-stderr"))"; }
tb_alive "$curl_pid" || tb_fail "the download finished before wifi0 could be taken down; lower TB_WIFI_RATE/TB_CELL_RATE"

at_down_file=$(stat -c %s "$out")
at_down_net=$(($(tb_rx_bytes "$TB_CLI" wifi0) - wifi_rx0 + $(tb_rx_bytes "$TB_CLI" cell0) - cell_rx0))
cell_rx_down=$(tb_rx_bytes "$TB_CLI" cell0)
tb_cli_path_down wifi0
tb_log "wifi0 DOWN: $at_down_file B written by curl, $at_down_net B received on wifi0+cell0 so far"

wait "$curl_pid"
curl_rc=$?
tb_log "curl finished: rc=$curl_rc w='$(cat "$TB_TMP/failover.curl-w")' $(cat "$TB_TMP/failover.curl-stderr")"
((curl_rc == 0)) ||
    tb_fail "the download broke when wifi0 went down (curl exit $curl_rc: $(cat "$TB_TMP/failover.curl-stderr")); $at_down_file of $size B had arrived"
got=$(sha256sum "$out" | cut -d' ' -f1)
[[ "$got" == "$(tb_file_sha big.bin)" ]] ||
    tb_fail "the download completed but is corrupt after failover: sha256 $got, $(stat -c %s "$out") of $size B"
tb_log "download survived wifi0 going down: sha256 OK"

cell_after=$(($(tb_rx_bytes "$TB_CLI" cell0) - cell_rx_down))
remaining=$((size - at_down_net))
tb_log "after wifi0 went down: cell0 received $cell_after B; at most $remaining B of payload were still missing at that moment"
if ((remaining > 0 && cell_after < remaining * 9 / 10)); then
    tb_fail "only $cell_after B arrived on cell0 after wifi0 went down, but ~$remaining B were still missing: where did they come from?"
fi

# New connections with wifi0 still down.
tag=$(new_tag)
expect_download after-down-socks5 small.bin --socks5 "$BRAID_SOCKS" "$(tb_url "small.bin?tag=$tag")"
expect_via_concentrator "$tag"
tag=$(new_tag)
expect_download after-down-http small.bin --proxy "http://$BRAID_HTTP" "$(tb_url "small.bin?tag=$tag")"
expect_via_concentrator "$tag"

# wifi0 comes back: bonding resumes for new downloads.
tb_cli_path_up wifi0 || tb_fail "could not bring wifi0 back up"
tb_log "wifi0 UP again (routes restored)"
wifi_rx0=$(tb_rx_bytes "$TB_CLI" wifi0)
cell_rx0=$(tb_rx_bytes "$TB_CLI" cell0)
tag=$(new_tag)
expect_download after-up-big big.bin --socks5 "$BRAID_SOCKS" "$(tb_url "big.bin?tag=$tag")"
expect_via_concentrator "$tag"
w=$(($(tb_rx_bytes "$TB_CLI" wifi0) - wifi_rx0))
c=$(($(tb_rx_bytes "$TB_CLI" cell0) - cell_rx0))
tb_log "after wifi0 returned: wifi0 rx $w B ($((w * 100 / (w + c)))%), cell0 rx $c B ($((c * 100 / (w + c)))%)"
((w * 100 / (w + c) >= 20)) ||
    tb_fail "after wifi0 came back, a 20 MiB download carried only $((w * 100 / (w + c)))% over wifi0 (want >= 20%): bonding did not resume"
((c * 100 / (w + c) >= 20)) ||
    tb_fail "after wifi0 came back, a 20 MiB download carried only $((c * 100 / (w + c)))% over cell0 (want >= 20%)"

tb_pass "20 MiB download survived wifi0 going down mid-transfer; new connections work over cell0; bonding resumes when wifi0 returns"
