#!/usr/bin/env bash
# DNS over SOCKS5 UDP ASSOCIATE through Braid: dnsmasq on 10.31.9.2:53 in net,
# queries built by hand (udp_client.py dns) and sent with PySocks from cli.
#
#  1. framed (braid up --concentrator):
#     - A example.braid.test -> exactly 10.31.9.77, the answer's SOCKS5 UDP
#       header names 10.31.9.2:53 as its source;
#     - A www.example.braid.test to the server given by name
#       (remote-only.braid.test:53, ATYP 3, a name only the concentrator
#       resolves);
#     - TXT big.braid.test with EDNS0 (4096): a ~2.6 KB answer, bigger than
#       any path MTU, arrives whole and untruncated;
#     - A missing.braid.test -> NXDOMAIN (rcode 3) is passed back, not lost;
#     dnsmasq's log shows every query coming from 10.31.9.1 (the concentrator).
#  2. direct (braid up without --concentrator): the A and TXT queries again,
#     now seen by dnsmasq from a cli address.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/udp_lib.sh"

braid_require_bins
udp_require_pysocks
command -v dnsmasq >/dev/null 2>&1 || tb_skip "dnsmasq not installed (apt-get install dnsmasq-base)"
testbed_up

DNS_SERVER="$TB_NET_IP:53"
WANT_A=10.31.9.77
# big.braid.test: 10 TXT records of 250 characters each (2500 bytes of TXT
# data, one record per config line: dnsmasq's config lines are limited to ~2 KB).
TXT_LEN=2500
printf -v pad '%248s' ''
{
    printf 'address=/example.braid.test/%s\nlocal=/braid.test/\nedns-packet-max=4096\n' "$WANT_A"
    for i in 0 1 2 3 4 5 6 7 8 9; do printf 'txt-record=big.braid.test,s%d%s\n' "$i" "${pad// /x}"; done
} >"$TB_TMP/dnsmasq.conf"
tb_spawn "$TB_NET" dnsmasq dnsmasq --no-daemon --conf-file="$TB_TMP/dnsmasq.conf" --pid-file= --user=root \
    --no-resolv --no-hosts --listen-address="$TB_NET_IP" --bind-interfaces --port=53 \
    --log-queries --log-facility=-
DNSMASQ_PID=$TB_LAST_PID
udp_wait_udp_port "$TB_NET" "$TB_NET_IP" 53 10

# Sanity: dnsmasq answers directly in net.
in_net "$TB_PYTHON" - "$TB_NET_IP" <<'EOF' || tb_fail "testbed: dnsmasq does not answer on $DNS_SERVER"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\x07example\x05braid\x04test\x00" + b"\x00\x01\x00\x01"
s.sendto(q, (sys.argv[1], 53))
s.recvfrom(4096)
EOF

# dns_query LABEL WANT_SOURCES ARGS...: one query; dnsmasq must log it from WANT_SOURCES.
dns_query() {
    local label="$1" want_src="$2" mark from
    shift 2
    mark=$(udp_log_mark dnsmasq)
    udp_client "$label" dns --proxy "$BRAID_SOCKS" "$@"
    udp_expect_ok "$label"
    # dnsmasq logs "query[A] NAME from ADDR".
    from=$(udp_log_since dnsmasq "$mark" | awk '/query\[/ { print $NF }' | sort -u | tr '\n' ' ')
    [[ -n "$from" ]] || tb_fail "[$label] dnsmasq logged no query"
    [[ "$from" =~ ^(($want_src)\ )+$ ]] || tb_fail "[$label] dnsmasq saw the query from '$from', want $want_src"
    tb_log "[$label] OK (dnsmasq saw it from $from)"
}

braid_start_concentrator
braid_start_client
conc_ip=${TB_CONC_UP_IP//./\\.}

dns_query framed-a "$conc_ip" --server "$DNS_SERVER" --name example.braid.test --qtype A \
    --expect-a "$WANT_A" --expect-from "$DNS_SERVER"
dns_query framed-a-by-name "$conc_ip" --server "$TB_REMOTE_ONLY_HOST:53" --name www.example.braid.test --qtype A \
    --expect-a "$WANT_A" --expect-from "$DNS_SERVER"
dns_query framed-txt-edns "$conc_ip" --server "$DNS_SERVER" --name big.braid.test --qtype TXT --edns 4096 \
    --expect-txt-len "$TXT_LEN" --expect-from "$DNS_SERVER"
size=$(grep -oE 'answer of [0-9]+ bytes' <<<"$UDP_OUT" | grep -oE '[0-9]+')
((size > 1500)) || tb_fail "[framed-txt-edns] the TXT answer is only $size bytes; the test wants one bigger than the MTU"
dns_query framed-nxdomain "$conc_ip" --server "$DNS_SERVER" --name missing.braid.test --qtype A --expect-rcode 3

udp_client_counters braid "$(udp_out_value relay | sed 's/.*://')"
((UDP_C_UP == 1 && UDP_C_DOWN == 1)) || tb_fail "[framed-nxdomain] braid counted $UDP_C_UP up, $UDP_C_DOWN down; want 1 and 1"
n=$(grep -cE '\[s[0-9]+\] UDP association [(0-9]' "$TB_TMP/concentrator.log")
((n == 4)) || tb_fail "the concentrator logged the start of $n UDP associations, want 4"
braid_check_alive

braid_stop_client
braid_stop_concentrator
braid_start_client --direct
cli_ips="${TB_CLI_WIFI_IP//./\\.}|${TB_CLI_CELL_IP//./\\.}"

dns_query direct-a "$cli_ips" --server "$DNS_SERVER" --name example.braid.test --qtype A \
    --expect-a "$WANT_A" --expect-from "$DNS_SERVER"
dns_query direct-txt-edns "$cli_ips" --server "$DNS_SERVER" --name big.braid.test --qtype TXT --edns 4096 \
    --expect-txt-len "$TXT_LEN" --expect-from "$DNS_SERVER"
dns_query direct-nxdomain "$cli_ips" --server "$DNS_SERVER" --name missing.braid.test --qtype A --expect-rcode 3

tb_alive "$DNSMASQ_PID" || tb_fail "dnsmasq died"
tb_pass "DNS through SOCKS5 UDP: A, A via a remote name, 2.5 KB TXT (EDNS0), NXDOMAIN; framed and direct"
