#!/usr/bin/env bash
# The multipath datagram carrier (KIND 0x03, docs/PROTOCOL.md "Datagram
# carrier"): SOCKS5 UDP datagrams from PySocks in cli ride authenticated UDP
# packets over one socket per path (wifi0, cell0) to the concentrator's UDP
# port 10.31.1.1:7300, against the UDP echo server on 10.31.9.2:7 in net.
# udp_datagram_client.py streams datagrams (16..1200 bytes of random content,
# one every 20-50 ms, no retries, each reply matched to its datagram by content, its SOCKS5 source checked,
# a second reply to one datagram is a failure) and watches with AF_PACKET
# which interface each of braid's packets left on. braid's config sets
# wifi0 kind wifi and cell0 kind cellular.
#
#  1. redundant ("udp": {"preset": "realtime"}), both paths up: 200 datagrams
#     all answered; every datagram left on BOTH interfaces (capture, and
#     braid's per-path sent counts); braid dropped the second copies of the
#     replies (duplicates > 0); the concentrator forwarded each datagram once
#     (packets in = 200, the other copies counted as duplicates), sent its
#     replies on both paths (out = 400); the echo server saw each once, from
#     10.31.9.1; nothing rejected, nothing framed.
#  2. redundant, wifi0 blackholed (nftables, in and out) 1 s into a stream of
#     200: not one datagram lost, nothing left on wifi0 afterwards, cell0
#     carried every datagram.
#  3. lowest-rtt ("scheduler": "lowest-rtt"): with both paths up every
#     datagram leaves on ONE path (no copies: braid's per-path sent counts add
#     up to the datagrams); then that path is blackholed 1 s into the stream:
#     datagrams are lost only from the blackhole on, for at most 4 probe
#     intervals + 0.3 s (2.3 s: braid gives a path up 3 intervals after its
#     last probe answer, the concentrator learns it from the next probe and
#     sends replies on the dead path until then); every later datagram is
#     answered and the upstream ones after the switch left on the other path.
#  4. security (lowest-rtt): during a stream of 100, nftables `dup` sends a
#     second copy of every packet braid sends to the concentrator's UDP port;
#     afterwards, with the association still open, 20 packets with the live
#     association id (read from the capture, checked against the
#     concentrator's "UDP association ID" line) and a wrong tag, 20 with
#     association ids that are not live, and 20 of braid's captured data
#     packets resent byte for byte. The app got each reply exactly once and
#     nothing during 1 s of quiet; the echo server saw the 100 datagrams once
#     each and none of the forged ones; the concentrator's counters: 100
#     packets in, "rejected 20 forged", "R duplicate or replayed" = the
#     copies nftables made (by its counters) + 20 (2 of slack); at its stop "dropped N packets of
#     unknown associations" with N >= 20.
#  5. fallback to framed, UDP to port 7300 blocked before the association
#     starts, removed 4 s into it (the stream goes on until 5 s):
#     a. nftables drop in cli's output hook (braid's sends then fail with
#        EPERM and those datagrams go framed at once): no datagram
#        lost; braid logs "no answer to datagram probes on any path for 3 s"
#        2.5-4 s after the association started and "datagram probes answered
#        again" within 1.2 s of the unblock; the concentrator saw both framed
#        datagrams and datagram packets.
#     b. silent drop on the way out of both interfaces (netdev egress: like a
#        firewall out in the network): the same log lines; every datagram sent
#        more than 3.3 s after the association started is answered (those sent
#        before the fallback are lost: counted and reported).
set -uo pipefail
: "${TB_BIG_MB:=1}"  # (no bulk downloads here)
# shellcheck source=udp_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/udp_lib.sh"

braid_require_bins
udp_require_pysocks
command -v nft >/dev/null 2>&1 || tb_skip "nft (nftables) not found: needed to blackhole and block paths"
testbed_up
udp_start_echo

DG_PY="$BRAID_TESTS_DIR/udp_datagram_client.py"
DG_CONC="$TB_CONC_WIFI_IP:$BRAID_CONC_PORT"
PROBE_MS=500
SEED=${UDP_SEED:-$RANDOM}
tb_log "random seed $SEED (UDP_SEED=$SEED to replay)"
DG_C_SENT_wifi0=0 DG_C_SENT_cell0=0  # (set by dg_client_counters)
PATHS_CFG='"paths": {"wifi0": {"kind": "wifi"}, "cell0": {"kind": "cellular"}}'

# ---------------------------------------------------------------- nft rule files
for dev in wifi0 cell0; do  # the same table as tb_blackhole, so `tb_blackhole ... off` removes it
    cat >"$TB_TMP/bh_$dev.nft" <<EOF
table netdev braid_bh_$dev {
    chain egress_drop { type filter hook egress device "$dev" priority 0; policy drop; }
    chain ingress_drop { type filter hook ingress device "$dev" priority 0; policy drop; }
}
EOF
done
cat >"$TB_TMP/dup.nft" <<EOF
table ip braid_dg_dup {
    chain out {
        type filter hook output priority 0; policy accept;
        oifname "wifi0" udp dport $BRAID_CONC_PORT counter dup to $TB_CONC_WIFI_IP device "wifi0"
        oifname "cell0" udp dport $BRAID_CONC_PORT counter dup to $TB_CONC_CELL_IP device "cell0"
    }
}
EOF
cat >"$TB_TMP/block_output.nft" <<EOF
table inet braid_dg_block {
    chain out {
        type filter hook output priority 0; policy accept;
        udp dport $BRAID_CONC_PORT counter drop
    }
}
EOF
cat >"$TB_TMP/block_silent.nft" <<EOF
table netdev braid_dg_silent {
    chain wifi { type filter hook egress device "wifi0" priority 0; policy accept; udp dport $BRAID_CONC_PORT counter drop; }
    chain cell { type filter hook egress device "cell0" priority 0; policy accept; udp dport $BRAID_CONC_PORT counter drop; }
}
EOF

# ---------------------------------------------------------------- helpers
# dg_stream LABEL ARGS...: udp_datagram_client.py stream in cli; sets UDP_RC and
# UDP_OUT (so udp_out_value works) and fails the test when it failed.
dg_stream() {
    local label="$1"
    shift
    UDP_OUT=$(timeout -k 5 60 ip netns exec "$TB_CLI" "$TB_PYTHON" -u "$DG_PY" stream --proxy "$BRAID_SOCKS" \
        --dest "$UDP_ECHO" --expect-from "$UDP_ECHO" --conc "$DG_CONC" "$@" 2>&1)
    UDP_RC=$?
    printf '%s\n' "$UDP_OUT" >"$TB_TMP/$label.dg-client.log"
    tb_log "dg_stream [$label] $* -> rc=$UDP_RC"
    printf '%s\n' "$UDP_OUT" | sed 's/^/    | /' >&2
    ((UDP_RC == 77)) && tb_skip "udp_datagram_client.py: $(grep -m1 '^SKIP' <<<"$UDP_OUT")"
    ((UDP_RC == 0)) || tb_fail "[$label] udp_datagram_client.py failed (exit $UDP_RC): $(grep -m1 '^FAIL' <<<"$UDP_OUT")"
}

# dg_field KEY N: the Nth word after KEY on the "KEY ..." line of UDP_OUT.
dg_field() { awk -v k="$1" -v n="$2" '$1 == k { print $(n + 1); exit }' <<<"$UDP_OUT"; }

# dg_captured KEY IFACE: packets on IFACE in the "KEY wifi0=N cell0=M" line (0 if absent).
dg_captured() {
    local v
    v=$(awk -v k="$1" '$1 == k { print; exit }' <<<"$UDP_OUT" | grep -oE "\\b$2=[0-9]+" | cut -d= -f2)
    echo "${v:-0}"
}

# secs_of LINE: seconds since midnight of a "HH:MM:SS.mmm ..." log line.
secs_of() { awk '{ split($1, t, ":"); printf "%.3f\n", t[1] * 3600 + t[2] * 60 + t[3] }' <<<"$1"; }
# elapsed A B: B - A in seconds (log lines), across midnight too.
elapsed() { awk -v a="$(secs_of "$1")" -v b="$(secs_of "$2")" 'BEGIN { d = b - a; if (d < -43200) d += 86400; printf "%.3f\n", d }'; }
fle() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }  # float a <= b

# dg_client_counters LABEL: after dg_stream, braid's end-of-association lines
# for its relay port. Sets (besides udp_client_counters' UDP_C_*, UDP_SID)
# DG_C_SENT DG_C_RECEIVED DG_C_DUPS DG_C_REJECTED DG_C_ASSOC, DG_C_SENT_<path>,
# DG_C_RECV_<path>, DG_C_LINE and DG_C_START (the association's start line).
dg_client_counters() {
    local label="$1" port line i p re
    port=$(udp_out_value relay | sed 's/.*://')
    udp_client_counters braid "$port"
    re="\\[s$UDP_SID\\] datagram carrier \\(association ([0-9]+)\\): ([0-9]+) sent, ([0-9]+) received, ([0-9]+) duplicates dropped, ([0-9]+) rejected; per path sent/received:(.*)"
    line=""
    for ((i = 0; i < 30; i++)); do
        line=$(tail -n +"$UDP_C_FROM_LINE" "$TB_TMP/braid.log" | grep -E "$re" | head -n1)
        [[ -n "$line" ]] && break
        sleep 0.1
    done
    [[ "$line" =~ $re ]] || tb_fail "[$label] braid logged no 'datagram carrier (association ...)' line for s$UDP_SID: the datagram carrier was not used"
    DG_C_ASSOC=${BASH_REMATCH[1]} DG_C_SENT=${BASH_REMATCH[2]} DG_C_RECEIVED=${BASH_REMATCH[3]}
    DG_C_DUPS=${BASH_REMATCH[4]} DG_C_REJECTED=${BASH_REMATCH[5]}
    local per=${BASH_REMATCH[6]}
    DG_C_LINE=${line#*\] }
    DG_C_START=$(tail -n +"$UDP_C_FROM_LINE" "$TB_TMP/braid.log" | grep -m1 -E "\\[s$UDP_SID\\] SOCKS5 UDP ASSOCIATE on")
    for p in wifi0 cell0; do
        if [[ "$per" =~ $p\ ([0-9]+)/([0-9]+)\ rtt ]]; then
            printf -v "DG_C_SENT_$p" '%s' "${BASH_REMATCH[1]}"
            printf -v "DG_C_RECV_$p" '%s' "${BASH_REMATCH[2]}"
        else
            tb_fail "[$label] braid's datagram carrier line has no per-path count for $p: $DG_C_LINE"
        fi
    done
    tb_log "[$label] braid s$UDP_SID: $DG_C_LINE"
}

# dg_conc_counters LABEL ASSOC: the concentrator's lines for association ASSOC.
# Sets DG_K_SID DG_K_SCHED DG_K_IN DG_K_OUT DG_K_FORGED DG_K_REPLAYED DG_K_FRAMED_UP DG_K_FRAMED_DOWN.
dg_conc_counters() {
    local label="$1" assoc="$2" line i re
    re="\\[s([0-9]+)\\] UDP association $assoc \\(datagram carrier, ([a-z-]+) downstream\\)"
    line=$(grep -E "$re" "$TB_TMP/concentrator.log" | head -n1)
    [[ "$line" =~ $re ]] || tb_fail "[$label] the concentrator logged no 'UDP association $assoc (datagram carrier, ...)' line"
    DG_K_SID=${BASH_REMATCH[1]} DG_K_SCHED=${BASH_REMATCH[2]}
    re="\\[s$DG_K_SID\\] datagram carrier: ([0-9]+) packets in, ([0-9]+) out; rejected ([0-9]+) forged, ([0-9]+) duplicate or replayed"
    for ((i = 0; i < 50; i++)); do
        line=$(grep -E "$re" "$TB_TMP/concentrator.log" | head -n1)
        [[ -n "$line" ]] && break
        sleep 0.1
    done
    [[ "$line" =~ $re ]] || tb_fail "[$label] the concentrator never logged the end of association $assoc (s$DG_K_SID)"
    DG_K_IN=${BASH_REMATCH[1]} DG_K_OUT=${BASH_REMATCH[2]} DG_K_FORGED=${BASH_REMATCH[3]} DG_K_REPLAYED=${BASH_REMATCH[4]}
    tb_log "[$label] concentrator s$DG_K_SID ($DG_K_SCHED downstream): ${line#*\] }"
    re="\\[s$DG_K_SID\\] UDP association: ([0-9]+) framed datagrams from the client, ([0-9]+) to it"
    for ((i = 0; i < 20; i++)); do
        line=$(grep -E "$re" "$TB_TMP/concentrator.log" | head -n1)
        [[ -n "$line" ]] && break
        sleep 0.1
    done
    [[ "$line" =~ $re ]] || tb_fail "[$label] the concentrator logged no framed counters for s$DG_K_SID"
    DG_K_FRAMED_UP=${BASH_REMATCH[1]} DG_K_FRAMED_DOWN=${BASH_REMATCH[2]}
}

# echo_count MARK: datagrams the echo server received after MARK, and from where.
echo_count() { udp_log_since udp-echo "$1" | grep -c '^rx'; }
expect_echo_saw() {  # LABEL MARK N: exactly N datagrams, all from the concentrator
    local n srcs
    n=$(echo_count "$2")
    srcs=$(udp_echo_sources "$2" | awk '{ print $2 }' | sort -u | tr '\n' ' ')
    ((n == $3)) || tb_fail "[$1] the echo server received $n datagrams, want $3 (each datagram exactly once)"
    [[ "$srcs" == "$TB_CONC_UP_IP " ]] || tb_fail "[$1] the echo server saw datagrams from '$srcs', want only $TB_CONC_UP_IP"
}

start_client_with() {  # UDP-CONFIG-JSON
    braid_stop_client
    braid_write_config "{$PATHS_CFG, \"udp\": $1}"
    braid_start_client
}

braid_start_concentrator
start_client_with '{"preset": "realtime"}'

# ---- 1. redundant, both paths up ---------------------------------------------------
N=200
echo_mark=$(udp_log_mark udp-echo)
dg_stream redundant --count $N --interval 0.02 --settle 0.5 --capture --seed "$SEED"
dg_client_counters redundant
((UDP_C_UP == N && UDP_C_DOWN == N)) || tb_fail "[redundant] braid counted $UDP_C_UP datagrams up / $UDP_C_DOWN down, want $N / $N"
((DG_C_RECEIVED == N && DG_C_REJECTED == 0)) ||
    tb_fail "[redundant] braid's datagram carrier received $DG_C_RECEIVED datagrams and rejected $DG_C_REJECTED, want $N and 0"
((DG_C_SENT_wifi0 >= N - 5 && DG_C_SENT_wifi0 <= N && DG_C_SENT_cell0 >= N - 5 && DG_C_SENT_cell0 <= N)) ||
    tb_fail "[redundant] per path sent wifi0 $DG_C_SENT_wifi0, cell0 $DG_C_SENT_cell0: want each ~$N (a copy on every path)"
((DG_C_SENT == DG_C_SENT_wifi0 + DG_C_SENT_cell0)) || tb_fail "[redundant] braid's sent $DG_C_SENT is not the sum of its per-path counts"
((DG_C_DUPS > 0)) || tb_fail "[redundant] braid dropped no duplicate: the replies did not come on both paths"
cw=$(dg_captured captured_data wifi0) cc=$(dg_captured captured_data cell0)
((cw >= N - 5 && cc >= N - 5)) || tb_fail "[redundant] data packets that left wifi0: $cw, cell0: $cc; want ~$N on each"
dg_conc_counters redundant "$DG_C_ASSOC"
[[ "$DG_K_SCHED" == redundant ]] || tb_fail "[redundant] the concentrator schedules downstream with $DG_K_SCHED, want redundant"
((DG_K_IN == N)) || tb_fail "[redundant] the concentrator forwarded $DG_K_IN datagrams, want $N (the first copy of each)"
((DG_K_OUT >= 2 * N - 10 && DG_K_OUT <= 2 * N)) || tb_fail "[redundant] the concentrator sent $DG_K_OUT packets down, want ~$((2 * N)) (both paths)"
((DG_K_FORGED == 0 && DG_K_REPLAYED >= N - 5)) ||
    tb_fail "[redundant] the concentrator rejected $DG_K_FORGED forged / $DG_K_REPLAYED duplicates, want 0 / ~$N (the second copies)"
((DG_K_FRAMED_UP == 0 && DG_K_FRAMED_DOWN == 0)) || tb_fail "[redundant] $DG_K_FRAMED_UP/$DG_K_FRAMED_DOWN datagrams went framed, want none"
expect_echo_saw redundant "$echo_mark" "$N"
tb_log "[redundant] OK: $N/$N answered; copies sent wifi0 $DG_C_SENT_wifi0, cell0 $DG_C_SENT_cell0 (on the wire $cw/$cc); braid dropped $DG_C_DUPS duplicate replies; concentrator in $DG_K_IN, out $DG_K_OUT, duplicates $DG_K_REPLAYED"
braid_check_alive

# ---- 2. redundant, wifi0 blackholed mid-stream ---------------------------------------
echo_mark=$(udp_log_mark udp-echo)
dg_stream redundant-blackhole --count $N --interval 0.02 --settle 0.5 --capture --seed "$((SEED + 1))" \
    --at "1.0:nft -f $TB_TMP/bh_wifi0.nft"
tb_blackhole "$TB_CLI" wifi0 off
dg_client_counters redundant-blackhole
after=$(udp_out_value datagrams_after_action)
aw=$(dg_captured captured_data_after_action wifi0) ac=$(dg_captured captured_data_after_action cell0)
((aw == 0 && ac >= after)) ||
    tb_fail "[redundant-blackhole] after the blackhole $aw data packets left wifi0 and $ac cell0; want 0 and >= $after"
((DG_C_RECEIVED == N && DG_C_SENT_cell0 >= N - 5)) ||
    tb_fail "[redundant-blackhole] braid received $DG_C_RECEIVED datagrams and sent $DG_C_SENT_cell0 on cell0, want $N and ~$N"
dg_conc_counters redundant-blackhole "$DG_C_ASSOC"
((DG_K_IN == N)) || tb_fail "[redundant-blackhole] the concentrator forwarded $DG_K_IN datagrams, want $N"
expect_echo_saw redundant-blackhole "$echo_mark" "$N"
tb_log "[redundant-blackhole] OK: 0 of $N lost with wifi0 blackholed at datagram $(udp_out_value action_index); cell0 carried $DG_C_SENT_cell0, wifi0 $DG_C_SENT_wifi0 (of which $(dg_captured captured_data_before_action wifi0) before the blackhole)"
braid_check_alive

# ---- 3. lowest-rtt: one path, then the other ------------------------------------------
start_client_with '{"carrier": "datagram", "scheduler": "lowest-rtt", "rules": []}'
echo_mark=$(udp_log_mark udp-echo)
dg_stream lowest-rtt --count $N --interval 0.02 --settle 1.0 --capture --seed "$((SEED + 2))" --max-lost $N \
    --at "1.0:nft -f $TB_TMP/bh_{busiest}.nft"
tb_blackhole "$TB_CLI" wifi0 off
tb_blackhole "$TB_CLI" cell0 off
first=$(awk '$1 == "action_busiest" { print $2; exit }' <<<"$UDP_OUT")
[[ "$first" == wifi0 ]] && second=cell0 || second=wifi0
idx=$(udp_out_value action_index)
lost=$(udp_out_value lost)
recovered=$(udp_out_value recovered_after)
dg_client_counters lowest-rtt
b1=$(dg_captured captured_data_before_action "$first") b2=$(dg_captured captured_data_before_action "$second")
((b1 == idx && b2 <= 2)) ||
    tb_fail "[lowest-rtt] before the blackhole $b1 data packets left $first and $b2 $second; want all $idx on one path"
((DG_C_SENT == N && DG_C_SENT_wifi0 + DG_C_SENT_cell0 == N)) ||
    tb_fail "[lowest-rtt] braid sent $DG_C_SENT packets for $N datagrams (per path $DG_C_SENT_wifi0 + $DG_C_SENT_cell0): want one each"
(($(udp_out_value lost_before_action) == 0)) || tb_fail "[lowest-rtt] datagrams were lost before the blackhole"
# braid stops using a path 3 probe intervals after its last answer (or once
# >= 20 % of its probes are lost); the concentrator learns it from the next
# probe, so replies may follow the dead path one interval longer.
limit=$(awk -v p=$PROBE_MS 'BEGIN { printf "%.3f", 4 * p / 1000 + 0.3 }')
if [[ "$recovered" == never ]] || ! fle "$recovered" "$limit"; then
    tb_fail "[lowest-rtt] datagrams sent up to ${recovered}s after blackholing $first were lost (window $(dg_field lost_window 1)..$(dg_field lost_window 2) s); want the switch to $second within ${limit}s"
fi
after=$(udp_out_value datagrams_after_action)
a2=$(dg_captured captured_data_after_action "$second")
((a2 >= after - lost)) || tb_fail "[lowest-rtt] after the blackhole $a2 data packets left $second, want >= $((after - lost))"
sent2=DG_C_SENT_$second
((${!sent2} >= after - lost)) || tb_fail "[lowest-rtt] braid sent ${!sent2} datagrams on $second, want >= $((after - lost))"
((DG_C_RECEIVED == N - lost)) || tb_fail "[lowest-rtt] braid received $DG_C_RECEIVED datagrams, the app $((N - lost))"
dg_conc_counters lowest-rtt "$DG_C_ASSOC"
[[ "$DG_K_SCHED" == lowest-rtt ]] || tb_fail "[lowest-rtt] the concentrator schedules downstream with $DG_K_SCHED, want lowest-rtt"
((DG_K_REPLAYED == 0)) || tb_fail "[lowest-rtt] the concentrator saw $DG_K_REPLAYED duplicates: lowest-rtt must send each datagram once"
tb_log "[lowest-rtt] OK: all $idx datagrams before the blackhole on $first; blackholed at datagram $idx -> $lost lost (sent $(dg_field lost_window 1)..$(dg_field lost_window 2) s after it: $(udp_out_value lost_ranges)), every datagram from ${recovered}s on answered via $second (${!sent2} sent there)"
braid_check_alive

# ---- 4. security: duplicates in flight, forged, unknown and replayed packets ----------
M=100 K=20
echo_mark=$(udp_log_mark udp-echo)
in_cli nft -f "$TB_TMP/dup.nft" || tb_fail "[security] cannot install the nftables dup rules"
dg_stream security --count $M --interval 0.02 --settle 0.5 --capture --seed "$((SEED + 3))" \
    --at "99:nft insert rule ip braid_dg_dup out accept && nft list table ip braid_dg_dup >$TB_TMP/dup.counters && nft delete table ip braid_dg_dup" \
    --forge $K --unknown $K --replay $K --quiet 1.0 --echo-log "$TB_TMP/udp-echo.log"
# (the stream's last action stops the duplication with an "accept" in front
# of the dup rules, then reads their counters and deletes the table.)
# Copies made: each rule counts every original AND its copy (nf_dup_ipv4
# sends the copy with ip_local_out, through the output hook again, where the
# rule matches but does not duplicate a duplicate), so half its count.
dups=$(grep -oE 'counter packets [0-9]+' "$TB_TMP/dup.counters" | awk '{ s += $3 } END { print int(s / 2) }')
dg_client_counters security
cap_assoc=$(udp_out_value assoc)
((cap_assoc == DG_C_ASSOC)) || tb_fail "[security] the captured packets carry association $cap_assoc, braid logged $DG_C_ASSOC"
dg_conc_counters security "$cap_assoc"  # (finds it by the concentrator's "UDP association ID" line)
((DG_C_RECEIVED == M && DG_C_REJECTED == 0)) ||
    tb_fail "[security] braid received $DG_C_RECEIVED datagrams and rejected $DG_C_REJECTED, want $M and 0"
((dups >= M)) || tb_fail "[security] nftables duplicated only $dups packets, want >= $M (see dup.counters)"
((DG_K_IN == M)) || tb_fail "[security] the concentrator forwarded $DG_K_IN datagrams, want $M: duplicated or replayed packets got through"
((DG_K_FORGED == K)) || tb_fail "[security] the concentrator rejected $DG_K_FORGED forged packets, want $K"
# (every copy and replay must be rejected; a copy lost on the way, unlikely
# at these rates, would lower the count: 2 of slack)
((DG_K_REPLAYED >= dups + K - 2 && DG_K_REPLAYED <= dups + K)) ||
    tb_fail "[security] the concentrator rejected $DG_K_REPLAYED duplicates/replays, want $((dups + K)) ($dups duplicated in flight + $K replayed)"
expect_echo_saw security "$echo_mark" "$M"
tb_log "[security] OK: association $cap_assoc; $dups packets duplicated in flight + $K replayed -> $DG_K_REPLAYED rejected as duplicate or replayed; $K forged -> $DG_K_FORGED rejected as forged; $DG_K_IN of $M forwarded, each reply seen once"
braid_check_alive

# ---- 5. fallback to framed while UDP to the concentrator is blocked ------------------
# fallback_run LABEL NFT-FILE TABLE
fallback_run() {
    local label="$1" file="$2" table="$3" line_fb line_back t_fb t_back t_unblock
    echo_mark=$(udp_log_mark udp-echo)
    in_cli nft -f "$file" || tb_fail "[$label] cannot install $file"
    dg_stream "$label" --count 100 --interval 0.05 --capture --seed "$((SEED + 4))" --max-lost 100 \
        --at "4.0:nft delete table $table"
    dg_client_counters "$label"
    line_fb=$(tail -n +"$UDP_C_FROM_LINE" "$TB_TMP/braid.log" |
        grep -m1 -E "\\[s$UDP_SID\\] no answer to datagram probes on any path for 3 s")
    line_back=$(tail -n +"$UDP_C_FROM_LINE" "$TB_TMP/braid.log" | grep -m1 -E "\\[s$UDP_SID\\] datagram probes answered again")
    [[ -n "$line_fb" ]] || tb_fail "[$label] braid never logged the fallback ('no answer to datagram probes on any path for 3 s')"
    [[ -n "$line_back" ]] || tb_fail "[$label] braid never logged 'datagram probes answered again' after the block was removed"
    t_fb=$(elapsed "$DG_C_START" "$line_fb")
    t_back=$(elapsed "$DG_C_START" "$line_back")
    t_unblock=$(udp_out_value action_since_associate)
    if ! fle 2.5 "$t_fb" || ! fle "$t_fb" 4.0; then
        tb_fail "[$label] the fallback came ${t_fb}s after the association started, want ~3 s"
    fi
    # (log times have ms resolution: 50 ms of slack before the unblock)
    if ! fle "$t_unblock" "$(awk -v t="$t_back" 'BEGIN { print t + 0.05 }')" ||
        ! fle "$t_back" "$(awk -v t="$t_unblock" 'BEGIN { print t + 1.2 }')"; then
        tb_fail "[$label] 'answered again' came ${t_back}s after the association started, the block was removed at ${t_unblock}s; want within 1.2 s after"
    fi
    dg_conc_counters "$label" "$DG_C_ASSOC"
    ((DG_K_FRAMED_UP > 0 && DG_K_IN > 0)) ||
        tb_fail "[$label] the concentrator got $DG_K_FRAMED_UP framed datagrams and $DG_K_IN datagram packets; want both"
    ((DG_K_FRAMED_UP + DG_K_IN == 100 - $(udp_out_value lost) || DG_K_FRAMED_UP + DG_K_IN == 100)) ||
        tb_fail "[$label] the concentrator got $DG_K_FRAMED_UP framed + $DG_K_IN datagram packets for 100 datagrams"
    tb_log "[$label] fallback ${t_fb}s after the association started, block removed at ${t_unblock}s, answered again at ${t_back}s; $(udp_out_value lost) of 100 lost ($(udp_out_value lost_ranges)); concentrator: $DG_K_FRAMED_UP framed, $DG_K_IN datagram packets"
}

fallback_run fallback-output "$TB_TMP/block_output.nft" "inet braid_dg_block"
lost=$(udp_out_value lost)
((lost == 0)) || tb_fail "[fallback-output] $lost datagrams lost ($(udp_out_value lost_ranges)), want 0 (each blocked send goes framed)"
expect_echo_saw fallback-output "$echo_mark" 100
braid_check_alive

fallback_run fallback-silent "$TB_TMP/block_silent.nft" "netdev braid_dg_silent"
lost_last=$(dg_field lost_since_associate 2)
if [[ "$lost_last" != - ]]; then
    fle "$lost_last" 3.3 || tb_fail "[fallback-silent] a datagram sent ${lost_last}s after the association started was lost: after the fallback (~3 s) all must be answered"
fi
tb_log "[fallback-silent] note: $(udp_out_value lost) datagrams sent before the fallback (first ${lost_last}s) were lost: braid sends blind until probes time out"
braid_check_alive

# ---- unknown associations, counted at the concentrator's stop -------------------------
braid_stop_client
braid_stop_concentrator
line=$(grep -E 'datagram port: dropped [0-9]+ packets of unknown associations' "$TB_TMP/concentrator.log" | tail -n1)
[[ "$line" =~ dropped\ ([0-9]+)\ packets ]] || tb_fail "[unknown] the concentrator did not log 'datagram port: dropped N packets of unknown associations' at its stop"
((BASH_REMATCH[1] >= K)) || tb_fail "[unknown] the concentrator dropped ${BASH_REMATCH[1]} packets of unknown associations, want >= $K"
tb_log "[unknown] OK: ${line#* info  }"

tb_pass "datagram carrier: redundant (both paths, wifi0 blackholed), lowest-rtt (one path, switch), forged/duplicated/replayed/unknown packets rejected, fallback to framed and back"
