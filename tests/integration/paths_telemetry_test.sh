#!/usr/bin/env bash
# Per-path telemetry of the control API (`braid paths --json`, `braid top`)
# against what the kernel and the file say.
#
# A bonded 20 MiB download through Braid's SOCKS5 proxy (wifi 40 Mbit/s, cell
# 20 Mbit/s). Braid reads each upstream connection's per-subflow counters
# (MPTCP_TCPINFO: tcpi_bytes_received) once a second and at close, and credits
# the growth to the path owning the subflow's local address.
#
#  (c) During the download, `braid top --seconds 3 --json` prints traffic
#      lines; the busiest one's total down_bps must be plausible for links
#      shaped to 60 Mbit/s in all: between 40 % and 120 % of that (a rate in
#      bytes instead of bits, or per 10 s, would be far outside).
#  After the download closed and >= 1.1 s more (so the close reading is
#  folded in and no sample is pending), `braid paths --json` per path
#  "session.down" (S_wifi, S_cell) is compared with:
#  (b) the bytes transferred: N = what the client got, from braid's own
#      "[sN] closed: ... down N B" log line, must be the file plus an HTTP
#      response head (size <= N <= size + 4 KiB); then N <= S_wifi + S_cell
#      <= N * 1.02. The lower bound is exact: every byte the client got came
#      over some subflow (a missed final reading at close would lose ~1 s of
#      traffic, 15-35 % of the file). The subflows may carry a little more
#      than N: the tunnel's reply header (11 B) and data the kernel reinjected
#      on the other subflow; 2 % (~420 KB) is slack for that only. Seen here:
#      +11 B.
#  (a) the kernel's interface rx counters of wifi0 and cell0 over the same
#      download (I_wifi, I_cell): for each path 0.90 <= S / I <= 1.005.
#      Why this bound: I counts whole frames (Ethernet + IP + TCP/MPTCP
#      headers: ~6 % per 1500-byte frame, less when veth passes GSO
#      super-frames, as it does here after tbf), plus pure ACKs and any
#      duplicate segments, while S counts the subflow's unique payload bytes,
#      so S <= I up to counter-read timing (the rx counters are read right
#      before and after this one download, and S is the growth of
#      session.down over the same interval, so the warm-up is outside both).
#      10 % below covers the header overhead with room; a wrong path mapping
#      or a missed final reading (~1 s of traffic = 10-25 % of one path)
#      falls outside. Seen here: S / I = 0.97-0.99. The share of each path
#      must also agree within 3 percentage points.
#  Also: "total" equals "session" (fresh private state dir), and both paths
#  have "rtt_ms" > 0 and "subflows" 0 after the close.
set -uo pipefail
: "${TB_WIFI_RATE:=40mbit}"
: "${TB_CELL_RATE:=20mbit}"
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

braid_require_bins
testbed_up

cell_rx() { in_cli cat /sys/class/net/cell0/statistics/rx_bytes; }
wifi_rx() { in_cli cat /sys/class/net/wifi0/statistics/rx_bytes; }

braid_write_config '{"paths": {"wifi0": {"kind": "wifi"}, "cell0": {"kind": "cellular"}}}'
braid_start_concentrator
braid_start_client

expect_download warmup small.bin --socks5 "$BRAID_SOCKS" "$(tb_url small.bin)"

# session.down / total.down / rtt_ms / subflows of both paths, once the API is
# quiet: the numbers unchanged over 1.1 s (one telemetry tick), at most ~11 s.
api_snapshot() {
    braid_cli paths --json 2>"$TB_TMP/braid-cli.err" | python3 -c '
import json, sys
p = {x["name"]: x for x in json.load(sys.stdin)}
out = []
for n in ("wifi0", "cell0"):
    x = p.get(n)
    if x is None:
        print("missing", n); sys.exit(0)
    out += [x["session"]["down"], x["total"]["down"], x["rtt_ms"], x["subflows"]]
print(" ".join(str(v) for v in out))
'
}
api_quiet_snapshot() {
    local a b i
    a=$(api_snapshot)
    for ((i = 0; i < 10; i++)); do
        sleep 1.1
        b=$(api_snapshot)
        [[ "$a" == "$b" ]] && { echo "$b"; return 0; }
        a=$b
    done
    echo "$b"
}

snap0=$(api_quiet_snapshot)
[[ "$snap0" != missing* && -n "$snap0" ]] || tb_fail "braid paths --json does not list both paths: '$snap0' $(cat "$TB_TMP/braid-cli.err")"
read -r s0_wifi _ _ _ s0_cell _ _ _ <<<"$snap0"

size=$(tb_file_size big.bin)
out="$TB_TMP/telemetry.body"
iw0=$(wifi_rx) ic0=$(cell_rx)
in_cli curl -sS --max-time 180 --socks5 "$BRAID_SOCKS" -o "$out" -w '%{http_code} %{size_download} %{time_total}' \
    "$(tb_url big.bin)" >"$TB_TMP/telemetry.curl-w" 2>"$TB_TMP/telemetry.curl-stderr" &
curl_pid=$!
# (c) live rates while it runs (3 lines, one a second)
# shellcheck disable=SC2046
top_out=$(timeout 15 ip netns exec "$TB_CLI" env $(braid__env) "$BRAID" top --seconds 3 --json 2>"$TB_TMP/top.err")
top_rc=$?
wait "$curl_pid"
curl_rc=$?
tb_log "curl [telemetry] rc=$curl_rc w='$(cat "$TB_TMP/telemetry.curl-w")' $(cat "$TB_TMP/telemetry.curl-stderr")"
((curl_rc == 0)) || tb_fail "the download failed (curl exit $curl_rc: $(cat "$TB_TMP/telemetry.curl-stderr"))"
[[ "$(sha256sum "$out" | cut -d' ' -f1)" == "$(tb_file_sha big.bin)" ]] || tb_fail "the download arrived corrupt"
iw=$(($(wifi_rx) - iw0)) ic=$(($(cell_rx) - ic0))

# ---- (c) braid top ----------------------------------------------------------------
((top_rc == 0)) || tb_fail "braid top --seconds 3 --json failed (exit $top_rc): $(cat "$TB_TMP/top.err")"
shaped_bps=$(($(tb_rate_bits "$TB_WIFI_RATE") + $(tb_rate_bits "$TB_CELL_RATE")))
top_res=$(python3 -c '
import json, sys
best = None
lines = [l for l in sys.stdin.read().splitlines() if l.strip()]
for l in lines:
    e = json.loads(l)
    if e.get("type") != "traffic":
        continue
    p = e["paths"]
    tot = sum(p[n]["down_bps"] for n in p)
    if best is None or tot > best[0]:
        best = (tot, p.get("wifi0", {}).get("down_bps", 0), p.get("cell0", {}).get("down_bps", 0))
if best is None:
    print("none", len(lines))
else:
    print(len(lines), int(best[0]), int(best[1]), int(best[2]))
' <<<"$top_out") || tb_fail "braid top --json printed something that is not JSON lines: $top_out"
read -r top_n top_tot top_wifi top_cell <<<"$top_res"
[[ "$top_n" != none ]] || tb_fail "braid top --seconds 3 --json printed no traffic line: $top_out"
tb_log "(c) braid top: $top_n lines; busiest second: down $top_tot bit/s (wifi0 $top_wifi, cell0 $top_cell), links shaped to $shaped_bps bit/s"
((top_n >= 2 && top_n <= 4)) || tb_fail "braid top --seconds 3 --json printed $top_n lines, want about 3 (one a second): $top_out"
((top_tot * 100 >= shaped_bps * 40 && top_tot * 100 <= shaped_bps * 120)) ||
    tb_fail "braid top's busiest second shows $top_tot bit/s down, implausible for links shaped to $shaped_bps bit/s (want 40-120 %): $top_out"

# ---- after the close -------------------------------------------------------------------
snap=$(api_quiet_snapshot)
[[ "$snap" != missing* && -n "$snap" ]] || tb_fail "braid paths --json does not list both paths: '$snap'"
read -r s_wifi t_wifi rtt_wifi sub_wifi s_cell t_cell rtt_cell sub_cell <<<"$snap"
sw=$((s_wifi - s0_wifi)) sc=$((s_cell - s0_cell))
# What the client got (session log line of the one big download).
client_down=$(grep -E '\] closed: .*down [0-9]+ B' "$TB_TMP/braid.log" | sed -E 's/.*down ([0-9]+) B.*/\1/' | sort -n | tail -n1)
tb_log "API session.down: wifi0 $sw B, cell0 $sc B, sum $((sw + sc)) B; interface rx: wifi0 $iw B, cell0 $ic B; file $size B; braid's session log: down $client_down B"
tb_log "API after the close: total.down wifi0 $t_wifi cell0 $t_cell, rtt_ms wifi0 $rtt_wifi cell0 $rtt_cell, subflows wifi0 $sub_wifi cell0 $sub_cell"

# ---- (b) API vs bytes transferred --------------------------------------------------------
[[ -n "$client_down" ]] || tb_fail "braid logged no '[sN] closed: ... down N B' line for the download"
((client_down >= size && client_down <= size + 4096)) ||
    tb_fail "braid's session log says the client got $client_down B down, want the file ($size B) plus an HTTP head"
sum=$((sw + sc))
((sum >= client_down)) ||
    tb_fail "(b) the API's per-path session.down sum to $sum B, less than the $client_down B the client got (file $size B): bytes are missing from the telemetry (final reading at close not folded in?)"
((sum * 100 <= client_down * 102)) ||
    tb_fail "(b) the API's per-path session.down sum to $sum B, more than 2 % above the $client_down B the client got: bytes counted twice?"
excess_ppm=$(((sum - client_down) * 1000000 / client_down))

# ---- (a) API vs interface counters, per path ---------------------------------------------
check_ratio() {
    local what="$1" api="$2" iface="$3"
    ((iface > 0)) || tb_fail "(a) $what: the interface received nothing"
    local permille=$((api * 1000 / iface))
    tb_log "(a) $what: API $api B / interface $iface B = $permille per mille"
    ((permille >= 900 && permille <= 1005)) ||
        tb_fail "(a) $what: the API's session.down ($api B) is $permille per mille of the interface's rx bytes ($iface B); want 900-1005 (headers make the interface count a little more)"
}
check_ratio wifi0 "$sw" "$iw"
check_ratio cell0 "$sc" "$ic"
api_share=$((sw * 100 / sum)) if_share=$((iw * 100 / (iw + ic)))
d=$((api_share - if_share)); ((d < 0)) && d=$((-d))
((d <= 3)) || tb_fail "(a) wifi0's share is $api_share % by the API but $if_share % by the interface counters"

# ---- consistency ----------------------------------------------------------------------------
((t_wifi == s_wifi && t_cell == s_cell)) ||
    tb_fail "total.down (wifi0 $t_wifi, cell0 $t_cell) differs from session.down (wifi0 $s_wifi, cell0 $s_cell) on a fresh state dir"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 and float(sys.argv[2]) > 0 else 1)' "$rtt_wifi" "$rtt_cell" ||
    tb_fail "rtt_ms after a bonded download: wifi0 $rtt_wifi, cell0 $rtt_cell; want > 0 for both"
((sub_wifi == 0 && sub_cell == 0)) ||
    tb_fail "no connection is open, but braid paths shows subflows wifi0 $sub_wifi, cell0 $sub_cell"

tb_pass "API per-path down wifi0 $sw + cell0 $sc = $sum B for $client_down B received (+$excess_ppm ppm); vs interface rx $((sw * 1000 / iw))/$((sc * 1000 / ic)) per mille; top peak $((top_tot / 1000000)) Mbit/s of $((shaped_bps / 1000000))"
