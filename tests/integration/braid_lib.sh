# shellcheck shell=bash
# Helpers shared by the Braid integration tests: find the binaries, start the
# concentrator (ns conc) and `braid up` (ns cli), fetch with curl in cli and
# compare sha256 with the served file. Sources testbed.sh.

BRAID_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=testbed.sh
source "$BRAID_TESTS_DIR/testbed.sh"

: "${BRAID_BIN_DIR:=/work/main/build/bin}"
BRAID="$BRAID_BIN_DIR/braid"
BRAID_CONCENTRATOR="$BRAID_BIN_DIR/braid-concentrator"
BRAID_USER=testbed
BRAID_ACCESS_KEY=""  # braid://USER:TOKEN@HOST:PORT?fp=..., set by braid_init_concentrator
BRAID_CONC_DIR=""    # the concentrator's key, certificate, users file and config
BRAID_CONC_PORT=7300
BRAID_SOCKS_PORT=1080
BRAID_HTTP_PORT=8118
BRAID_SOCKS="127.0.0.1:$BRAID_SOCKS_PORT"
BRAID_HTTP="127.0.0.1:$BRAID_HTTP_PORT"
BRAID_CONC_PID=""
BRAID_CLIENT_PID=""
: "${BRAID_LOG_LEVEL:=debug}"

# braid_require_bins [client-only]: skip (77) when the binaries are not built.
braid_require_bins() {
    [[ -x "$BRAID" ]] || tb_skip "braid binary not found at $BRAID (build first, or set BRAID_BIN_DIR)"
    [[ "${1:-}" == client-only ]] && return 0
    [[ -x "$BRAID_CONCENTRATOR" ]] ||
        tb_skip "braid-concentrator binary not found at $BRAID_CONCENTRATOR (build first, or set BRAID_BIN_DIR)"
}

# Environment for braid processes: a private HOME/XDG tree per run so nothing
# (config, state, control-API token) is shared with the host or parallel runs.
braid__env() {
    local h="$TB_TMP/home"
    mkdir -p "$h/.config" "$h/.local/state" "$h/run"
    chmod 700 "$h/run"
    echo "HOME=$h" "XDG_CONFIG_HOME=$h/.config" "XDG_STATE_HOME=$h/.local/state" "XDG_RUNTIME_DIR=$h/run"
}

# braid_init_concentrator: `braid-concentrator init` in $TB_TMP/conc (a key,
# a self-signed certificate, users.json with user $BRAID_USER, a config);
# sets BRAID_CONC_DIR and BRAID_ACCESS_KEY (the line clients import). Runs
# once; braid_start_concentrator calls it.
braid_init_concentrator() {
    [[ -n "$BRAID_ACCESS_KEY" ]] && return 0
    BRAID_CONC_DIR="$TB_TMP/conc"
    BRAID_ACCESS_KEY=$("$BRAID_CONCENTRATOR" init --dir "$BRAID_CONC_DIR" --host "$TB_CONC_WIFI_IP" \
        --port "$BRAID_CONC_PORT" --user "$BRAID_USER" 2>"$TB_TMP/conc-init.log") ||
        tb_fail "braid-concentrator init failed: $(cat "$TB_TMP/conc-init.log")"
    [[ "$BRAID_ACCESS_KEY" == braid://* ]] || tb_fail "braid-concentrator init printed no access key: '$BRAID_ACCESS_KEY'"
}

# braid_conc_admin ARGS...: braid-concentrator user add/revoke/list on this
# testbed's concentrator config (prints what the verb prints).
braid_conc_admin() {
    "$BRAID_CONCENTRATOR" "$@" -c "$BRAID_CONC_DIR/concentrator.json"
}

# braid_start_concentrator [EXTRA ARGS...]: TLS with the key from
# braid_init_concentrator. The testbed's "internet" host (10.31.9.2) is on a
# private subnet, which the destination policy refuses unless allowed.
braid_start_concentrator() {
    braid_init_concentrator
    # shellcheck disable=SC2046
    tb_spawn "$TB_CONC" concentrator env $(braid__env) "$BRAID_CONCENTRATOR" -c "$BRAID_CONC_DIR/concentrator.json" \
        --listen "0.0.0.0:$BRAID_CONC_PORT" --log-level "$BRAID_LOG_LEVEL" --allow "$TB_NET_IP/32" "$@"
    BRAID_CONC_PID=$TB_LAST_PID
    tb_wait_port "$TB_CONC" "$BRAID_CONC_PORT" 15 "$BRAID_CONC_PID"
    braid__expect_listening_line concentrator
}

# braid_start_client [--direct] [EXTRA ARGS...]: `braid up` in cli, with the
# concentrator at 10.31.1.1:7300 (its access key: TLS, pinned) unless --direct.
braid_start_client() {
    local args=(up --socks "$BRAID_SOCKS" --http "$BRAID_HTTP" --log-level "$BRAID_LOG_LEVEL")
    if [[ "${1:-}" == --direct ]]; then
        shift
    else
        braid_init_concentrator
        args+=(--access-key "$BRAID_ACCESS_KEY")
    fi
    # shellcheck disable=SC2046
    tb_spawn "$TB_CLI" braid env $(braid__env) "$BRAID" "${args[@]}" "$@"
    BRAID_CLIENT_PID=$TB_LAST_PID
    tb_wait_port "$TB_CLI" "$BRAID_SOCKS_PORT" 15 "$BRAID_CLIENT_PID"
    tb_wait_port "$TB_CLI" "$BRAID_HTTP_PORT" 15 "$BRAID_CLIENT_PID"
    braid__expect_listening_line braid
}

braid__expect_listening_line() {
    local name="$1" i
    for ((i = 0; i < 50; i++)); do
        grep -q listening "$TB_TMP/$name.log" 2>/dev/null && return 0
        sleep 0.1
    done
    tb_fail "$name listens on its port but never printed a line containing 'listening' (see $name.log)"
}

braid_stop_client() {
    [[ -n "$BRAID_CLIENT_PID" ]] && tb_stop "$BRAID_CLIENT_PID"
    BRAID_CLIENT_PID=""
}
braid_stop_concentrator() {
    [[ -n "$BRAID_CONC_PID" ]] && tb_stop "$BRAID_CONC_PID"
    BRAID_CONC_PID=""
}

# braid_check_alive: fail if braid or the concentrator died.
braid_check_alive() {
    if [[ -n "$BRAID_CLIENT_PID" ]] && ! tb_alive "$BRAID_CLIENT_PID"; then
        wait "$BRAID_CLIENT_PID" 2>/dev/null
        tb_fail "braid (client) exited unexpectedly with status $?"
    fi
    if [[ -n "$BRAID_CONC_PID" ]] && ! tb_alive "$BRAID_CONC_PID"; then
        wait "$BRAID_CONC_PID" 2>/dev/null
        tb_fail "braid-concentrator exited unexpectedly with status $?"
    fi
}

# ---------------------------------------------------------------- curl
# cli_curl LABEL CURL-ARGS...: run curl in cli. Sets CURL_RC, CURL_W (the -w
# output) and CURL_ERR (stderr). Writes body to $TB_TMP/LABEL.body.
# -w prints: http_code http_connect size_download time_total
# (curl 7.88 has no %{proxy_error}; SOCKS5 REP codes are read from stderr).
cli_curl() {
    local label="$1"
    shift
    CURL_OUT="$TB_TMP/$label.body"
    rm -f "$CURL_OUT"
    CURL_W=$(in_cli curl -sS --noproxy '' --connect-timeout 20 --max-time "${CURL_MAX_TIME:-120}" \
        -o "$CURL_OUT" -w '%{http_code} %{http_connect} %{size_download} %{time_total}' \
        "$@" 2>"$TB_TMP/$label.curl-stderr")
    CURL_RC=$?
    CURL_ERR=$(cat "$TB_TMP/$label.curl-stderr")
    tb_log "curl [$label] $* -> rc=$CURL_RC w='$CURL_W'${CURL_ERR:+ stderr='$CURL_ERR'}"
}

# expect_download LABEL FILE CURL-ARGS... URL: curl must succeed with HTTP 200
# and the body's sha256 must equal FILE's.
expect_download() {
    local label="$1" file="$2" got want
    shift 2
    cli_curl "$label" "$@"
    ((CURL_RC == 0)) || tb_fail "[$label] curl $* failed (exit $CURL_RC): $CURL_ERR"
    [[ "${CURL_W%% *}" == 200 ]] || tb_fail "[$label] curl $*: HTTP status '${CURL_W%% *}', want 200"
    want=$(tb_file_sha "$file")
    got=$(sha256sum "$CURL_OUT" | cut -d' ' -f1)
    if [[ "$got" != "$want" ]]; then
        tb_fail "[$label] sha256 mismatch for $file: got $got ($(stat -c %s "$CURL_OUT") bytes), want $want ($(tb_file_size "$file") bytes)"
    fi
    tb_log "[$label] OK: $file arrived intact ($(tb_file_size "$file") bytes, sha256 ${want:0:16}...)"
}

# new_tag: unique token to put in a URL query (?tag=...) to find the request
# in the HTTP server's log.
# socks_rep_of_last_curl: the SOCKS5 REP code curl reported for the last
# cli_curl ("Can't complete SOCKS5 connection to HOST. (N)"), or "none".
socks_rep_of_last_curl() {
    local re="SOCKS5 connection to .*\\(([0-9]+)\\)"
    if [[ "$CURL_ERR" =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo none; fi
}

new_tag() { echo "t$RANDOM$RANDOM"; }

# http_client_of TAG: source address the HTTP server in net saw for the
# request carrying ?tag=TAG (python http.server logs "ADDR - - [date] "GET ...").
http_client_of() {
    local i line
    for ((i = 0; i < 20; i++)); do
        line=$(grep -F "tag=$1 " "$TB_TMP/http-server.log" 2>/dev/null | tail -n1)
        [[ -n "$line" ]] && { echo "${line%% *}"; return 0; }
        sleep 0.1
    done
    echo "none"
}

# expect_via_concentrator TAG: the request reached the server from conc's up0
# (10.31.9.1), i.e. it was relayed by the concentrator and not sent directly.
expect_via_concentrator() {
    local c
    c=$(http_client_of "$1")
    [[ "$c" == "$TB_CONC_UP_IP" ]] ||
        tb_fail "request tag=$1 reached the HTTP server from '$c', want $TB_CONC_UP_IP (the concentrator)"
}

# expect_direct TAG: the request reached the server straight from cli.
expect_direct() {
    local c
    c=$(http_client_of "$1")
    [[ "$c" == "$TB_CLI_WIFI_IP" || "$c" == "$TB_CLI_CELL_IP" ]] ||
        tb_fail "request tag=$1 reached the HTTP server from '$c', want a cli address (direct mode)"
}

# ---------------------------------------------------------------- control API / CLI
# braid_write_config JSON: write the config file that `braid up` and the CLI
# verbs read by default ($XDG_CONFIG_HOME/braid/braid.json in braid__env's
# private tree). Call before braid_start_client.
braid_write_config() {
    local h="$TB_TMP/home"
    mkdir -p "$h/.config/braid"
    printf '%s\n' "$1" >"$h/.config/braid/braid.json"
}

# braid_cli ARGS...: run a braid CLI verb (status, paths, path, mode, top, ...)
# in cli with the same private environment as `braid up`, so it finds the same
# config, control API address and token.
braid_cli() {
    # shellcheck disable=SC2046
    in_cli env $(braid__env) "$BRAID" "$@"
}

# braid_path_json NAME [KEY...]: path NAME's entry of `braid paths --json`, or
# one (nested) field of it: `braid_path_json cell0 session down`. Prints
# "absent" when braid lists no path NAME; returns 1 (printing nothing) when
# the CLI fails.
braid_path_json() {
    local out
    out=$(braid_cli paths --json 2>"$TB_TMP/braid-cli.err") || return 1
    python3 -c '
import json, sys
paths = json.loads(sys.stdin.read())
p = next((x for x in paths if x.get("name") == sys.argv[1]), None)
if p is None:
    print("absent"); sys.exit(0)
for k in sys.argv[2:]:
    p = p[k]
print(json.dumps(p) if isinstance(p, (dict, list, bool)) or p is None else p)
' "$@" <<<"$out"
}

# cli_endpoints [raw]: the MPTCP endpoints in cli, one per line, sorted, as
# "ADDR dev DEV flags..." without the kernel-assigned ids (which change when
# an endpoint is deleted and re-added); `raw` prints `ip mptcp endpoint show`.
cli_endpoints() {
    if [[ "${1:-}" == raw ]]; then
        ip -n "$TB_CLI" mptcp endpoint show
        return
    fi
    ip -n "$TB_CLI" -j mptcp endpoint show | python3 -c '
import json, sys
text = sys.stdin.read().strip()
rows = []
for e in (json.loads(text) if text else []):
    flags = [f for f in ("signal", "subflow", "backup", "fullmesh") if e.get(f)]
    rows.append(" ".join([e.get("address", "?"), "dev", e.get("dev", "-")] + flags))
print("\n".join(sorted(rows)))
'
}

tb_pass() {
    braid_check_alive
    printf 'PASS: %s\n' "$*" >&2
    exit 0
}
