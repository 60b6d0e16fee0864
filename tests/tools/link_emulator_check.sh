#!/usr/bin/env bash
# Checks for braid-link-emu (tests/tools/link_emulator.cpp); see README.md there.
#
#  ns A                       ns R (router + emulator)                       ns B
#  eth0 10.77.1.2 ── veth ── ra 10.77.1.1   [emu0 TUN]   rb 10.77.2.1 ── veth ── eth0 10.77.2.2
#
# R forwards; every packet arriving on ra or rb is policy-routed into emu0
# (rules `iif ra/rb lookup 100`, table 100: `default dev emu0`); what the
# emulator writes back enters R on emu0, matches no rule and is routed by the
# main table (connected routes of ra/rb).
#
# Checks (exit 0 pass, 1 fail, 77 skip):
#  1. delay 20 ms each way: 20 ICMP echoes 50 ms apart (python raw socket, no
#     ping(1) on this machine), median RTT = 40 ms +- 1 ms (the median, so a
#     few late wake-ups on a busy machine do not decide it; the average is shown)
#  2. run-time change to 60 ms each way (control socket): median RTT = 120 ms +- 1 ms
#  3. loss 10 % on a2b only: 10,000 UDP datagrams a->b lose 10 % +- 1 point,
#     10,000 b->a lose < 0.5 %
#  4. rate 20,000 kbit/s on a2b: iperf3 TCP goodput (receiver side, TCP payload)
#     within 5 % of 20 Mbit/s. The emulator's rate is the IP-level line rate
#     (whole IP packets), so the ideal goodput is 20 Mbit/s * 1448/1500 = 19.31
#     Mbit/s (1448 B payload per 1500 B packet with TCP timestamps).
#  5. jitter 5 ms with reorder=0 keeps order (2,000 UDP datagrams); SIGUSR1
#     prints the counters.
#
# Env: BRAID_LINK_EMU (path of the binary) or BRAID_BIN_DIR (dir holding it).
set -u

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, TUN)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for t in ip ss iperf3 python3 timeout; do
  command -v "$t" >/dev/null 2>&1 || skip "missing tool: $t"
done
EMU=${BRAID_LINK_EMU:-${BRAID_BIN_DIR:-$(dirname "$0")}/braid-link-emu}
[ -x "$EMU" ] || { echo "FAIL: emulator binary not found: $EMU"; exit 1; }

ID=$$$RANDOM
A=emu-a-$ID R=emu-r-$ID B=emu-b-$ID
TMP=$(mktemp -d /tmp/braid-emu-check.XXXXXX)
CTL=$TMP/ctl.sock
EMU_PID="" IPERF_PID=""
FAILS=0

cleanup() {
  [ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null
  if [ -n "$EMU_PID" ]; then
    kill -TERM "$EMU_PID" 2>/dev/null
    for _ in $(seq 20); do kill -0 "$EMU_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$EMU_PID" 2>/dev/null
    echo "--- emulator log (tail)"; tail -n 8 "$TMP/emu.log" 2>/dev/null
  fi
  for ns in "$A" "$R" "$B"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "PASS: $*"; }
ctl() { ip netns exec "$R" "$EMU" --ctl "$CTL" --send "$*" >/dev/null || fail "control: $*"; }
# within VALUE TARGET TOL -> exit status
within() { python3 -c "import sys; sys.exit(0 if abs($1-($2))<=$3 else 1)"; }

# --- namespaces and veths (created inside the namespaces: nothing leaks to the root ns)
ip netns add "$A" && ip netns add "$R" && ip netns add "$B" || skip "cannot create network namespaces"
ip -n "$A" link add eth0 type veth peer name ra netns "$R" || skip "cannot create veth"
ip -n "$B" link add eth0 type veth peer name rb netns "$R" || skip "cannot create veth"
ip -n "$A" addr add 10.77.1.2/24 dev eth0
ip -n "$B" addr add 10.77.2.2/24 dev eth0
ip -n "$R" addr add 10.77.1.1/24 dev ra
ip -n "$R" addr add 10.77.2.1/24 dev rb
for ns in "$A" "$R" "$B"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$A" link set eth0 up; ip -n "$B" link set eth0 up
ip -n "$R" link set ra up; ip -n "$R" link set rb up
ip -n "$A" route add default via 10.77.1.1
ip -n "$B" route add default via 10.77.2.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0

# --- the emulator and the policy routing into its TUN
# (nice -n -10: a busy machine wakes the emulator late less often, as in testbed.sh's tb_emulate)
ip netns exec "$R" nice -n -10 "$EMU" --dev emu0 --a-net 10.77.1.0/24 --b-net 10.77.2.0/24 \
  --ctl "$CTL" --seed 1 --both "delay=20" >"$TMP/emu.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 50); do [ -S "$CTL" ] && break; sleep 0.1; done
[ -S "$CTL" ] || { cat "$TMP/emu.log"; skip "emulator did not start (TUN unavailable?)"; }
ip netns exec "$R" sysctl -qw net.ipv4.conf.emu0.rp_filter=0
ip -n "$R" link set emu0 up
ip -n "$R" route add default dev emu0 table 100
ip -n "$R" rule add iif ra lookup 100 pref 1000
ip -n "$R" rule add iif rb lookup 100 pref 1001

# This machine has no ping(1): icmp_ping.py beside this script, N probes, one
# every 50 ms (like `ping -c 20 -i 0.05`, except that each waits for its reply).
PING="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/icmp_ping.py"
ping_rtt() {  # prints "MEDIAN AVG" RTT in ms of 20 ICMP echoes a -> b
  ip netns exec "$A" python3 "$PING" 10.77.2.2 20 50 | awk '{print $4, $1}'
}
ip netns exec "$A" python3 "$PING" 10.77.2.2 2 50 | grep -qv '^-' || fail "no connectivity a -> b"

# 0. (information only) the RTT through the emulator with no delay configured
ctl "both delay=0"
read -r base _ <<<"$(ping_rtt)"; echo "0. delay 0: median RTT ${base:-none} ms (emulator + namespace overhead, not checked)"
ctl "both delay=20"

# 1. fixed delay
read -r med avg <<<"$(ping_rtt)"; echo "1. delay 20+20 ms: median RTT ${med:-none} ms, avg ${avg:-none} (want 40 +- 1)"
if [ -n "$med" ] && within "$med" 40 1; then pass "RTT 40 ms"; else fail "RTT ${med:-none} != 40 +- 1"; fi

# 2. run-time change
ctl "both delay=60"
read -r med avg <<<"$(ping_rtt)"; echo "2. after 'both delay=60': median RTT ${med:-none} ms, avg ${avg:-none} (want 120 +- 1)"
if [ -n "$med" ] && within "$med" 120 1; then pass "run-time delay change"; else fail "RTT ${med:-none} != 120 +- 1"; fi

# 3. loss on one direction only
ctl "both delay=0 jitter=0 loss=0"
ctl "a2b loss=10"
cat >"$TMP/udp.py" <<'EOF'
import socket, sys, time
mode, addr, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if mode == "rx":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, port)); open(sys.argv[5], "w").close()  # ready marker
    seen, deadline, top, reord = set(), time.time() + 20, -1, 0
    s.settimeout(3.0)
    while len(seen) < n and time.time() < deadline:
        try: d = s.recv(2048)
        except socket.timeout: break
        q = int.from_bytes(d[:4], "big"); seen.add(q); s.settimeout(1.0)
        reord += q < top; top = max(top, q)
    print(len(seen), reord)
else:  # tx: n datagrams of 200 B, ~10,000 per second
    for i in range(n):
        s.sendto(i.to_bytes(4, "big") + bytes(196), (addr, port))
        if i % 50 == 49: time.sleep(0.005)
EOF
udp_loss() {  # udp_loss RXNS RXADDR TXNS -> prints loss percent
  rm -f "$TMP/ready"
  ip netns exec "$1" python3 "$TMP/udp.py" rx "$2" 5001 10000 "$TMP/ready" >"$TMP/rx.out" &
  local rx=$!
  for _ in $(seq 50); do [ -e "$TMP/ready" ] && break; sleep 0.1; done
  ip netns exec "$3" python3 "$TMP/udp.py" tx "$2" 5001 10000
  wait "$rx"
  python3 -c "print(round(100*(10000-int(open('$TMP/rx.out').read().split()[0]))/10000, 2))"
}
loss_ab=$(udp_loss "$B" 10.77.2.2 "$A")
loss_ba=$(udp_loss "$A" 10.77.1.2 "$B")
echo "3. loss a2b=10%: measured a->b ${loss_ab}% (want 10 +- 1), b->a ${loss_ba}% (want < 0.5)"
within "$loss_ab" 10 1 && pass "a2b loss 10 %" || fail "a2b loss $loss_ab % not 10 +- 1"
within "$loss_ba" 0 0.5 && pass "b2a unaffected" || fail "b2a loss $loss_ba % (configured 0)"
ip netns exec "$R" "$EMU" --ctl "$CTL" --send stats | sed 's/^/   /'

# 4. rate limit
ctl "both loss=0"
ctl "a2b rate=20000 queue=100"
ip netns exec "$B" iperf3 -s -1 -B 10.77.2.2 >"$TMP/iperf-s.log" 2>&1 &
IPERF_PID=$!
for _ in $(seq 50); do
  ip netns exec "$B" ss -ltn 2>/dev/null | grep -q ':5201 ' && break; sleep 0.1
done
timeout 20 ip netns exec "$A" iperf3 -c 10.77.2.2 -t 5 -J >"$TMP/iperf.json" 2>&1
wait "$IPERF_PID" 2>/dev/null; IPERF_PID=""
good=$(python3 -c "import json; print(round(json.load(open('$TMP/iperf.json'))['end']['sum_received']['bits_per_second']/1e6, 3))" 2>/dev/null)
echo "4. rate 20000 kbit/s a2b: iperf3 goodput ${good:-none} Mbit/s (want 20 +- 5 %: 19..21;" \
     "ideal payload share 20*1448/1500 = 19.31)"
if [ -n "$good" ] && within "$good" 20 1.0; then pass "rate 20 Mbit/s"; else fail "goodput ${good:-none} Mbit/s"; fi
[ -n "$good" ] && python3 -c "g=$good; print(f'   goodput / configured rate = {g/20:.3f}; IP-level rate (goodput*1500/1448) = {g*1500/1448:.2f} Mbit/s')"

# 5. jitter keeps order (reorder=0 default); SIGUSR1 prints the counters
ctl "a2b rate=0 delay=10 jitter=5"
rm -f "$TMP/ready"
ip netns exec "$B" python3 "$TMP/udp.py" rx 10.77.2.2 5001 2000 "$TMP/ready" >"$TMP/rx.out" &
rx=$!
for _ in $(seq 50); do [ -e "$TMP/ready" ] && break; sleep 0.1; done
ip netns exec "$A" python3 "$TMP/udp.py" tx 10.77.2.2 5001 2000
wait "$rx"
read -r got reord <"$TMP/rx.out"
echo "5. delay 10 jitter 5 a2b: received ${got:-0}/2000, reordered ${reord:-?} (want 2000, 0)"
[ "${got:-0}" = 2000 ] && [ "${reord:-1}" = 0 ] && pass "jitter keeps order" || fail "jitter: got $got reordered $reord"
n0=$(grep -c '^other forwarded=' "$TMP/emu.log")
kill -USR1 "$EMU_PID"; sleep 0.3
[ "$(grep -c '^other forwarded=' "$TMP/emu.log")" -gt "$n0" ] && pass "SIGUSR1 counters" || fail "no counters after SIGUSR1"

if [ "$FAILS" -eq 0 ]; then echo "ALL PASS"; exit 0; fi
echo "$FAILS check(s) failed"; exit 1
