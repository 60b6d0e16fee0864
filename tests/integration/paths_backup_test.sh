#!/usr/bin/env bash
# Path policy "backup" through the CLI (`braid path cell0 backup`).
#
#  1. On a live connection: a 20 MiB download through Braid's SOCKS5 proxy
#     (wifi 40 Mbit/s, cell 20 Mbit/s) starts bonded; after ~3 MiB,
#     `braid path cell0 backup`. Braid flags cell0's endpoint backup and the
#     kernel tells the concentrator (MP_PRIO), whose scheduler then leaves the
#     cell0 subflow idle: from BACKUP_SETTLE_MS (default 1000 ms) after the
#     switch to the end, cell0's rx counter grows by less than
#     BACKUP_MAX_LEAK (default 64 KiB) while >= 2 MiB of the file still
#     arrive. The file is intact; cli's endpoint is now
#     "10.31.2.2 dev cell0 subflow backup" (wifi0's unchanged) and
#     `braid paths --json` shows cell0 with policy "backup", state "standby".
#  2. A new 20 MiB download with cell0 backup from the start goes over wifi0:
#     cell0 receives less than BACKUP_MAX_SHARE percent (default 5) of the
#     bytes both interfaces received (kernel rx counters). Braid's per-path
#     subflow count mid-transfer is logged (a backup path still joins a
#     subflow; it just is not scheduled while wifi0 works).
#  3. A third 20 MiB download loses wifi0 (`ip link set wifi0 down`, the
#     testbed's tb_cli_path_down) after ~1 MiB has arrived: it must complete
#     intact, and cell0's rx counter must show that the rest (at least 90 % of
#     what was still missing) came over cell0, the backup path.
set -uo pipefail
: "${TB_WIFI_RATE:=40mbit}"
: "${TB_CELL_RATE:=20mbit}"
: "${BACKUP_MAX_SHARE:=5}"
: "${BACKUP_SETTLE_MS:=1000}"
: "${BACKUP_MAX_LEAK:=65536}"
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

braid_require_bins
testbed_up

now_ms() { echo $(($(date +%s%N) / 1000000)); }
cell_rx() { in_cli cat /sys/class/net/cell0/statistics/rx_bytes; }
wifi_rx() { in_cli cat /sys/class/net/wifi0/statistics/rx_bytes; }

braid_write_config '{"paths": {"wifi0": {"kind": "wifi"}, "cell0": {"kind": "cellular"}}}'
braid_start_concentrator
braid_start_client

expect_download warmup small.bin --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"
size=$(tb_file_size big.bin)

# ---- 1. backup on a live connection (MP_PRIO) -------------------------------------
out="$TB_TMP/to-backup.body"
in_cli curl -sS --max-time 180 --socks5 "$BRAID_SOCKS" -o "$out" -w '%{http_code} %{size_download} %{time_total}' \
    "$(tb_url big.bin)" >"$TB_TMP/to-backup.curl-w" 2>"$TB_TMP/to-backup.curl-stderr" &
curl_pid=$!
started=0
for ((i = 0; i < 300; i++)); do
    if [[ -f "$out" ]] && (($(stat -c %s "$out") >= 3 * 1048576)); then started=1; break; fi
    tb_alive "$curl_pid" || break
    sleep 0.05
done
((started)) || { wait "$curl_pid"; tb_fail "the download did not get going (curl: $(cat "$TB_TMP/to-backup.curl-stderr"))"; }
tb_alive "$curl_pid" || tb_fail "the download finished before cell0 could be switched to backup; lower TB_WIFI_RATE/TB_CELL_RATE"
cell_at_switch=$(cell_rx)
t_switch=$(now_ms)
if ! msg=$(braid_cli path cell0 backup 2>&1); then
    tb_fail "braid path cell0 backup failed: $msg"
fi
tb_log "braid path cell0 backup -> '$msg' ($(($(now_ms) - t_switch)) ms) with $(stat -c %s "$out") B of the file in"
samples=()  # "ms_since_switch rx"
t_base=-1 cell_base=0 file_base=0
for ((i = 0; i < 3000; i++)); do
    t=$(($(now_ms) - t_switch))
    rx=$(cell_rx)
    samples+=("$t $rx")
    if ((t_base < 0 && t >= BACKUP_SETTLE_MS)); then
        t_base=$t cell_base=$rx file_base=$(stat -c %s "$out")
    fi
    tb_alive "$curl_pid" || break
    sleep 0.1
done
wait "$curl_pid"
curl_rc=$?
t_end=$(($(now_ms) - t_switch))
cell_end=$(cell_rx)
tb_log "curl [to-backup] finished ${t_end} ms after the switch: rc=$curl_rc w='$(cat "$TB_TMP/to-backup.curl-w")' $(cat "$TB_TMP/to-backup.curl-stderr")"
((curl_rc == 0)) || tb_fail "the download broke when cell0 was switched to backup (curl exit $curl_rc: $(cat "$TB_TMP/to-backup.curl-stderr"))"
[[ "$(sha256sum "$out" | cut -d' ' -f1)" == "$(tb_file_sha big.bin)" ]] ||
    tb_fail "the download arrived corrupt after cell0 was switched to backup ($(stat -c %s "$out") of $size B)"
((t_base >= 0)) ||
    tb_fail "the download ended ${t_end} ms after the switch, before the ${BACKUP_SETTLE_MS} ms settle time: nothing left to measure; lower the rates"
last_growth=0 prev=$cell_at_switch
for smp in "${samples[@]}"; do
    read -r t rx <<<"$smp"
    ((rx - prev > 16384)) && last_growth=$t  # a step of real data, not a stray ACK/FIN
    prev=$rx
done
leak=$((cell_end - cell_base))
window_payload=$((size - file_base))
tb_log "cell0 rx: +$((cell_base - cell_at_switch)) B in the first ${t_base} ms after the switch to backup, then +$leak B until the end (${t_base}..${t_end} ms, while $window_payload B of the file still arrived); last >16 KiB step between samples at +${last_growth} ms"
((window_payload >= 2 * 1048576)) ||
    tb_fail "only $window_payload B of the file arrived after the settle time: the window is too short to show cell0 is idle; lower the rates"
((leak < BACKUP_MAX_LEAK)) ||
    tb_fail "cell0 received $leak B (>= $BACKUP_MAX_LEAK) from ${t_base} ms after 'braid path cell0 backup' until the download ended: a backup subflow still carries data on a live connection (MP_PRIO not sent or not honoured). First samples (ms-since-switch rx): ${samples[*]:0:25}"
to_backup_leak=$leak to_backup_last=$last_growth

st=$(braid_path_json cell0 state) || tb_fail "braid paths --json failed: $(cat "$TB_TMP/braid-cli.err")"
pol=$(braid_path_json cell0 policy)
[[ "$st" == standby && "$pol" == backup ]] ||
    tb_fail "after 'braid path cell0 backup', braid paths --json shows cell0 state '$st' policy '$pol', want standby/backup"
eps=$(cli_endpoints)
grep -qx "$TB_CLI_CELL_IP dev cell0 subflow backup" <<<"$eps" ||
    tb_fail "after 'braid path cell0 backup', no endpoint '$TB_CLI_CELL_IP dev cell0 subflow backup' in cli: $(tr '\n' ';' <<<"$eps")"
grep -qx "$TB_CLI_WIFI_IP dev wifi0 subflow" <<<"$eps" ||
    tb_fail "wifi0's endpoint '$TB_CLI_WIFI_IP dev wifi0 subflow' changed: $(tr '\n' ';' <<<"$eps")"

# ---- 2. backup from the start: carries (almost) nothing while wifi0 works -----------
out="$TB_TMP/backup.body"
w0=$(wifi_rx) c0=$(cell_rx)
in_cli curl -sS --max-time 180 --socks5 "$BRAID_SOCKS" -o "$out" -w '%{http_code} %{size_download} %{time_total}' \
    "$(tb_url big.bin)" >"$TB_TMP/backup.curl-w" 2>"$TB_TMP/backup.curl-stderr" &
curl_pid=$!
# Mid-transfer: how many subflows braid sees per path (informational).
mid_subflows="?"
for ((i = 0; i < 40; i++)); do
    sleep 0.1
    tb_alive "$curl_pid" || break
    if ((i >= 15)); then  # after >= 1.5 s, i.e. after at least one telemetry sample
        mid_subflows="wifi0 $(braid_path_json wifi0 subflows), cell0 $(braid_path_json cell0 subflows)"
        break
    fi
done
wait "$curl_pid"
curl_rc=$?
tb_log "curl [backup-big] rc=$curl_rc w='$(cat "$TB_TMP/backup.curl-w")' $(cat "$TB_TMP/backup.curl-stderr")"
((curl_rc == 0)) || tb_fail "a download with cell0 as backup failed (curl exit $curl_rc: $(cat "$TB_TMP/backup.curl-stderr"))"
[[ "$(sha256sum "$out" | cut -d' ' -f1)" == "$(tb_file_sha big.bin)" ]] ||
    tb_fail "a download with cell0 as backup arrived corrupt ($(stat -c %s "$out") of $size B)"
w=$(($(wifi_rx) - w0)) c=$(($(cell_rx) - c0))
cell_share_permille=$((c * 1000 / (w + c)))
tb_log "cell0 backup, wifi0 working: wifi0 rx $w B, cell0 rx $c B (${cell_share_permille} per mille); braid subflows mid-transfer: $mid_subflows"
((w + c >= size)) || tb_fail "wifi0+cell0 received $((w + c)) B, less than the file ($size B)?"
((c * 100 < BACKUP_MAX_SHARE * (w + c))) ||
    tb_fail "cell0 is backup but carried $c of $((w + c)) B (${cell_share_permille} per mille, want < ${BACKUP_MAX_SHARE}%) while wifi0 worked"

# ---- 3. wifi0 goes down mid-download: the backup takes over -----------------------
out="$TB_TMP/backup-failover.body"
wifi_rx0=$(wifi_rx) cell_rx0=$(cell_rx)
in_cli curl -sS --max-time 180 --socks5 "$BRAID_SOCKS" -o "$out" -w '%{http_code} %{size_download} %{time_total}' \
    "$(tb_url big.bin)" >"$TB_TMP/backup-failover.curl-w" 2>"$TB_TMP/backup-failover.curl-stderr" &
curl_pid=$!
started=0
for ((i = 0; i < 300; i++)); do
    if [[ -f "$out" ]] && (($(stat -c %s "$out") >= 1048576)); then started=1; break; fi
    tb_alive "$curl_pid" || break
    sleep 0.05
done
((started)) || { wait "$curl_pid"; tb_fail "the download did not get going (curl: $(cat "$TB_TMP/backup-failover.curl-stderr"))"; }
tb_alive "$curl_pid" || tb_fail "the download finished before wifi0 could be taken down; lower TB_WIFI_RATE/TB_CELL_RATE"
at_down_file=$(stat -c %s "$out")
at_down_net=$(($(wifi_rx) - wifi_rx0 + $(cell_rx) - cell_rx0))
cell_rx_down=$(cell_rx)
tb_cli_path_down wifi0
t_down=$(date +%s%N)
tb_log "wifi0 DOWN: $at_down_file B written by curl, $at_down_net B received on wifi0+cell0 so far"

# When did data start to arrive on cell0? (informational)
takeover_ms=none
for ((i = 0; i < 600; i++)); do
    if (($(cell_rx) - cell_rx_down > 256 * 1024)); then
        takeover_ms=$((($(date +%s%N) - t_down) / 1000000))
        break
    fi
    tb_alive "$curl_pid" || break
    sleep 0.05
done
wait "$curl_pid"
curl_rc=$?
tb_log "curl [backup-failover] rc=$curl_rc w='$(cat "$TB_TMP/backup-failover.curl-w")' $(cat "$TB_TMP/backup-failover.curl-stderr")"
((curl_rc == 0)) ||
    tb_fail "the download broke when wifi0 went down with cell0 as backup (curl exit $curl_rc: $(cat "$TB_TMP/backup-failover.curl-stderr")); $at_down_file of $size B had arrived"
got=$(sha256sum "$out" | cut -d' ' -f1)
[[ "$got" == "$(tb_file_sha big.bin)" ]] ||
    tb_fail "the download completed but is corrupt after failing over to the backup: sha256 $got, $(stat -c %s "$out") of $size B"
cell_after=$(($(cell_rx) - cell_rx_down))
remaining=$((size - at_down_net))
tb_log "after wifi0 went down: cell0 received $cell_after B (the first 256 KiB within ${takeover_ms} ms); at most $remaining B of payload were still missing then"
if ((remaining > 0 && cell_after < remaining * 9 / 10)); then
    tb_fail "only $cell_after B arrived on cell0 (the backup) after wifi0 went down, but ~$remaining B were still missing"
fi

tb_pass "cell0 to backup mid-download: +$to_backup_leak B on cell0 from 1 s after the switch (carried data until +${to_backup_last} ms); backup from the start: ${cell_share_permille} per mille of a 20 MiB download while wifi0 worked (subflows mid-transfer: $mid_subflows); wifi0 down mid-download -> completed intact over cell0 (took over within ${takeover_ms} ms)"
