# shellcheck shell=bash
# Braid network-namespace testbed (see docs: DESIGN.md, section "Testbed").
#
# Source this file from a bash test script, then call `testbed_up`.
#
#  ns cli (laptop)                 ns conc (concentrator)         ns net (the internet)
#  wifi0 10.31.1.2 ─── veth ─── w0 10.31.1.1
#  cell0 10.31.2.2 ─── veth ─── c0 10.31.2.1      up0 10.31.9.1 ─── veth ─── eth0 10.31.9.2
#
# * Namespace names are random (braid-{cli,conc,net}-<id>) so parallel runs do
#   not collide. Each veth pair is created directly inside its namespaces
#   (`ip -n A link add X type veth peer name Y netns B`), so no interface ever
#   exists in the root namespace and a crash can never leak one there: deleting
#   the namespaces deletes the veths.
# * cli has policy routing per source address (10.31.1.2 -> table 101 via
#   wifi0, 10.31.2.2 -> table 102 via cell0; each table ends in an
#   `unreachable` default so a source address never leaks out of the other
#   interface) and, in main, default via wifi0 (metric 100) plus default via
#   cell0 (metric 200) so new connections survive `ip link set wifi0 down`.
# * conc forwards (ip_forward=1), so cli can reach 10.31.9.2 directly too.
# * MPTCP in-kernel path manager: endpoints `10.31.2.2 dev cell0 subflow` and
#   `10.31.1.2 dev wifi0 subflow` in cli; limits subflow 4 add_addr_accepted 4
#   in cli and conc. A connection whose initial subflow leaves on wifi0 gets a
#   second subflow from cell0 (and vice versa); the endpoint equal to the
#   initial subflow's address is not used twice. Kernel doc:
#   Documentation/networking/mptcp-sysctl.rst, ip-mptcp(8).
# * tbf on the egress of wifi0 and w0 (TB_WIFI_RATE, default 40mbit) and of
#   cell0 and c0 (TB_CELL_RATE, default 20mbit). "0" or "none" = unshaped.
# * net runs python3 http.server (HTTP/1.1, keep-alive) on 10.31.9.2:80
#   serving random files of known sha256 (small.bin 1 MiB, big.bin 20 MiB).
# * /etc/netns/<ns>/hosts (ip netns exec bind-mounts it over /etc/hosts) maps
#   files.braid.test to 10.31.9.2 in cli and conc, and remote-only.braid.test
#   to 10.31.9.2 in conc only (proves a name was resolved at the concentrator);
#   /etc/netns/<ns>/resolv.conf points at 127.0.0.1 in those namespaces, where
#   nothing listens on port 53, so unknown names fail fast and deterministically.
#
# Public API:
#   testbed_up                     build everything (skips with exit 77 when impossible)
#   testbed_down                   tear down (idempotent; installed as EXIT trap)
#   in_cli CMD... / in_conc CMD... / in_net CMD...
#   tb_spawn NS NAME CMD...        start CMD in NS in the background, log to $TB_TMP/NAME.log,
#                                  pid in TB_LAST_PID (killed at teardown)
#   tb_stop PID                    TERM, wait (bounded), KILL
#   tb_wait_port NS PORT [SECS] [PID]   wait until something listens on tcp PORT in NS
#   tb_shape NS IFACE RATE         (re)shape egress of IFACE in NS (tbf); RATE 0/none removes
#   tb_cli_path_down DEV / tb_cli_path_up DEV   link down / up (restoring its routes) in cli
#   tb_blackhole NS DEV on|off     nftables: drop everything in and out of DEV
#   tb_rx_bytes NS IFACE / tb_tx_bytes NS IFACE   interface byte counters
#   tb_file_sha NAME               sha256 of a served file (small.bin, big.bin)
#   tb_url NAME [HOST]             http://HOST/NAME (HOST defaults to 10.31.9.2)
#   tb_log MSG / tb_fail MSG / tb_skip MSG / tb_dump_logs
#   tb_emulate PATH [up|down|both] KEY=VALUE...   braid-link-emu on wifi0/cell0: delay, jitter,
#                                  loss, rate, queue per direction; later calls change them at run
#                                  time (see "link emulator" below; not used = testbed unchanged)
#   tb_emulate_ctl / tb_emulate_stats / tb_emu_ns / tb_ping   (see there)
#
# Environment knobs: TB_WIFI_RATE, TB_CELL_RATE, TB_BIG_MB (default 20),
# TB_KEEP_TMP=1 (keep the temp dir after teardown), TB_QUIET=1,
# TB_DEADLINE=SECONDS (unset = no watchdog; CMakeLists.txt sets 270): stop
# the test and tear down before CTest's TIMEOUT (300) would SIGKILL it and
# leak the namespaces.
#
# testbed_up installs traps on EXIT, INT, TERM and HUP; a test that needs its
# own cleanup should do it before exiting rather than replace the EXIT trap.

# ---------------------------------------------------------------- constants
TB_SELF=$(readlink -f "${BASH_SOURCE[0]}")
TB_PYTHON=$(command -v python3)
[[ -x /usr/bin/python3 ]] && TB_PYTHON=/usr/bin/python3  # the distro's, not a pyenv shim
TB_CLI_WIFI_IP=10.31.1.2
TB_CONC_WIFI_IP=10.31.1.1
TB_CLI_CELL_IP=10.31.2.2
TB_CONC_CELL_IP=10.31.2.1
TB_CONC_UP_IP=10.31.9.1
TB_NET_IP=10.31.9.2
TB_FILES_HOST=files.braid.test
TB_REMOTE_ONLY_HOST=remote-only.braid.test  # in conc's hosts file only

: "${TB_WIFI_RATE:=40mbit}"
: "${TB_CELL_RATE:=20mbit}"
: "${TB_BIG_MB:=20}"

TB_CLI="" TB_CONC="" TB_NET="" TB_TMP="" TB_ID=""
TB_PIDS=()
TB_NAMESPACES=()
TB_UP_DONE=0
TB_DOWN_DONE=0
TB_LAST_PID=""
declare -gA TB_SHA=()
declare -gA TB_SIZE=()

# ---------------------------------------------------------------- messages
tb_log() {
    [[ "${TB_QUIET:-0}" == 1 ]] && return 0
    printf '[%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2
}

tb_skip() {
    printf 'SKIP: %s\n' "$*" >&2
    exit 77
}

# Print every log file of the run (last 200 lines each).
tb_dump_logs() {
    [[ -n "$TB_TMP" && -d "$TB_TMP" ]] || return 0
    local f
    for f in "$TB_TMP"/*.log; do
        [[ -e "$f" ]] || continue
        printf '\n===== %s (last 200 lines) =====\n' "${f##*/}" >&2
        tail -n 200 "$f" >&2
    done
    printf '===== end of logs =====\n' >&2
}

tb_fail() {
    printf 'FAIL: %s\n' "$*" >&2
    tb_dump_logs
    exit 1
}

# ---------------------------------------------------------------- ns exec
in_cli()  { ip netns exec "$TB_CLI" "$@"; }
in_conc() { ip netns exec "$TB_CONC" "$@"; }
in_net()  { ip netns exec "$TB_NET" "$@"; }

# ---------------------------------------------------------------- processes
# tb_spawn NS NAME CMD...  -> background process in NS; stdout+stderr to $TB_TMP/NAME.log
tb_spawn() {
    local ns="$1" name="$2"
    shift 2
    ip netns exec "$ns" "$@" >>"$TB_TMP/$name.log" 2>&1 </dev/null &
    TB_LAST_PID=$!
    TB_PIDS+=("$TB_LAST_PID")
    tb_log "started $name (pid $TB_LAST_PID) in $ns: $*"
}

tb_alive() { kill -0 "$1" 2>/dev/null; }

# tb_stop PID [SECS]: SIGTERM, wait up to SECS (default 3), then SIGKILL.
tb_stop() {
    local pid="$1" secs="${2:-3}" i
    tb_alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < secs * 10; i++)); do
        tb_alive "$pid" || break
        sleep 0.1
    done
    tb_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    return 0
}

# tb_wait_port NS PORT [SECS=10] [PID]: wait until a TCP (or MPTCP) listener on PORT exists in NS.
# If PID is given and dies meanwhile, fail at once.
tb_wait_port() {
    local ns="$1" port="$2" secs="${3:-10}" pid="${4:-}" i
    for ((i = 0; i < secs * 10; i++)); do
        if [[ -n "$(ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null)" ]] ||
           [[ -n "$(ip netns exec "$ns" ss -HlMn "sport = :$port" 2>/dev/null)" ]]; then
            return 0
        fi
        if [[ -n "$pid" ]] && ! tb_alive "$pid"; then
            wait "$pid" 2>/dev/null
            tb_fail "process $pid exited (status $?) before listening on port $port in $ns"
        fi
        sleep 0.1
    done
    tb_fail "nothing listens on tcp port $port in $ns after ${secs}s"
}

# ---------------------------------------------------------------- shaping
# tb_rate_bits RATE -> bits/s (accepts 40mbit, 512kbit, 1gbit, 1000000bit, 1000000)
tb_rate_bits() {
    local r="${1,,}" n unit
    if [[ "$r" =~ ^([0-9]+)(bit|kbit|mbit|gbit)?$ ]]; then
        n="${BASH_REMATCH[1]}" unit="${BASH_REMATCH[2]}"
        case "$unit" in
            kbit) n=$((n * 1000)) ;;
            mbit) n=$((n * 1000000)) ;;
            gbit) n=$((n * 1000000000)) ;;
        esac
        echo "$n"
    else
        return 1
    fi
}

# tb_shape NS IFACE RATE: tbf on IFACE egress. Burst = 10 ms worth of bytes
# (at least 16 KB so one GSO-split burst of MTU frames fits), queue = 50 ms.
tb_shape() {
    local ns="$1" dev="$2" rate="$3" bits burst
    if [[ -z "$rate" || "$rate" == 0 || "$rate" == none ]]; then
        ip -n "$ns" link show "$dev" >/dev/null 2>&1 || return 1
        tc -n "$ns" qdisc del dev "$dev" root 2>/dev/null
        return 0
    fi
    bits=$(tb_rate_bits "$rate") || { echo "bad rate '$rate'" >&2; return 1; }
    burst=$((bits / 8 / 100))
    ((burst < 16000)) && burst=16000
    tc -n "$ns" qdisc replace dev "$dev" root tbf rate "$bits"bit burst "$burst" latency 50ms
}

# ---------------------------------------------------------------- path failures
# tb_cli_path_down wifi0|cell0: the laptop loses a link (`ip link set DEV down`;
# the kernel drops every route through it).
tb_cli_path_down() {
    ip -n "$TB_CLI" link set "$1" down
}

# tb_cli_path_up wifi0|cell0: the link comes back; restore the routes the
# kernel removed when it went down.
tb_cli_path_up() {
    local dev="$1" gw table metric
    case "$dev" in
        wifi0) gw=$TB_CONC_WIFI_IP table=101 metric=100 ;;
        cell0) gw=$TB_CONC_CELL_IP table=102 metric=200 ;;
        *) echo "tb_cli_path_up: unknown path $dev" >&2; return 1 ;;
    esac
    ip -n "$TB_CLI" link set "$dev" up || return 1
    local i
    for ((i = 0; i < 50; i++)); do  # wait for carrier (bounded)
        ip -n "$TB_CLI" -br link show "$dev" | grep -q LOWER_UP && break
        sleep 0.1
    done
    ip -n "$TB_CLI" route replace default via "$gw" dev "$dev" metric "$metric"
    ip -n "$TB_CLI" route replace "${gw%.*}.0/24" dev "$dev" src "${gw%.*}.2" table "$table"
    ip -n "$TB_CLI" route replace default via "$gw" dev "$dev" table "$table"
}

# tb_blackhole NS DEV on|off: drop every packet in and out of DEV in NS
# (nftables netdev table), without taking the link down: the path silently
# stops working.
tb_blackhole() {
    local ns="$1" dev="$2" onoff="$3" t="braid_bh_$2"
    if [[ "$onoff" == on ]]; then
        ip netns exec "$ns" nft -f - <<EOF
table netdev $t {
    chain egress_drop { type filter hook egress device "$dev" priority 0; policy drop; }
    chain ingress_drop { type filter hook ingress device "$dev" priority 0; policy drop; }
}
EOF
    else
        ip netns exec "$ns" nft delete table netdev "$t" 2>/dev/null
        return 0
    fi
}

# ---------------------------------------------------------------- counters
tb__link_stat() {
    local ns="$1" dev="$2" dir="$3"
    ip -n "$ns" -s -j link show dev "$dev" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"][sys.argv[1]]["bytes"])' "$dir"
}
tb_rx_bytes() { tb__link_stat "$1" "$2" rx; }
tb_tx_bytes() { tb__link_stat "$1" "$2" tx; }

# ---------------------------------------------------------------- files
tb_file_sha() { echo "${TB_SHA[$1]}"; }
tb_file_size() { echo "${TB_SIZE[$1]}"; }
tb_url() { echo "http://${2:-$TB_NET_IP}/$1"; }

# ---------------------------------------------------------------- setup
tb__check_prereqs() {
    [[ "$(id -u)" == 0 ]] || tb_skip "needs root (network namespaces, tc, MPTCP endpoints); run as root"
    local t
    for t in ip tc ss curl python3 sha256sum head mktemp; do
        command -v "$t" >/dev/null 2>&1 || tb_skip "required tool '$t' not found in PATH"
    done
    ip netns list >/dev/null 2>&1 || tb_skip "'ip netns' is not available (iproute2 without netns support?)"
    ip mptcp limits show >/dev/null 2>&1 || tb_skip "'ip mptcp' is not available or MPTCP is missing from the kernel ('ip mptcp limits show' failed)"
    local en
    en=$(sysctl -n net.mptcp.enabled 2>/dev/null) || tb_skip "MPTCP not available: sysctl net.mptcp.enabled does not exist"
    [[ "$en" == 1 ]] || tb_skip "MPTCP disabled: sysctl net.mptcp.enabled=$en (want 1)"
    python3 - <<'EOF' 2>/dev/null || tb_skip "MPTCP not available: socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP=262) failed"
import socket
socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262).close()
EOF
}

# tb__run DESC CMD...: run a setup command; on failure abort with a clear message.
tb__run() {
    local desc="$1" out
    shift
    if ! out=$("$@" 2>&1); then
        tb_fail "testbed setup: $desc failed: $* -> $out"
    fi
}

tb__ns_sysctl() { ip netns exec "$1" sysctl -qw "$2" >/dev/null; }

testbed_up() {
    ((TB_UP_DONE)) && return 0
    tb__check_prereqs

    local tries
    for ((tries = 0; tries < 20; tries++)); do
        TB_ID=$(printf '%04x%04x' $((RANDOM)) $((($$ + RANDOM) & 0xffff)))
        TB_CLI="braid-cli-$TB_ID"
        TB_CONC="braid-conc-$TB_ID"
        TB_NET="braid-net-$TB_ID"
        [[ -e "/run/netns/$TB_CLI" || -e "/run/netns/$TB_CONC" || -e "/run/netns/$TB_NET" ||
           -e "/etc/netns/$TB_CLI" || -e "/etc/netns/$TB_CONC" ]] || break
    done
    TB_TMP=$(mktemp -d "/tmp/braid-netns.$TB_ID.XXXXXX") || tb_skip "cannot create a temp dir"
    TB_UP_DONE=1
    trap testbed_down EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP

    local ns out dev rate
    for ns in "$TB_CLI" "$TB_CONC" "$TB_NET"; do
        if ! ip netns add "$ns" 2>"$TB_TMP/netns-add.err"; then
            tb_skip "cannot create network namespace $ns: $(cat "$TB_TMP/netns-add.err")"
        fi
        TB_NAMESPACES+=("$ns")
        ip -n "$ns" link set lo up
    done
    tb_log "testbed $TB_ID: namespaces $TB_CLI $TB_CONC $TB_NET, tmp $TB_TMP"

    # MPTCP must work inside the namespaces too (net.mptcp.enabled is per netns).
    for ns in "$TB_CLI" "$TB_CONC"; do
        [[ "$(ip netns exec "$ns" sysctl -n net.mptcp.enabled 2>/dev/null)" == 1 ]] ||
            tb__ns_sysctl "$ns" net.mptcp.enabled=1 ||
            tb_skip "MPTCP not available in namespace $ns (net.mptcp.enabled)"
    done

    # Links (created directly in their namespaces; see header).
    tb__run "veth wifi0<->w0" ip -n "$TB_CLI" link add wifi0 type veth peer name w0 netns "$TB_CONC"
    tb__run "veth cell0<->c0" ip -n "$TB_CLI" link add cell0 type veth peer name c0 netns "$TB_CONC"
    tb__run "veth up0<->eth0" ip -n "$TB_CONC" link add up0 type veth peer name eth0 netns "$TB_NET"

    local pair
    for pair in "$TB_CLI:wifi0" "$TB_CLI:cell0" "$TB_CONC:w0" "$TB_CONC:c0" "$TB_CONC:up0" "$TB_NET:eth0"; do
        tb__ns_sysctl "${pair%%:*}" "net.ipv6.conf.${pair#*:}.disable_ipv6=1"
    done

    # Addresses.
    tb__run "addr" ip -n "$TB_CLI" addr add "$TB_CLI_WIFI_IP/24" dev wifi0
    tb__run "addr" ip -n "$TB_CLI" addr add "$TB_CLI_CELL_IP/24" dev cell0
    tb__run "addr" ip -n "$TB_CONC" addr add "$TB_CONC_WIFI_IP/24" dev w0
    tb__run "addr" ip -n "$TB_CONC" addr add "$TB_CONC_CELL_IP/24" dev c0
    tb__run "addr" ip -n "$TB_CONC" addr add "$TB_CONC_UP_IP/24" dev up0
    tb__run "addr" ip -n "$TB_NET" addr add "$TB_NET_IP/24" dev eth0
    for dev in wifi0 cell0; do tb__run "link up" ip -n "$TB_CLI" link set "$dev" up; done
    for dev in w0 c0 up0; do tb__run "link up" ip -n "$TB_CONC" link set "$dev" up; done
    tb__run "link up" ip -n "$TB_NET" link set eth0 up

    # cli routing: main table defaults (wifi preferred), per-source tables.
    tb__run "route" ip -n "$TB_CLI" route add default via "$TB_CONC_WIFI_IP" dev wifi0 metric 100
    tb__run "route" ip -n "$TB_CLI" route add default via "$TB_CONC_CELL_IP" dev cell0 metric 200
    tb__run "route" ip -n "$TB_CLI" route add 10.31.1.0/24 dev wifi0 src "$TB_CLI_WIFI_IP" table 101
    tb__run "route" ip -n "$TB_CLI" route add default via "$TB_CONC_WIFI_IP" dev wifi0 table 101
    tb__run "route" ip -n "$TB_CLI" route add unreachable default metric 4096 table 101
    tb__run "route" ip -n "$TB_CLI" route add 10.31.2.0/24 dev cell0 src "$TB_CLI_CELL_IP" table 102
    tb__run "route" ip -n "$TB_CLI" route add default via "$TB_CONC_CELL_IP" dev cell0 table 102
    tb__run "route" ip -n "$TB_CLI" route add unreachable default metric 4096 table 102
    tb__run "rule" ip -n "$TB_CLI" rule add from "$TB_CLI_WIFI_IP" table 101 pref 1001
    tb__run "rule" ip -n "$TB_CLI" rule add from "$TB_CLI_CELL_IP" table 102 pref 1002

    # conc forwards; net routes back.
    tb__run "ip_forward" tb__ns_sysctl "$TB_CONC" net.ipv4.ip_forward=1
    tb__run "route" ip -n "$TB_NET" route add 10.31.1.0/24 via "$TB_CONC_UP_IP" dev eth0
    tb__run "route" ip -n "$TB_NET" route add 10.31.2.0/24 via "$TB_CONC_UP_IP" dev eth0

    # MPTCP path manager.
    tb__run "mptcp limits (cli)" ip -n "$TB_CLI" mptcp limits set subflow 4 add_addr_accepted 4
    tb__run "mptcp endpoint cell0" ip -n "$TB_CLI" mptcp endpoint add "$TB_CLI_CELL_IP" dev cell0 subflow
    tb__run "mptcp endpoint wifi0" ip -n "$TB_CLI" mptcp endpoint add "$TB_CLI_WIFI_IP" dev wifi0 subflow
    tb__run "mptcp limits (conc)" ip -n "$TB_CONC" mptcp limits set subflow 4 add_addr_accepted 4

    # Shaping (both directions of each path).
    local r
    for r in "$TB_CLI:wifi0:$TB_WIFI_RATE" "$TB_CONC:w0:$TB_WIFI_RATE" \
             "$TB_CLI:cell0:$TB_CELL_RATE" "$TB_CONC:c0:$TB_CELL_RATE"; do
        IFS=: read -r ns dev rate <<<"$r"
        if ! out=$(tb_shape "$ns" "$dev" "$rate" 2>&1); then
            tb_skip "cannot install tbf qdisc on $dev ($rate): $out"
        fi
    done

    # Name resolution in cli and conc.
    for ns in "$TB_CLI" "$TB_CONC"; do
        # (retry: a parallel run's teardown may rmdir an empty /etc/netns meanwhile)
        mkdir -p "/etc/netns/$ns" 2>/dev/null || mkdir -p "/etc/netns/$ns" ||
            tb_fail "cannot create /etc/netns/$ns"
        printf '127.0.0.1 localhost\n%s %s\n' "$TB_NET_IP" "$TB_FILES_HOST" >"/etc/netns/$ns/hosts"
        printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$ns/resolv.conf"
    done
    printf '%s %s\n' "$TB_NET_IP" "$TB_REMOTE_ONLY_HOST" >>"/etc/netns/$TB_CONC/hosts"

    tb__start_http
    tb__start_watchdog
    tb_log "testbed $TB_ID up (wifi $TB_WIFI_RATE, cell $TB_CELL_RATE)"
}

tb__start_http() {
    local www="$TB_TMP/www" f
    mkdir -p "$www"
    head -c $((1024 * 1024)) /dev/urandom >"$www/small.bin"
    head -c $((TB_BIG_MB * 1024 * 1024)) /dev/urandom >"$www/big.bin"
    for f in small.bin big.bin; do
        TB_SHA[$f]=$(sha256sum "$www/$f" | cut -d' ' -f1)
        TB_SIZE[$f]=$(stat -c %s "$www/$f")
    done
    (cd "$www" && sha256sum small.bin big.bin >SHA256SUMS)
    tb_spawn "$TB_NET" http-server "$TB_PYTHON" -m http.server --protocol HTTP/1.1 --bind "$TB_NET_IP" --directory "$www" 80
    TB_HTTP_PID=$TB_LAST_PID
    tb_wait_port "$TB_NET" 80 15 "$TB_HTTP_PID"
}

# Watchdog: CTest kills a test that exceeds its TIMEOUT with SIGKILL, which no
# trap survives. So, if TB_DEADLINE is set, TB_DEADLINE seconds after setup
# end the processes in our namespaces (so a foreground in_cli command returns)
# and send SIGTERM to the test script, whose trap then tears everything down.
tb__start_watchdog() {
    [[ -n "${TB_DEADLINE:-}" ]] || return 0
    local main=$$ deadline="$TB_DEADLINE"
    (
        trap 'kill "$sp" 2>/dev/null; exit 0' TERM
        sleep "$deadline" &
        sp=$!
        wait "$sp" || exit 0
        echo "testbed watchdog: the test ran longer than ${deadline}s (TB_DEADLINE); stopping it" >&2
        for ns in "$TB_CLI" "$TB_CONC" "$TB_NET"; do
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
        done
        kill -TERM "$main"
    ) </dev/null &
    TB_WATCHDOG_PID=$!
}

# ---------------------------------------------------------------- teardown
testbed_down() {
    local rc=$?
    ((TB_UP_DONE)) || return "$rc"
    ((TB_DOWN_DONE)) && return "$rc"
    TB_DOWN_DONE=1
    trap - INT TERM HUP
    local pid ns i pids
    if [[ -n "${TB_WATCHDOG_PID:-}" ]]; then
        kill -TERM "$TB_WATCHDOG_PID" 2>/dev/null
        wait "$TB_WATCHDOG_PID" 2>/dev/null || true
    fi
    for pid in "${TB_PIDS[@]}"; do
        tb_alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    for ((i = 0; i < 30; i++)); do
        pids=""
        for pid in "${TB_PIDS[@]}"; do tb_alive "$pid" && pids+=" $pid"; done
        [[ -z "$pids" ]] && break
        sleep 0.1
    done
    # (|| true: a killed child's status must not abort teardown under set -e.)
    for pid in "${TB_PIDS[@]}"; do
        tb_alive "$pid" && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null || true
    done
    # Anything else still living in our namespaces was started by this script
    # (e.g. a child of an in_cli command): end it by pid.
    for ns in "${TB_NAMESPACES[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    for ns in "${TB_NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null
        [[ -n "$ns" && -d "/etc/netns/$ns" ]] && rm -rf "/etc/netns/$ns"
    done
    rmdir /etc/netns 2>/dev/null  # only if empty
    if [[ -n "$TB_TMP" && -d "$TB_TMP" ]]; then
        if [[ "${TB_KEEP_TMP:-0}" == 1 ]]; then
            tb_log "keeping $TB_TMP"
        else
            rm -rf "$TB_TMP"
        fi
    fi
    tb_log "testbed $TB_ID down"
    return "$rc"
}

# ---------------------------------------------------------------- link emulator
# tb_emulate PATH [up|down|both] KEY=VALUE...  (PATH = wifi0 or cell0)
#
# Puts tests/tools' braid-link-emu on PATH, so that packets between cli and
# conc on that path get a per-direction delay, jitter, random loss, rate and
# queue limit, like a real link; later calls change the parameters at run
# time. Direction: `up` = cli → conc (the emulator's a2b), `down` = conc → cli
# (b2a), `both` (default). Keys are the emulator's (tests/tools/README.md):
# delay=MS jitter=MS loss=PCT rate=KBITPS queue=PKTS queue_bytes=BYTES
# reorder=0|1; rate also takes tb_shape's units (rate=10mbit). `tb_emulate
# PATH off` sets delay, jitter, loss and rate to 0 (the emulator stays in the
# path, forwarding packets as they come).
#
# The first call re-plumbs the path through a router namespace
# braid-emu<N>-<id> (N = 1 for wifi0, 2 for cell0):
#
#   cli wifi0 10.31.1.2 ── veth ── ra [R: emu0 TUN] rb ── veth ── w0 10.31.1.1 conc
#
# cli is not touched at all (same interface, ifindex, address, routes, MPTCP
# endpoint): conc's w0 — the veth peer of wifi0 — moves into R and is renamed
# ra, and a new veth pair rb ↔ w0 gives conc a w0 with the same address back
# (and the same tbf shaping as the old w0 had). R forwards; policy rules
# `iif ra|rb lookup 100` send every packet into the TUN (table 100: default
# dev emu0); what the emulator writes back enters R on emu0, matches no rule
# and the main table routes it on (10.31.1.2/32 dev ra, default via 10.31.1.1
# dev rb). Both ends keep one /24 with each other, so R answers ARP for the
# other end (proxy_arp, proxy_delay 0) and has permanent neighbour entries of
# its own (it has no address). Direction is told by address: a = cli's
# address of the path (/32), b = conc's; packets to neither (cli reaching
# 10.31.9.2 through conc's forwarding) go by their source. TTL drops by 2.
#
# Call it (for each path) before starting processes that bind to conc's
# 10.31.x.1 addresses: the first call deletes and re-adds that address on
# conc's side. Listeners on 0.0.0.0 are unaffected. Differences from the
# plain testbed: conc's w0/c0 no longer loses its carrier when cli's link
# goes down (like a server, it does not see the laptop's Wi-Fi drop), and
# the new w0/c0's byte counters start at 0.
#
# Environment: TB_LINK_EMU (path of braid-link-emu; default
# $BRAID_BIN_DIR/braid-link-emu, then <repo>/build/bin, then PATH),
# TB_EMU_SPIN_US (the emulator's --spin-us, default 50: busy-polling costs a
# CPU per emulator at high packet rates on a 2-CPU machine, and timer wake-ups
# are ~0.1-0.3 ms late without it), TB_EMU_SEED (--seed; default random),
# TB_EMU_NICE (default -10: the emulator runs at a higher priority than the
# programs under test, so a busy machine delays packets less; 0 = as is).
#
# Related:
#   tb_emulate_stats PATH          the emulator's counters (per direction: in, forwarded,
#                                  drop_loss, drop_queue, ...; `reset` with tb_emulate_ctl)
#   tb_emulate_ctl PATH LINE       send a raw control line (a2b/b2a/both/stats/reset)
#   tb_emu_ns PATH                 the router namespace of PATH (empty when not emulated)
#   tb_ping NS DST [COUNT] [INTERVAL_MS] [SRC]   ICMP echo (raw socket; no ping(1) here),
#                                  from SRC if given: prints "avg min max received sent" in ms
declare -gA TB_EMU_NS=()   # PATH -> router namespace
declare -gA TB_EMU_CTL=()  # PATH -> control socket
declare -gA TB_EMU_PID=()  # PATH -> emulator pid
: "${TB_EMU_SPIN_US:=50}"
: "${TB_EMU_NICE:=-10}"

tb__emu_bin() {
    local c repo
    repo=$(cd "$(dirname "$TB_SELF")/../.." && pwd)
    for c in "${TB_LINK_EMU:-}" "${BRAID_BIN_DIR:+$BRAID_BIN_DIR/braid-link-emu}" \
             "$repo/build/bin/braid-link-emu" "$(command -v braid-link-emu 2>/dev/null)"; do
        [[ -n "$c" && -x "$c" ]] && { echo "$c"; return 0; }
    done
    return 1
}

# tb__emu_line PATH ARGS... -> "a2b|b2a|both key=value..." (rate units converted)
tb__emu_line() {
    local dir=both kv out="" k v bits
    shift
    case "${1:-}" in
        up) dir=a2b; shift ;;
        down) dir=b2a; shift ;;
        both) shift ;;
        off) echo "both delay=0 jitter=0 loss=0 rate=0"; return 0 ;;
    esac
    for kv in "$@"; do
        [[ "$kv" == *=* ]] || { echo "tb_emulate: expected KEY=VALUE, got '$kv'" >&2; return 1; }
        k=${kv%%=*} v=${kv#*=}
        if [[ "$k" == rate && "${v,,}" =~ [a-z]$ ]]; then
            bits=$(tb_rate_bits "$v") || { echo "tb_emulate: bad rate '$v'" >&2; return 1; }
            v=$((bits / 1000))
        fi
        out+=" $k=$v"
    done
    echo "$dir$out"
}

tb_emu_ns() { echo "${TB_EMU_NS[$1]:-}"; }

# tb_emulate_ctl PATH LINE: one control line to PATH's emulator; prints the reply.
tb_emulate_ctl() {
    local path="$1" emu
    shift
    [[ -n "${TB_EMU_NS[$path]:-}" ]] || { echo "tb_emulate_ctl: $path is not emulated" >&2; return 1; }
    emu=$(tb__emu_bin) || return 1
    # (the client's reply address is abstract, so it must run in the emulator's netns)
    ip netns exec "${TB_EMU_NS[$path]}" "$emu" --ctl "${TB_EMU_CTL[$path]}" --send "$*"
}

tb_emulate_stats() { tb_emulate_ctl "$1" stats; }

tb_emulate() {
    local path="$1" line
    shift
    case "$path" in
        wifi0 | cell0) ;;
        *) echo "tb_emulate: unknown path '$path' (wifi0 or cell0)" >&2; return 1 ;;
    esac
    line=$(tb__emu_line "$path" "$@") || return 1
    if [[ -n "${TB_EMU_NS[$path]:-}" ]]; then
        tb_emulate_ctl "$path" "$line" >/dev/null || { echo "tb_emulate: $path: control '$line' refused" >&2; return 1; }
        tb_log "emulator $path: $line"
        return 0
    fi
    tb__emu_insert "$path" "$line"
}

# tb__emu_insert PATH LINE: build the router namespace and start the emulator.
tb__emu_insert() {
    local path="$1" line="$2" emu n cdev cli_ip conc_ip r cli_mac conc_mac rate sock i
    emu=$(tb__emu_bin) || tb_skip "braid-link-emu not found (set TB_LINK_EMU or BRAID_BIN_DIR, or build tests/tools)"
    [[ -c /dev/net/tun ]] || tb_skip "no /dev/net/tun: the link emulator needs TUN"
    case "$path" in
        wifi0) n=1 cdev=w0 cli_ip=$TB_CLI_WIFI_IP conc_ip=$TB_CONC_WIFI_IP ;;
        cell0) n=2 cdev=c0 cli_ip=$TB_CLI_CELL_IP conc_ip=$TB_CONC_CELL_IP ;;
    esac
    r="braid-emu$n-$TB_ID"
    ip netns add "$r" || tb_fail "tb_emulate: cannot create namespace $r"
    TB_NAMESPACES+=("$r")
    ip -n "$r" link set lo up
    tb__run "emu sysctls" ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 \
        net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

    # conc's side of the path: keep its shaping (tbf rate as tc reports it).
    rate=$(tc -n "$TB_CONC" qdisc show dev "$cdev" 2>/dev/null |
        awk '$2 == "tbf" { for (i = 1; i < NF; i++) if ($i == "rate") { print tolower($(i + 1)); exit } }')
    [[ -n "$rate" ]] && ! tb_rate_bits "$rate" >/dev/null 2>&1 && rate=$([[ $path == wifi0 ]] && echo "$TB_WIFI_RATE" || echo "$TB_CELL_RATE")
    cli_mac=$(ip -n "$TB_CLI" -br link show dev "$path" | awk '{print $3}')

    # The old peer of cli's interface becomes R's ra; a new pair rb <-> conc's dev.
    tb__run "move $cdev" ip -n "$TB_CONC" link set "$cdev" netns "$r"
    tb__run "rename ra" ip -n "$r" link set "$cdev" name ra
    tb__run "veth rb<->$cdev" ip -n "$r" link add rb type veth peer name "$cdev" netns "$TB_CONC"
    tb__ns_sysctl "$TB_CONC" "net.ipv6.conf.$cdev.disable_ipv6=1"
    tb__run "addr" ip -n "$TB_CONC" addr add "$conc_ip/24" dev "$cdev"
    tb__run "link up" ip -n "$TB_CONC" link set "$cdev" up
    [[ -n "$rate" ]] && { tb_shape "$TB_CONC" "$cdev" "$rate" || tb_fail "tb_emulate: cannot re-shape $cdev ($rate)"; }
    conc_mac=$(ip -n "$TB_CONC" -br link show dev "$cdev" | awk '{print $3}')

    local d
    for d in ra rb; do
        tb__run "emu $d sysctls" ip netns exec "$r" sysctl -qw "net.ipv4.conf.$d.proxy_arp=1" \
            "net.ipv4.neigh.$d.proxy_delay=0" "net.ipv4.conf.$d.rp_filter=0"
        tb__run "link up" ip -n "$r" link set "$d" up
    done
    tb__run "emu neigh" ip -n "$r" neigh replace "$cli_ip" lladdr "$cli_mac" dev ra nud permanent
    tb__run "emu neigh" ip -n "$r" neigh replace "$conc_ip" lladdr "$conc_mac" dev rb nud permanent
    tb__run "emu route" ip -n "$r" route add "$cli_ip/32" dev ra
    tb__run "emu route" ip -n "$r" route add default via "$conc_ip" dev rb onlink

    sock="$TB_TMP/emu-$path.sock"
    local -a seed=()
    [[ -n "${TB_EMU_SEED:-}" ]] && seed=(--seed "$TB_EMU_SEED")
    tb_spawn "$r" "emu-$path" nice -n "$TB_EMU_NICE" "$emu" --dev emu0 --a-net "$cli_ip/32" --b-net "$conc_ip/32" \
        --ctl "$sock" --spin-us "$TB_EMU_SPIN_US" "${seed[@]}"
    TB_EMU_PID[$path]=$TB_LAST_PID
    for ((i = 0; i < 50; i++)); do
        [[ -S "$sock" ]] && break
        tb_alive "${TB_EMU_PID[$path]}" || break
        sleep 0.1
    done
    [[ -S "$sock" ]] || tb_fail "tb_emulate: braid-link-emu did not start on $path (see emu-$path.log): $(tail -n 3 "$TB_TMP/emu-$path.log")"
    tb__run "emu0 sysctl" tb__ns_sysctl "$r" net.ipv4.conf.emu0.rp_filter=0
    tb__run "emu0 up" ip -n "$r" link set emu0 up txqueuelen 5000
    tb__run "emu table" ip -n "$r" route add default dev emu0 table 100
    tb__run "emu rule" ip -n "$r" rule add iif ra lookup 100 pref 1000
    tb__run "emu rule" ip -n "$r" rule add iif rb lookup 100 pref 1001
    TB_EMU_NS[$path]=$r
    TB_EMU_CTL[$path]=$sock
    tb_emulate_ctl "$path" "$line" >/dev/null || tb_fail "tb_emulate: $path: control line '$line' refused"
    tb_log "emulator on $path (ns $r, pid ${TB_EMU_PID[$path]}): $line"
}

# tb_ping NS DST [COUNT=10] [INTERVAL_MS=100] [SRC]: ICMP echo from NS (from
# address SRC if given, so cli's policy routing picks the path), each probe
# waits for its reply (2 s at most); prints "AVG MIN MAX RECEIVED SENT" (ms).
tb_ping() {
    local ns="$1" dst="$2" count="${3:-10}" ival="${4:-100}" src="${5:-}"
    ip netns exec "$ns" "$TB_PYTHON" "$(dirname "$TB_SELF")/../tools/icmp_ping.py" "$dst" "$count" "$ival" $src |
        awk '{print $1, $2, $3, $5, $6}'
}
