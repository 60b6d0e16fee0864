#!/usr/bin/env bash
# Silent path failure: wifi0 stays up but every packet in or out of it is
# dropped (nftables blackhole in cli), the way a Wi-Fi network with a dead
# uplink behaves. Unlike `ip link set down`, the routes stay, so nothing tells
# the kernel or braid that the path is gone.
#  1. a 20 MiB download through SOCKS5 (20/10 Mbit/s) loses wifi0 silently
#     after ~1 MiB: it must complete with the right sha256 (MPTCP reinjects
#     over cell0);
#  2. with the blackhole still on, new connections must get through: within
#     BH_ATTEMPTS (default 5) downloads of 1 MiB, each bounded by 20 s, one must
#     succeed and the next one too (braid may need one attempt to notice the
#     dead path, but not forever);
#  3. blackhole removed: a new 20 MiB download is bonded again (each path
#     >= 20% of the interface rx bytes).
set -uo pipefail
: "${TB_WIFI_RATE:=20mbit}"
: "${TB_CELL_RATE:=10mbit}"
: "${BH_ATTEMPTS:=5}"
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

command -v nft >/dev/null || tb_skip "nft (package nftables) not installed"
braid_require_bins
testbed_up
braid_start_concentrator
braid_start_client

expect_download warmup small.bin --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"

# ---- 1. blackhole during a download --------------------------------------------
size=$(tb_file_size big.bin)
out="$TB_TMP/bh.body"
in_cli curl -sS --max-time 180 --socks5 "$BRAID_SOCKS" -o "$out" -w '%{http_code} %{size_download} %{time_total}' \
    "$(tb_url big.bin)" >"$TB_TMP/bh.curl-w" 2>"$TB_TMP/bh.curl-stderr" &
curl_pid=$!
for ((i = 0; i < 300; i++)); do
    [[ -f "$out" ]] && (($(stat -c %s "$out") >= 1048576)) && break
    tb_alive "$curl_pid" || break
    sleep 0.1
done
tb_alive "$curl_pid" || tb_fail "the download ended before the blackhole could be installed (curl: $(cat "$TB_TMP/bh.curl-stderr"))"
tb_blackhole "$TB_CLI" wifi0 on || tb_fail "cannot install the nftables blackhole on wifi0"
tb_log "wifi0 BLACKHOLED after $(stat -c %s "$out") B"
wait "$curl_pid"
rc=$?
tb_log "curl finished: rc=$rc w='$(cat "$TB_TMP/bh.curl-w")' $(cat "$TB_TMP/bh.curl-stderr")"
((rc == 0)) || tb_fail "the download broke when wifi0 was blackholed (curl exit $rc: $(cat "$TB_TMP/bh.curl-stderr"))"
[[ "$(sha256sum "$out" | cut -d' ' -f1)" == "$(tb_file_sha big.bin)" ]] ||
    tb_fail "the download completed but is corrupt: $(stat -c %s "$out") of $size B"
tb_log "download survived the wifi0 blackhole: sha256 OK"

# ---- 2. new connections while wifi0 is a black hole ------------------------------
ok_at=0
for ((a = 1; a <= BH_ATTEMPTS; a++)); do
    CURL_MAX_TIME=20 cli_curl "bh-new-$a" --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"
    if ((CURL_RC == 0)) && [[ "$(sha256sum "$CURL_OUT" | cut -d' ' -f1)" == "$(tb_file_sha small.bin)" ]]; then
        ok_at=$a
        break
    fi
done
((ok_at > 0)) ||
    tb_fail "with wifi0 silently dead (link up, all packets dropped) none of $BH_ATTEMPTS new connections got through although cell0 works; last curl: exit $CURL_RC $CURL_ERR"
expect_download bh-new-confirm small.bin --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"
tb_log "new connections work with wifi0 blackholed (first success at attempt $ok_at)"

# ---- 3. blackhole removed: bonding again ----------------------------------------------
tb_blackhole "$TB_CLI" wifi0 off
tb_log "wifi0 blackhole REMOVED"
wifi_rx0=$(tb_rx_bytes "$TB_CLI" wifi0)
cell_rx0=$(tb_rx_bytes "$TB_CLI" cell0)
expect_download after-bh-big big.bin --socks5 "$BRAID_SOCKS" "$(tb_url big.bin)"
w=$(($(tb_rx_bytes "$TB_CLI" wifi0) - wifi_rx0))
c=$(($(tb_rx_bytes "$TB_CLI" cell0) - cell_rx0))
tb_log "after the blackhole: wifi0 rx $w B ($((w * 100 / (w + c)))%), cell0 rx $c B ($((c * 100 / (w + c)))%)"
((w * 100 / (w + c) >= 20 && c * 100 / (w + c) >= 20)) ||
    tb_fail "after wifi0 recovered, a 20 MiB download was not bonded: wifi0 $w B, cell0 $c B"

tb_pass "silent wifi0 failure: running download survived, new connections got through, bonding resumed"
