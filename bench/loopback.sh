#!/usr/bin/env bash
# Benchmark 1: loopback relay throughput, one TCP stream, all proxies in the same run.
#
# Data path: iperf3 (C) on both ends; proxied runs go through proxychains4
# (LD_PRELOAD: both of iperf3's connections, control and data, use the proxy).
# Every measurement uses a fresh one-off iperf3 server (-1) on a fresh port,
# so a failed run never leaves a busy server behind. Repetitions are
# interleaved over the configurations so slow drifts of machine load hit all
# of them alike.
#
# stdout: a markdown section (tables). stderr: progress.
# Exit: 0 done, 77 skipped (reason on stderr as "SKIP: ..."), 1 setup error.
#
# Environment:
#   BENCH_BIN_DIR   directory with braid and braid-concentrator (default: <repo>/build/bin)
#   BENCH_SECONDS   iperf3 -t per measurement (default 5)
#   BENCH_REPS      repetitions per configuration and direction (default 3)
#   BENCH_KEEP=1    keep the work directory (logs, JSON) after the run
#   BENCH_ONLY      comma-separated row ids to measure (direct, mptcp, braid-socks,
#                   braid-http, braid-tcp, braid-conc, microsocks, dante, ss); default all
#   BENCH_SS_METHOD shadowsocks cipher (default aes-256-gcm, what TLS 1.3 picks by default)
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BIN=${BENCH_BIN_DIR:-$REPO/build/bin}
T=${BENCH_SECONDS:-5}
REPS=${BENCH_REPS:-3}
LIB=(python3 "$HERE/benchlib.py")
LIB_PROXIES=(python3 "$HERE/proxies.py")
CONC_NOTE=""
HOST=127.0.0.1

log() { printf '[%s] loopback: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }

[[ "$T" =~ ^[0-9]+$ && "$T" -ge 1 && "$T" -le 60 ]] || { echo "BENCH_SECONDS must be 1..60" >&2; exit 1; }
[[ "$REPS" =~ ^[0-9]+$ && "$REPS" -ge 1 && "$REPS" -le 10 ]] || { echo "BENCH_REPS must be 1..10" >&2; exit 1; }
for t in iperf3 python3 ss timeout; do
    command -v "$t" >/dev/null 2>&1 || skip "required tool '$t' not found"
done
HAVE_PC=0; command -v proxychains4 >/dev/null 2>&1 && HAVE_PC=1

WORK=$(mktemp -d /tmp/braid-bench-loopback.XXXXXX) || exit 1
TSV="$WORK/loopback.tsv"
: >"$TSV"
PIDS=()
LAST_PID=""

# ------------------------------------------------------------------ processes
descendants() {  # PID -> PID and all its descendants (one per line)
    local p="$1" c
    echo "$p"
    for c in $(cat "/proc/$p/task/"*/children 2>/dev/null); do descendants "$c"; done
}

stop_pid() {  # PID [SECS]: TERM it and its descendants, wait, then KILL
    local pid="$1" secs="${2:-3}" all i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    all=$(descendants "$pid")
    # shellcheck disable=SC2086
    kill -TERM $all 2>/dev/null
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $all 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

cleanup() {
    local rc=$? p
    trap - INT TERM HUP
    for p in "${PIDS[@]}"; do stop_pid "$p" 2; done
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

spawn() {  # NAME CMD... -> background, log to $WORK/NAME.log, pid in LAST_PID
    local name="$1"
    shift
    "$@" >>"$WORK/$name.log" 2>&1 </dev/null &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

listening() {  # PORT -> 0 if a TCP or MPTCP listener exists on 127.0.0.1:PORT
    [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" || -n "$(ss -HlMn "sport = :$1" 2>/dev/null)" ]]
}

wait_listen() {  # PORT SECS PID -> 0 when listening, 1 on timeout or death
    local port="$1" secs="$2" pid="$3" i
    for ((i = 0; i < secs * 20; i++)); do
        listening "$port" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

freeport() { "${LIB[@]}" freeports 1; }

cputicks() { "${LIB[@]}" cputicks "$@"; }

# ------------------------------------------------------------------ configurations
# Parallel arrays, one entry per configuration.
C_ID=() C_LABEL=() C_PROXY=() C_SRVPRE=() C_CLIPRE=() C_CPU=() C_TARGET=() C_NOTE=()
# target: "braid" = issue 6's targets for a braid row, "" = none.
# class: what a row compares with. "local" = one local SOCKS5 server (braid's
# direct mode, microsocks, dante); "pair" = a local proxy and its own remote
# server (braid → concentrator, ss-local → ss-server); "" = a baseline.
# "peer" marks the rows that are peers (the others' "best peer" comes from them).
add_config() {  # id label proxychains-line server-prefix client-prefix cpu-spec target note class role
    if [[ -n "${BENCH_ONLY:-}" && ",$BENCH_ONLY," != *",$1,"* ]]; then return; fi
    C_ID+=("$1") C_LABEL+=("$2") C_PROXY+=("$3") C_SRVPRE+=("$4") C_CLIPRE+=("$5")
    C_CPU+=("$6") C_TARGET+=("$7") C_NOTE+=("$8")
    printf 'kind=config\tid=%s\tlabel=%s\ttarget=%s\tnote=%s\tclass=%s\trole=%s\n' "$1" "$2" "$7" "$8" "${9:-}" "${10:-}" >>"$TSV"
}

SKIPPED=()

add_config direct "direct TCP (iperf3 client → server)" "" "" "" "" "" "baseline"

if command -v mptcpize >/dev/null 2>&1; then
    add_config mptcp "direct MPTCP (both ends under mptcpize)" "" "mptcpize run" "mptcpize run" "" "" \
        "reference for the braid→concentrator hop"
else
    SKIPPED+=("direct MPTCP: mptcpize (package mptcpd) not installed")
fi

if ((HAVE_PC == 0)); then
    SKIPPED+=("all proxied rows: proxychains4 not installed (it carries iperf3 through the proxies)")
fi

CONC_OK=0
# Every braid instance gets this config: no control API (its fixed default port
# 127.0.0.1:7310 would make the second instance fail with EADDRINUSE, and it is
# not part of the data path), and no user config from $XDG_CONFIG_HOME.
BRAID_CFG="$WORK/braid.json"
echo '{"control": null}' >"$BRAID_CFG"
if ((HAVE_PC)); then
    if [[ -x "$BIN/braid" ]]; then
        P_BS=$(freeport) P_BH=$(freeport)
        log "starting braid (direct mode) on socks $P_BS, http $P_BH"
        spawn braid-direct "$BIN/braid" up -c "$BRAID_CFG" --socks "$HOST:$P_BS" --http "$HOST:$P_BH" --log-level warn
        PID_BD=$LAST_PID
        if wait_listen "$P_BS" 10 "$PID_BD" && wait_listen "$P_BH" 5 "$PID_BD"; then
            add_config braid-socks "braid SOCKS5, direct mode" "socks5 $HOST $P_BS" "" "pc" "braid=$PID_BD" braid "" local
            add_config braid-http "braid HTTP CONNECT, direct mode" "http $HOST $P_BH" "" "pc" "braid=$PID_BD" braid "" local
        else
            SKIPPED+=("braid direct mode: braid did not listen within 10 s (log: $(tail -n 3 "$WORK/braid-direct.log" | tr '\n' ' '))")
        fi
        # Same, but plain TCP upstream: isolates what the (fallen-back) MPTCP
        # upstream socket costs, since iperf3's server is not MPTCP-capable.
        P_BT=$(freeport)
        spawn braid-tcp "$BIN/braid" up -c "$BRAID_CFG" --socks "$HOST:$P_BT" --http off --no-mptcp --log-level warn
        PID_BT=$LAST_PID
        if wait_listen "$P_BT" 10 "$PID_BT"; then
            add_config braid-tcp "braid SOCKS5, direct mode, \`--no-mptcp\`" "socks5 $HOST $P_BT" "" "pc" "braid=$PID_BT" "" \
                "diagnostic: upstream plain TCP instead of an MPTCP socket that falls back" local
        else
            SKIPPED+=("braid --no-mptcp: braid did not listen within 10 s (log: $(tail -n 3 "$WORK/braid-tcp.log" | tr '\n' ' '))")
        fi
    else
        SKIPPED+=("braid rows: $BIN/braid not found or not executable")
    fi

    if [[ -x "$BIN/braid-concentrator" && -x "$BIN/braid" ]]; then
        P_C=$(freeport)
        log "starting braid-concentrator on $P_C"
        # bench/proxies.py prepares the concentrator (with `init`: TLS key and
        # certificate, users file, access key for the client; its destination
        # policy must allow 127.0.0.1, where iperf3 listens) and says which
        # arguments both ends need. If the hop changes, change it there.
        CONC_ARGS=() CLIENT_ARGS=()
        if conc_variant=$("${LIB_PROXIES[@]}" conc-setup "$BIN" "$WORK/conc" "$P_C" 4096 2>"$WORK/conc-setup.err"); then
            mapfile -t CONC_ARGS <"$WORK/conc/conc.args"
            mapfile -t CLIENT_ARGS <"$WORK/conc/client.args"
            CONC_NOTE="braid→concentrator hop: $conc_variant"
            [[ "$conc_variant" == tls ]] &&
                CONC_NOTE="braid→concentrator hop: TLS (\`braid-concentrator init\` made the key and certificate; braid uses the access key it printed)"
        else
            SKIPPED+=("braid → concentrator: could not prepare the concentrator: $(head -c 200 "$WORK/conc-setup.err" | tr '\n' ' ')")
        fi
        if ((${#CONC_ARGS[@]})); then
            spawn concentrator "$BIN/braid-concentrator" "${CONC_ARGS[@]}" --listen "$HOST:$P_C" --log-level warn
            PID_C=$LAST_PID
        fi
        if ((${#CONC_ARGS[@]})) && wait_listen "$P_C" 10 "$PID_C"; then
            P_BCS=$(freeport) P_BCH=$(freeport)
            log "starting braid (concentrator mode) on socks $P_BCS"
            spawn braid-conc "$BIN/braid" up -c "$BRAID_CFG" --socks "$HOST:$P_BCS" --http "$HOST:$P_BCH" \
                "${CLIENT_ARGS[@]}" --log-level warn
            PID_BC=$LAST_PID
            if wait_listen "$P_BCS" 10 "$PID_BC"; then
                CONC_OK=1
                add_config braid-conc "braid SOCKS5 → braid-concentrator (MPTCP hop, ${conc_variant:-?})" "socks5 $HOST $P_BCS" "" "pc" \
                    "braid=$PID_BC conc=$PID_C" braid "" pair
            else
                SKIPPED+=("braid → concentrator: braid did not listen within 10 s")
            fi
        elif ((${#CONC_ARGS[@]})); then
            SKIPPED+=("braid → concentrator: braid-concentrator did not listen within 10 s (log: $(tail -n 3 "$WORK/concentrator.log" | tr '\n' ' '))")
        fi
    else
        SKIPPED+=("braid → concentrator: $BIN/braid-concentrator not found or not executable")
    fi

    if command -v microsocks >/dev/null 2>&1; then
        P_M=$(freeport)
        spawn microsocks microsocks -i "$HOST" -p "$P_M"
        PID_M=$LAST_PID
        if wait_listen "$P_M" 10 "$PID_M"; then
            add_config microsocks "microsocks" "socks5 $HOST $P_M" "" "pc" "microsocks=$PID_M" "" "peer (thread per connection)" local peer
        else
            SKIPPED+=("microsocks: did not listen within 10 s")
        fi
    else
        SKIPPED+=("microsocks: not installed")
    fi

    DANTED=$(command -v danted || command -v sockd || true)
    if [[ -n "$DANTED" ]]; then
        P_D=$(freeport)
        {
            echo "logoutput: $WORK/danted.out"
            echo "internal: $HOST port = $P_D"
            echo "external: $HOST"
            echo "clientmethod: none"
            echo "socksmethod: none"
            if [[ "$(id -u)" == 0 ]]; then
                echo "user.privileged: root"
                echo "user.unprivileged: nobody"
            fi
            echo "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }"
            echo "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }"
        } >"$WORK/danted.conf"
        chmod a+rx "$WORK"
        spawn danted "$DANTED" -f "$WORK/danted.conf" -p "$WORK/danted.pid"
        PID_D=$LAST_PID
        if wait_listen "$P_D" 10 "$PID_D"; then
            add_config dante "dante (danted)" "socks5 $HOST $P_D" "" "pc" "dante=$PID_D" "" "peer (process pool)" local peer
        else
            SKIPPED+=("dante: danted did not listen within 10 s (log: $(tail -n 3 "$WORK/danted.log" "$WORK/danted.out" 2>/dev/null | tr '\n' ' '))")
        fi
    else
        SKIPPED+=("dante: danted not installed")
    fi

    # shadowsocks-libev: ss-local (the SOCKS5 server apps talk to) and
    # ss-server (its remote end), both here. The pair is what compares with
    # braid → concentrator; ss-local alone relays nothing without its server.
    if command -v ss-local >/dev/null 2>&1 && command -v ss-server >/dev/null 2>&1; then
        SS_METHOD=${BENCH_SS_METHOD:-aes-256-gcm}
        P_SS=$(freeport) P_SL=$(freeport)
        SS_PW="bench$RANDOM$RANDOM"
        spawn ss-server ss-server -s "$HOST" -p "$P_SS" -k "$SS_PW" -m "$SS_METHOD"
        PID_SS=$LAST_PID
        spawn ss-local ss-local -s "$HOST" -p "$P_SS" -b "$HOST" -l "$P_SL" -k "$SS_PW" -m "$SS_METHOD"
        PID_SL=$LAST_PID
        if wait_listen "$P_SS" 10 "$PID_SS" && wait_listen "$P_SL" 10 "$PID_SL"; then
            add_config ss "shadowsocks-libev: ss-local → ss-server ($SS_METHOD)" "socks5 $HOST $P_SL" "" "pc" \
                "ss-local=$PID_SL ss-server=$PID_SS" "" "peer pair (local + remote, encrypted hop)" pair peer
        else
            SKIPPED+=("shadowsocks: ss-local/ss-server did not listen within 10 s (log: $(tail -n 3 "$WORK/ss-server.log" "$WORK/ss-local.log" 2>/dev/null | tr '\n' ' '))")
        fi
    else
        SKIPPED+=("shadowsocks: ss-local / ss-server (package shadowsocks-libev) not installed")
    fi
fi

# ------------------------------------------------------------------ one measurement
MPTCP_SEEN=""
measure() {  # INDEX DIR REP
    local i="$1" dir="$2" rep="$3"
    local id="${C_ID[$i]}" port srv_pid
    local json="$WORK/$id-$dir-$rep.json" pc="$WORK/pc-$id.conf"
    local -a srv cli cpus=() names=() before=() after=()
    local spec
    port=$(freeport)
    srv=(iperf3 -s -B "$HOST" -p "$port" -1)
    # shellcheck disable=SC2206  # prefixes are space-separated words ("mptcpize run")
    [[ -n "${C_SRVPRE[$i]}" ]] && srv=(${C_SRVPRE[$i]} "${srv[@]}")
    cli=(iperf3 -c "$HOST" -p "$port" -t "$T" -J --connect-timeout 5000)
    [[ "$dir" == down ]] && cli+=(-R)
    case "${C_CLIPRE[$i]}" in
        "") ;;
        pc)
            printf 'strict_chain\nquiet_mode\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n[ProxyList]\n%s\n' \
                "${C_PROXY[$i]}" >"$pc"
            cli=(proxychains4 -q -f "$pc" "${cli[@]}") ;;
        *)
            # shellcheck disable=SC2206
            cli=(${C_CLIPRE[$i]} "${cli[@]}") ;;
    esac
    for spec in ${C_CPU[$i]}; do names+=("${spec%%=*}"); cpus+=("${spec#*=}"); done

    spawn "iperf3-server" "${srv[@]}"
    srv_pid=$LAST_PID
    if ! wait_listen "$port" 10 "$srv_pid"; then
        printf 'kind=run\tid=%s\tdir=%s\trep=%s\tok=0\terr=%s\n' "$id" "$dir" "$rep" "iperf3 server did not start" >>"$TSV"
        stop_pid "$srv_pid" 1
        return
    fi
    local k
    for k in "${!cpus[@]}"; do before[k]=$(cputicks "${cpus[k]}"); done
    timeout -k 5 $((T + 25)) "${cli[@]}" >"$json" 2>"$json.err" &
    local cli_pid=$!
    if [[ "$id" == braid-conc && -z "$MPTCP_SEEN" ]]; then
        sleep 1
        # MPTCP sockets on the concentrator's port while data flows: proves the hop is not plain TCP.
        MPTCP_SEEN=$(ss -HMn state established "( sport = :$P_C or dport = :$P_C )" 2>/dev/null | wc -l)
    fi
    wait "$cli_pid"
    local rc=$?
    for k in "${!cpus[@]}"; do after[k]=$(cputicks "${cpus[k]}"); done
    stop_pid "$srv_pid" 2
    local res err line
    if res=$("${LIB[@]}" iperf "$json" 2>"$json.parse"); then
        read -r bps bytes retr <<<"$res"
        line=$(printf 'kind=run\tid=%s\tdir=%s\trep=%s\tok=1\tbps=%s\tbytes=%s\tretr=%s' "$id" "$dir" "$rep" "$bps" "$bytes" "$retr")
        for k in "${!cpus[@]}"; do line+=$(printf '\tcpu_%s=%s' "${names[k]}" $((after[k] - before[k]))); done
        printf '%s\n' "$line" >>"$TSV"
        log "$(printf '%-11s %-4s rep %s: %6.2f Gbit/s' "$id" "$dir" "$rep" "$(python3 -c "print($bps/1e9)")")"
    else
        err=$(cat "$json.parse" "$json.err" 2>/dev/null | tr '\n\t' '  ' | cut -c1-200)
        [[ $rc == 124 ]] && err="timed out after $((T + 25)) s; $err"
        printf 'kind=run\tid=%s\tdir=%s\trep=%s\tok=0\terr=%s\n' "$id" "$dir" "$rep" "$err" >>"$TSV"
        log "$id $dir rep $rep: FAILED: $err"
    fi
}

# ------------------------------------------------------------------ run
n=${#C_ID[@]}
log "$n configurations × 2 directions × $REPS reps × ${T}s (≈ $((n * 2 * REPS * (T + 1))) s)"
for ((rep = 1; rep <= REPS; rep++)); do
    for dir in down up; do
        for ((i = 0; i < n; i++)); do
            measure "$i" "$dir" "$rep"
        done
    done
done

# Did a proxy die during the run?
DIED=()
for pair in PID_BD:braid-direct PID_BT:braid-tcp PID_BC:braid-conc PID_C:concentrator PID_M:microsocks PID_D:danted PID_SL:ss-local PID_SS:ss-server; do
    v=${pair%%:*} name=${pair#*:}
    p=${!v:-}
    [[ -n "$p" ]] && ! kill -0 "$p" 2>/dev/null &&
        DIED+=("$name (pid $p); last log line: \`$(tail -n 1 "$WORK/$name.log" 2>/dev/null | cut -c1-200)\`")
done

# ------------------------------------------------------------------ report
echo "### 1. Loopback relay throughput (one TCP stream)"
echo
echo "iperf3 $(iperf3 --version 2>/dev/null | head -1 | awk '{print $2}'), \`-t $T\`, $REPS runs per cell" \
     "(median, min–max in parentheses), runs interleaved across rows. Proxied rows: iperf3 under" \
     "proxychains4 (control and data connection both proxied). Download = iperf3 \`-R\` (server sends)." \
     "CPU = user+system time of the proxy process(es), their children and reaped children, per 10⁹ bytes of payload relayed (iperf3 payload; the proxy moves each byte in and out once)."
echo
echo "Targets (issue 6) for the braid rows: relay ≥ 0.8× direct and ≥ 1.2× the best peer, CPU per GB ≤ 0.8× the best peer," \
     "each direction. The best peer is taken among peers of the same kind: for braid's direct mode (one local SOCKS5" \
     "server) microsocks and dante; for braid → concentrator (a local proxy and its remote server, each relaying every" \
     "byte) shadowsocks' ss-local → ss-server, whose CPU is both processes together, as braid's is braid + concentrator." \
     "ss-local alone is not comparable with braid's direct mode: it relays nothing without its server, and encrypts."
echo
"${LIB[@]}" loopback-table "$TSV"
echo
notes=()
base=$(awk -F'\t' '$1=="kind=run" && $2=="id=direct" && $5=="ok=1" {split($6,a,"="); print a[2]/1e9}' "$TSV" | sort -n | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}')
if [[ -n "$base" ]] && awk -v b="$base" 'BEGIN {exit !(b < 10)}'; then
    notes+=("Direct baseline is low ($base Gbit/s; NOTES.md saw ≈26 on this kind of machine): the machine was busy (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)); compare ratios, not absolutes.")
fi
if ((CONC_OK)); then
    if [[ "${MPTCP_SEEN:-0}" -ge 1 ]]; then
        notes+=("braid→concentrator hop: $MPTCP_SEEN established MPTCP socket(s) on the concentrator port during the first transfer (ss -M), so the hop really ran over MPTCP.")
    else
        notes+=("braid→concentrator hop: **no established MPTCP socket seen** on the concentrator port during the transfer (ss -M): the hop may have fallen back to plain TCP.")
    fi
fi
[[ -n "$CONC_NOTE" ]] && notes+=("$CONC_NOTE")
for f in braid-direct braid-tcp braid-conc concentrator; do
    [[ -s "$WORK/$f.log" ]] || continue
    c=$(grep -ciE 'warn|error' "$WORK/$f.log")
    s="$f log (--log-level warn): $(wc -l <"$WORK/$f.log") line(s), $c with warn/error"
    ((c)) && s+="; first: \`$(grep -iE 'warn|error' "$WORK/$f.log" | head -1 | cut -c1-160)\`"
    notes+=("$s")
done
for d in "${DIED[@]}"; do notes+=("**process not running at the end: $d**"); done
for s in "${SKIPPED[@]}"; do notes+=("skipped: $s"); done
if ((${#notes[@]})); then
    for s in "${notes[@]}"; do echo "- $s"; done
    echo
fi
exit 0
