#!/usr/bin/env bash
# Path policy "off" through the CLI (`braid path cell0 off`), on a live
# connection and for new ones; then "on" again.
#
#  1. A 20 MiB download through Braid's SOCKS5 proxy (wifi and cell shaped to
#     20 Mbit/s each, so it takes >= 6 s) is bonded over both paths. After
#     ~3 MiB have arrived, `braid path cell0 off`. Braid deletes cell0's MPTCP
#     endpoint and the kernel closes that path's subflows: from OFF_SETTLE_MS
#     (default 1000 ms) after the switch until the download ends, cell0's rx
#     byte counter (cli) must grow by less than OFF_MAX_LEAK (default 64 KiB)
#     while the download goes on over wifi0 (>= 2 MiB must still arrive in
#     that window, or the measurement proves nothing). The file must arrive
#     intact. `braid paths --json` must show cell0 with state and policy "off",
#     and `ip mptcp endpoint show` no endpoint for 10.31.2.2.
#  2. While cell0 is off, a new 1 MiB download must not use cell0 either (no
#     endpoint, and the initial subflow is not bound to it): cell0 rx grows by
#     less than OFF_MAX_LEAK.
#  3. `braid path cell0 on`, `braid path wifi0 off`: only the endpoint
#     "10.31.2.2 dev cell0 subflow" is left, and a new 1 MiB download must not
#     use wifi0 although cli's preferred default route goes out of wifi0: braid
#     binds the initial subflow to cell0 (wifi0 rx grows < OFF_MAX_LEAK).
#  4. `braid path wifi0 on`: both endpoints are back (not backup), both paths
#     are "up"/"on", and a second 20 MiB download is bonded again: each path
#     carries >= 20 % of the interface rx bytes.
#  5. After braid stops (SIGTERM), cli's MPTCP endpoints are the ones the
#     testbed made before braid started (address, dev and flags; the kernel's
#     endpoint ids may differ because cell0's endpoint was deleted and re-added).
set -uo pipefail
: "${TB_WIFI_RATE:=20mbit}"
: "${TB_CELL_RATE:=20mbit}"
: "${OFF_SETTLE_MS:=1000}"
: "${OFF_MAX_LEAK:=65536}"
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

braid_require_bins
testbed_up

now_ms() { echo $(($(date +%s%N) / 1000000)); }
cell_rx() { in_cli cat /sys/class/net/cell0/statistics/rx_bytes; }
wifi_rx() { in_cli cat /sys/class/net/wifi0/statistics/rx_bytes; }

endpoints_before=$(cli_endpoints)
tb_log "MPTCP endpoints in cli before braid starts: $(cli_endpoints raw | tr '\n' ';')"
braid_write_config '{"paths": {"wifi0": {"kind": "wifi"}, "cell0": {"kind": "cellular"}}}'
braid_start_concentrator
braid_start_client

st=$(braid_path_json cell0 state) || tb_fail "braid paths --json failed: $(cat "$TB_TMP/braid-cli.err")"
[[ "$st" == up ]] || tb_fail "before the test, braid paths --json shows cell0 state '$st', want 'up'"
expect_download warmup small.bin --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"

# ---- 1. off during a download -------------------------------------------------
size=$(tb_file_size big.bin)
out="$TB_TMP/off.body"
in_cli curl -sS --max-time 180 --socks5 "$BRAID_SOCKS" -o "$out" -w '%{http_code} %{size_download} %{time_total}' \
    "$(tb_url big.bin)" >"$TB_TMP/off.curl-w" 2>"$TB_TMP/off.curl-stderr" &
curl_pid=$!
started=0
for ((i = 0; i < 300; i++)); do
    if [[ -f "$out" ]] && (($(stat -c %s "$out") >= 3 * 1048576)); then started=1; break; fi
    tb_alive "$curl_pid" || break
    sleep 0.05
done
((started)) || { wait "$curl_pid"; tb_fail "the download did not get going (curl: $(cat "$TB_TMP/off.curl-stderr"))"; }
tb_alive "$curl_pid" || tb_fail "the download finished before cell0 could be switched off; lower TB_WIFI_RATE/TB_CELL_RATE"

cell_at_switch=$(cell_rx)
file_at_switch=$(stat -c %s "$out")
t_switch=$(now_ms)
if ! msg=$(braid_cli path cell0 off 2>&1); then
    tb_fail "braid path cell0 off failed: $msg"
fi
t_done=$(now_ms)
tb_log "braid path cell0 off -> '$msg' ($((t_done - t_switch)) ms); $file_at_switch B had arrived"

# Sample cell0's rx counter until the download ends (bounded by curl's own
# --max-time and by the loop count).
samples=()  # "ms_since_switch rx"
t_base=-1 cell_base=0 file_base=0
for ((i = 0; i < 3000; i++)); do
    t=$(($(now_ms) - t_switch))
    rx=$(cell_rx)
    samples+=("$t $rx")
    if ((t_base < 0 && t >= OFF_SETTLE_MS)); then
        t_base=$t cell_base=$rx file_base=$(stat -c %s "$out")
    fi
    tb_alive "$curl_pid" || break
    sleep 0.1
done
wait "$curl_pid"
curl_rc=$?
t_end=$(($(now_ms) - t_switch))
cell_end=$(cell_rx)
tb_log "curl finished ${t_end} ms after the switch: rc=$curl_rc w='$(cat "$TB_TMP/off.curl-w")' $(cat "$TB_TMP/off.curl-stderr")"
((curl_rc == 0)) || tb_fail "the download broke when cell0 was switched off (curl exit $curl_rc: $(cat "$TB_TMP/off.curl-stderr"))"
got=$(sha256sum "$out" | cut -d' ' -f1)
[[ "$got" == "$(tb_file_sha big.bin)" ]] ||
    tb_fail "the download completed but is corrupt after cell0 went off: sha256 $got, $(stat -c %s "$out") of $size B"
tb_log "download intact after cell0 went off mid-transfer (sha256 OK)"

((t_base >= 0)) ||
    tb_fail "the download ended ${t_end} ms after the switch, before the ${OFF_SETTLE_MS} ms settle time: nothing left to measure; lower the rates"
# When did cell0 last carry data (a >16 KiB step between ~100 ms samples)?
last_growth=0 prev=$cell_at_switch
for s in "${samples[@]}"; do
    read -r t rx <<<"$s"
    ((rx - prev > 16384)) && last_growth=$t  # a step of real data, not a stray ACK/FIN
    prev=$rx
done
leak=$((cell_end - cell_base))
window_payload=$((size - file_base))
tb_log "cell0 rx: +$((cell_base - cell_at_switch)) B in the first ${t_base} ms after the switch, then +$leak B until the end (${t_base}..${t_end} ms, while $window_payload B of the file still arrived); last >16 KiB step between samples at +${last_growth} ms"
((window_payload >= 2 * 1048576)) ||
    tb_fail "only $window_payload B of the file arrived after the settle time: the window is too short to show cell0 is unused; lower the rates"
((leak < OFF_MAX_LEAK)) ||
    tb_fail "cell0 received $leak B (>= $OFF_MAX_LEAK) from ${t_base} ms after 'braid path cell0 off' until the download ended: its subflow still carries data. First samples (ms-since-switch rx): ${samples[*]:0:25}"

st=$(braid_path_json cell0 state) || tb_fail "braid paths --json failed: $(cat "$TB_TMP/braid-cli.err")"
pol=$(braid_path_json cell0 policy)
[[ "$st" == off && "$pol" == off ]] || tb_fail "after 'braid path cell0 off', braid paths --json shows cell0 state '$st' policy '$pol', want off/off"
eps=$(cli_endpoints)
if grep -q "^$TB_CLI_CELL_IP " <<<"$eps"; then
    tb_fail "cell0 is off but cli still has an MPTCP endpoint for $TB_CLI_CELL_IP: $(tr '\n' ';' <<<"$eps")"
fi
tb_log "cell0 off: state/policy off in braid paths, endpoints now: $(tr '\n' ';' <<<"$eps")"

# ---- 2. a new connection while cell0 is off ------------------------------------
c0=$(cell_rx) w0=$(wifi_rx)
expect_download while-off small.bin --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"
c=$(($(cell_rx) - c0)) w=$(($(wifi_rx) - w0))
tb_log "new 1 MiB download while cell0 is off: wifi0 rx +$w B, cell0 rx +$c B"
((c < OFF_MAX_LEAK)) || tb_fail "a new connection made while cell0 is off still received $c B on cell0"

# ---- 3. cell0 on, wifi0 off: new connections avoid wifi0 ---------------------------
# wifi0 carries cli's preferred default route, so a connection that is not
# bound elsewhere would leave on wifi0; braid must bind its initial subflow
# to cell0 now.
for cmd in "path cell0 on" "path wifi0 off"; do
    # shellcheck disable=SC2086
    msg=$(braid_cli $cmd 2>&1) || tb_fail "braid $cmd failed: $msg"
    tb_log "braid $cmd -> '$msg'"
done
eps=$(cli_endpoints)
[[ "$eps" == "$TB_CLI_CELL_IP dev cell0 subflow" ]] ||
    tb_fail "with cell0 on and wifi0 off, cli's endpoints are [$(tr '\n' ';' <<<"$eps")], want only '$TB_CLI_CELL_IP dev cell0 subflow'"
c0=$(cell_rx) w0=$(wifi_rx)
tag=$(new_tag)
expect_download wifi-off small.bin --socks5 "$BRAID_SOCKS" "$(tb_url "small.bin?tag=$tag")"
expect_via_concentrator "$tag"
c=$(($(cell_rx) - c0)) w=$(($(wifi_rx) - w0))
tb_log "new 1 MiB download while wifi0 is off: wifi0 rx +$w B, cell0 rx +$c B"
((w < OFF_MAX_LEAK)) ||
    tb_fail "wifi0 is off, but a new connection received $w B on it (cell0 $c B): its initial subflow was not bound to cell0"

# ---- 4. both on again: bonded again ------------------------------------------------
msg=$(braid_cli path wifi0 on 2>&1) || tb_fail "braid path wifi0 on failed: $msg"
tb_log "braid path wifi0 on -> '$msg'"
for p in wifi0 cell0; do
    st=$(braid_path_json $p state)
    pol=$(braid_path_json $p policy)
    [[ "$st" == up && "$pol" == on ]] || tb_fail "after 'braid path $p on', braid paths --json shows $p state '$st' policy '$pol', want up/on"
done
eps=$(cli_endpoints)
grep -qx "$TB_CLI_CELL_IP dev cell0 subflow" <<<"$eps" ||
    tb_fail "after 'braid path cell0 on', no endpoint '$TB_CLI_CELL_IP dev cell0 subflow' in cli: $(tr '\n' ';' <<<"$eps")"
grep -qx "$TB_CLI_WIFI_IP dev wifi0 subflow" <<<"$eps" ||
    tb_fail "after 'braid path wifi0 on', no endpoint '$TB_CLI_WIFI_IP dev wifi0 subflow' in cli: $(tr '\n' ';' <<<"$eps")"

c0=$(cell_rx) w0=$(wifi_rx)
tag=$(new_tag)
expect_download after-on big.bin --socks5 "$BRAID_SOCKS" "$(tb_url "big.bin?tag=$tag")"
expect_via_concentrator "$tag"
c=$(($(cell_rx) - c0)) w=$(($(wifi_rx) - w0))
tb_log "both on again: wifi0 rx $w B ($((w * 100 / (w + c)))%), cell0 rx $c B ($((c * 100 / (w + c)))%)"
((c * 100 / (w + c) >= 20)) ||
    tb_fail "with both paths on again, a 20 MiB download carried only $((c * 100 / (w + c)))% over cell0 (want >= 20%): subflows did not come back"
((w * 100 / (w + c) >= 20)) ||
    tb_fail "with both paths on again, a 20 MiB download carried only $((w * 100 / (w + c)))% over wifi0 (want >= 20%)"
on_share="wifi0/cell0 $((w * 100 / (w + c)))/$((c * 100 / (w + c)))%"

# ---- 5. braid leaves the endpoints as it found them -----------------------------
braid_check_alive
braid_stop_client
endpoints_after=$(cli_endpoints)
tb_log "MPTCP endpoints in cli after braid stopped: $(cli_endpoints raw | tr '\n' ';')"
[[ "$endpoints_after" == "$endpoints_before" ]] ||
    tb_fail "after braid stopped, cli's MPTCP endpoints are [$(tr '\n' ';' <<<"$endpoints_after")], want what was there before it started: [$(tr '\n' ';' <<<"$endpoints_before")]"

tb_pass "cell0 off mid-download: +$leak B on cell0 from ${t_base} ms after the switch to the end (carried data until +${last_growth} ms), file intact; new connections avoided an off path (cell0, then wifi0); both on again -> bonded ($on_share); endpoints restored"
