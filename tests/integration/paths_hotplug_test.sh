#!/usr/bin/env bash
# Hotplug: braid follows interfaces over rtnetlink and manages MPTCP
# endpoints for them, and leaves the endpoints as it found them.
#
# While `braid up` runs, a third link appears in cli: veth lte0 (10.31.3.2/24)
# to l0 in conc (10.31.3.1/24), a per-source routing table like the testbed's
# and a default route via it at metric 300, shaped to HOTPLUG_RATE (20 Mbit/s).
#  1. Within HOTPLUG_MAX_MS (default 1000 ms) of the last setup step,
#     `braid paths --json` (polled every ~100 ms for up to 3 s) lists lte0
#     with address 10.31.3.2 and state "up"; the measured delay is reported.
#     Within the same bound `ip mptcp endpoint show` lists the endpoint braid
#     added: "10.31.3.2 dev lte0 subflow".
#  2. A 20 MiB download through braid then uses it: lte0 receives >= 10 % of
#     the bytes the three interfaces received, and the file is intact.
#  3. lte0 is deleted: within HOTPLUG_MAX_MS it is gone from `braid paths`
#     and braid's endpoint for 10.31.3.2 is gone (the kernel keeps endpoints
#     of vanished addresses; removing them is braid's job).
#  4. lte0 is added once more (braid adds its endpoint again), then braid is
#     stopped with SIGTERM while lte0 still exists: cli's endpoint list must
#     then be exactly what it was before braid started (`ip mptcp endpoint
#     show`, ids included: braid never touched the testbed's two endpoints
#     here, and must remove the one it added).
set -uo pipefail
: "${TB_WIFI_RATE:=20mbit}"
: "${TB_CELL_RATE:=20mbit}"
: "${HOTPLUG_RATE:=20mbit}"
: "${HOTPLUG_MAX_MS:=1000}"
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

LTE_CLI_IP=10.31.3.2
LTE_CONC_IP=10.31.3.1

braid_require_bins
testbed_up

now_ms() { echo $(($(date +%s%N) / 1000000)); }
rx_of() { in_cli cat "/sys/class/net/$1/statistics/rx_bytes"; }

# lte_add: veth lte0 (cli) <-> l0 (conc), addresses, routes, shaping. On
# failure, says which step failed.
lte__step() {
    local out
    out=$("$@" 2>&1) || { echo "lte0 setup step failed: $* -> $out" >&2; return 1; }
}
lte_add() {
    lte__step ip -n "$TB_CLI" link add lte0 type veth peer name l0 netns "$TB_CONC" || return 1
    tb__ns_sysctl "$TB_CLI" net.ipv6.conf.lte0.disable_ipv6=1
    tb__ns_sysctl "$TB_CONC" net.ipv6.conf.l0.disable_ipv6=1
    lte__step ip -n "$TB_CONC" addr add "$LTE_CONC_IP/24" dev l0 &&
        lte__step ip -n "$TB_CONC" link set l0 up &&
        lte__step tb_shape "$TB_CONC" l0 "$HOTPLUG_RATE" &&
        lte__step tb_shape "$TB_CLI" lte0 "$HOTPLUG_RATE" &&
        lte__step ip -n "$TB_CLI" addr add "$LTE_CLI_IP/24" dev lte0 &&
        lte__step ip -n "$TB_CLI" link set lte0 up || return 1
    local i
    for ((i = 0; i < 50; i++)); do  # carrier (bounded)
        [[ "$(ip -n "$TB_CLI" -br link show lte0)" == *LOWER_UP* ]] && break
        sleep 0.05
    done
    lte__step ip -n "$TB_CLI" route replace 10.31.3.0/24 dev lte0 src "$LTE_CLI_IP" table 103 &&
        lte__step ip -n "$TB_CLI" route replace default via "$LTE_CONC_IP" dev lte0 table 103 &&
        lte__step ip -n "$TB_CLI" route replace unreachable default metric 4096 table 103 &&
        { [[ "$(ip -n "$TB_CLI" rule show)" == *"from $LTE_CLI_IP lookup 103"* ]] ||
              lte__step ip -n "$TB_CLI" rule add from "$LTE_CLI_IP" table 103 pref 1003; } &&
        lte__step ip -n "$TB_CLI" route replace default via "$LTE_CONC_IP" dev lte0 metric 300
}
lte_del() { ip -n "$TB_CLI" link del lte0; }  # deletes l0 in conc too

# poll_lte_start add|del, then (after the change) poll_lte_result: poll
# `braid paths --json` and `ip mptcp endpoint show` in cli every 100 ms for up
# to 3 s after T0 (ms since the epoch). The poller (one python process, so a
# poll costs one CLI call, ~20 ms) is started before the change and waits for
# T0, so its own start-up is not part of the measured delay. `add` waits for
# lte0 listed with state up and address 10.31.3.2, and for the endpoint
# "10.31.3.2 dev lte0 subflow"; `del` for lte0 gone and no endpoint for
# 10.31.3.2. poll_lte_result sets POLL_PATHS_MS and POLL_EP_MS (delay from T0
# to the end of the first poll that saw each condition, -1 if none did: an
# upper bound, ~100 ms coarse) and POLL (the poller's output, with the last
# observations).
poll_lte_start() {
    rm -f "$TB_TMP/poll.t0" "$TB_TMP/poll.out"
    # shellcheck disable=SC2046
    python3 - "$1" "$TB_TMP/poll.t0" "$TB_CLI" "$BRAID" "$LTE_CLI_IP" $(braid__env) >"$TB_TMP/poll.out" 2>&1 <<'PY' &
import json, os, subprocess, sys, time
mode, t0file, ns, braid, ip = sys.argv[1:6]
env = sys.argv[6:]
for _ in range(2000):  # wait for T0 (bounded: 20 s)
    if os.path.exists(t0file):
        break
    time.sleep(0.01)
else:
    print(-1, -1); print("no T0 given"); sys.exit(0)
t0 = int(open(t0file).read()) / 1000.0
paths_cmd = ["ip", "netns", "exec", ns, "env", *env, braid, "paths", "--json"]
ep_cmd = ["ip", "-n", ns, "-j", "mptcp", "endpoint", "show"]
got_paths = got_ep = -1
last_paths = last_ep = ""
tick = 0
while True:
    if got_paths < 0:
        r = subprocess.run(paths_cmd, capture_output=True, text=True)
        last_paths = (r.stdout + r.stderr).replace("\n", " ")
        if r.returncode == 0:
            lte = next((p for p in json.loads(r.stdout) if p.get("name") == "lte0"), None)
            last_paths = json.dumps(lte)
            ok = (lte is not None and lte.get("state") == "up" and ip in lte.get("addresses", [])) if mode == "add" \
                 else lte is None
            if ok:
                got_paths = int((time.time() - t0) * 1000)
    if got_ep < 0:
        r = subprocess.run(ep_cmd, capture_output=True, text=True)
        eps = json.loads(r.stdout) if r.stdout.strip() else []
        last_ep = json.dumps(eps)
        mine = [e for e in eps if e.get("address") == ip]
        ok = (any(e.get("dev") == "lte0" and e.get("subflow") and not e.get("backup") for e in mine)) if mode == "add" \
             else not mine
        if ok:
            got_ep = int((time.time() - t0) * 1000)
    if (got_paths >= 0 and got_ep >= 0) or time.time() - t0 > 3.0:
        break
    tick += 1
    time.sleep(max(0.0, t0 + 0.1 * tick - time.time()))  # next 100 ms tick
print(got_paths, got_ep)
print("last braid paths entry for lte0:", last_paths)
print("last endpoints:", last_ep)
PY
    POLL_PID=$!
    TB_PIDS+=("$POLL_PID")  # ended at teardown if the test fails first
}
# (not in a $(...) subshell: it waits for the poller, a child of this shell)
poll_lte_result() {
    echo "$T0" >"$TB_TMP/poll.t0.tmp" && mv "$TB_TMP/poll.t0.tmp" "$TB_TMP/poll.t0"
    wait "$POLL_PID"
    POLL=$(cat "$TB_TMP/poll.out")
    local a b
    read -r a b <<<"$POLL"
    [[ "$a" =~ ^-?[0-9]+$ && "$b" =~ ^-?[0-9]+$ ]] || tb_fail "the lte0 poller printed no result: $POLL"
    POLL_PATHS_MS=$a POLL_EP_MS=$b
}

# braid_log_delay REGEX: ms from T0 to the first braid.log line at or after T0
# matching REGEX (from the line's HH:MM:SS.mmm timestamp), or -1. Informational.
braid_log_delay() {
    python3 - "$TB_TMP/braid.log" "$T0" "$1" <<'PY'
import datetime, re, sys
log, t0, pat = sys.argv[1], int(sys.argv[2]), re.compile(sys.argv[3])
day = datetime.datetime.fromtimestamp(t0 / 1000).replace(hour=0, minute=0, second=0, microsecond=0)
for line in open(log, errors="replace"):
    m = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) ", line)
    if not m or not pat.search(line):
        continue
    h, mi, se, ms = map(int, m.groups())
    t = int((day + datetime.timedelta(hours=h, minutes=mi, seconds=se, milliseconds=ms)).timestamp() * 1000)
    if t >= t0:
        print(t - t0); sys.exit(0)
print(-1)
PY
}

endpoints_before=$(cli_endpoints raw)
tb_log "MPTCP endpoints in cli before braid starts: $(tr '\n' ';' <<<"$endpoints_before")"
braid_write_config '{"paths": {"wifi0": {"kind": "wifi"}, "cell0": {"kind": "cellular"}}}'
braid_start_concentrator
braid_start_client
expect_download warmup small.bin --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"
[[ "$(braid_path_json lte0)" == absent ]] || tb_fail "braid lists lte0 before it exists: $(braid_path_json lte0)"

# ---- 1. lte0 appears ----------------------------------------------------------------
poll_lte_start add
t_start=$(now_ms)
lte_add || tb_fail "could not create lte0 in cli (veth to conc, addresses, routes)"
T0=$(now_ms)
tb_log "lte0 added ($((T0 - t_start)) ms for the setup commands): $(ip -n "$TB_CLI" -br addr show lte0)"
poll_lte_result
appear_ms=$POLL_PATHS_MS ep_ms=$POLL_EP_MS
log_ms=$(braid_log_delay 'paths: lte0 on: MPTCP endpoint')
tb_log "lte0 listed by braid paths after $appear_ms ms, braid's endpoint after $ep_ms ms (-1 = not within 3 s; polled every 100 ms); braid logged adding the endpoint $log_ms ms after the setup"
((appear_ms >= 0)) ||
    tb_fail "lte0 (up, $LTE_CLI_IP, default route metric 300) not listed as up by braid paths within 3 s: $POLL $(cat "$TB_TMP/braid-cli.err" 2>/dev/null)"
((ep_ms >= 0)) || tb_fail "braid lists lte0 but added no endpoint '$LTE_CLI_IP dev lte0 subflow' within 3 s: $POLL"
tb_log "lte0: kind $(braid_path_json lte0 kind), policy $(braid_path_json lte0 policy); endpoints: $(cli_endpoints raw | tr '\n' ';')"
((appear_ms <= HOTPLUG_MAX_MS)) || tb_fail "lte0 appeared in braid paths only after $appear_ms ms (want <= $HOTPLUG_MAX_MS)"
((ep_ms <= HOTPLUG_MAX_MS)) || tb_fail "braid's endpoint for lte0 appeared only after $ep_ms ms (want <= $HOTPLUG_MAX_MS)"

# ---- 2. the new path carries traffic ------------------------------------------------
w0=$(rx_of wifi0) c0=$(rx_of cell0) l0=$(rx_of lte0)
tag=$(new_tag)
expect_download with-lte big.bin --socks5 "$BRAID_SOCKS" "$(tb_url "big.bin?tag=$tag")"
expect_via_concentrator "$tag"
w=$(($(rx_of wifi0) - w0)) c=$(($(rx_of cell0) - c0)) l=$(($(rx_of lte0) - l0))
all=$((w + c + l))
tb_log "20 MiB with lte0: rx wifi0 $w B ($((w * 100 / all))%), cell0 $c B ($((c * 100 / all))%), lte0 $l B ($((l * 100 / all))%)"
((l * 100 / all >= 10)) ||
    tb_fail "lte0 carried only $((l * 100 / all))% of a 20 MiB download (want >= 10%): braid's endpoint for it does not make subflows"
lte_share=$((l * 100 / all))

# ---- 3. lte0 disappears --------------------------------------------------------------
poll_lte_start del
lte_del || tb_fail "could not delete lte0"
T0=$(now_ms)
poll_lte_result
gone_ms=$POLL_PATHS_MS ep_gone_ms=$POLL_EP_MS
((gone_ms >= 0)) || tb_fail "lte0 was deleted but braid paths still lists it after 3 s: $POLL"
((ep_gone_ms >= 0)) || tb_fail "lte0 was deleted but the endpoint for $LTE_CLI_IP is still there after 3 s: $POLL"
log_ms=$(braid_log_delay 'path lte0: gone')
tb_log "lte0 deleted: braid logged 'gone' after $log_ms ms; gone from braid paths after $gone_ms ms, its endpoint after $ep_gone_ms ms; endpoints: $(cli_endpoints raw | tr '\n' ';')"
((gone_ms <= HOTPLUG_MAX_MS)) || tb_fail "lte0 left braid paths only after $gone_ms ms (want <= $HOTPLUG_MAX_MS)"
((ep_gone_ms <= HOTPLUG_MAX_MS)) || tb_fail "braid removed the endpoint of lte0 only after $ep_gone_ms ms (want <= $HOTPLUG_MAX_MS)"
expect_download after-del small.bin --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"

# ---- 4. braid stops with lte0 present: endpoints as before ---------------------------------
poll_lte_start add
lte_add || tb_fail "could not re-create lte0"
T0=$(now_ms)
poll_lte_result
readd_ms=$POLL_EP_MS
((readd_ms >= 0)) || tb_fail "lte0 came back but braid added no endpoint for it within 3 s: $POLL"
tb_log "lte0 re-added: endpoint after $readd_ms ms"
braid_check_alive
t_stop=$(now_ms)
braid_stop_client
tb_log "braid stopped (SIGTERM) in $(($(now_ms) - t_stop)) ms; $(grep -E 'restored|shutting down' "$TB_TMP/braid.log" | tail -n2 | tr '\n' ' ')"
endpoints_after=$(cli_endpoints raw)
tb_log "MPTCP endpoints in cli after braid stopped: $(tr '\n' ';' <<<"$endpoints_after")"
[[ "$endpoints_after" == "$endpoints_before" ]] ||
    tb_fail "after braid stopped, cli's MPTCP endpoints are [$(tr '\n' ';' <<<"$endpoints_after")], want what was there before it started: [$(tr '\n' ';' <<<"$endpoints_before")]"

tb_pass "lte0 appeared in braid paths after $appear_ms ms (endpoint $ep_ms ms), carried $lte_share% of a 20 MiB download; deleted -> gone after $gone_ms ms (endpoint $ep_gone_ms ms); braid's endpoints removed on SIGTERM"
