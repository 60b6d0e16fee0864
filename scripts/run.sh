#!/usr/bin/env bash
# Braid's main job: install, build, and run a working proxy over a local
# concentrator.
#   - As root with network namespaces and MPTCP: the two-path testbed of
#     tests/integration/testbed.sh (Wi-Fi 40 Mbit/s + cellular 20 Mbit/s),
#     braid-concentrator in the "conc" namespace, braid in the "cli" one, a
#     demo download that shows both paths carrying bytes.
#   - Otherwise: braid and braid-concentrator on loopback.
# Runs until Ctrl-C (or for BRAID_RUN_SECONDS seconds when set).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh
BIN=$root/build/bin

wait_for_exit() {
  # $1: pid of braid. Returns when it exits, on Ctrl-C, or after BRAID_RUN_SECONDS.
  local pid=$1
  if [[ -n "${BRAID_RUN_SECONDS:-}" ]]; then
    local i
    for ((i = 0; i < BRAID_RUN_SECONDS * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || return 0
      sleep 0.1
    done
  else
    wait "$pid" || true
  fi
}

testbed_mode() {
  # shellcheck source=../tests/integration/testbed.sh
  source "$root/tests/integration/testbed.sh"
  testbed_up
  # The concentrator's key, self-signed certificate, users file and config;
  # init prints the access key (user, token, pinned fingerprint) a client imports.
  local key
  key=$("$BIN/braid-concentrator" init --dir "$TB_TMP/conc" --host "$TB_CONC_WIFI_IP" --port 7300 --user demo)
  echo "access key: $key"
  # The testbed's "internet" (10.31.9.2) is a private subnet, which a
  # concentrator refuses to reach unless told.
  tb_spawn "$TB_CONC" concentrator "$BIN/braid-concentrator" -c "$TB_TMP/conc/concentrator.json" \
    --allow "$TB_NET_IP/32"
  local conc_pid=$TB_LAST_PID
  tb_wait_port "$TB_CONC" 7300 10 "$conc_pid"
  # The testbed's links are veths; tell braid which is which, and keep its
  # API token and remembered state with the testbed. Then import the key.
  cat >"$TB_TMP/braid.json" <<EOT
{"paths": {"wifi0": {"kind": "wifi"}, "cell0": {"kind": "cellular"}},
 "control": {"listen": "127.0.0.1:7310", "token_file": "$TB_TMP/api-token"},
 "state_file": "$TB_TMP/state.json"}
EOT
  "$BIN/braid" add-concentrator "$key" -c "$TB_TMP/braid.json"
  tb_spawn "$TB_CLI" braid "$BIN/braid" up -c "$TB_TMP/braid.json" --socks 127.0.0.1:1080 --http 127.0.0.1:8118
  local braid_pid=$TB_LAST_PID
  tb_wait_port "$TB_CLI" 1080 10 "$braid_pid"

  echo
  echo "== demo: a ${TB_BIG_MB} MB download through braid's SOCKS5 port, bonded over wifi0 + cell0 =="
  local got
  got=$(in_cli curl -sS --socks5-hostname 127.0.0.1:1080 "$(tb_url big.bin "$TB_FILES_HOST")" \
        -w '%{size_download} bytes in %{time_total} s (%{speed_download} B/s)\n' -o "$TB_TMP/demo.bin")
  echo "curl: $got"
  if [[ "$(sha256sum <"$TB_TMP/demo.bin" | cut -d' ' -f1)" == "$(tb_file_sha big.bin)" ]]; then
    echo "sha256 matches the served file"
  else
    echo "sha256 MISMATCH" >&2
  fi
  sleep 0.3
  echo "per-subflow bytes received, from the kernel (MPTCP_TCPINFO):"
  grep 'subflow-stats' "$TB_TMP/braid.log" | tail -n 4 |
    sed -E 's/.*local=([0-9.]+):[0-9]+ .*bytes_received=([0-9]+).*/  \1 \2/' |
    while read -r ip bytes; do
      case $ip in
        "$TB_CLI_WIFI_IP") echo "  wifi0 ($ip): $bytes bytes" ;;
        "$TB_CLI_CELL_IP") echo "  cell0 ($ip): $bytes bytes" ;;
        *) echo "  $ip: $bytes bytes" ;;
      esac
    done

  echo
  echo "== braid status =="
  in_cli "$BIN/braid" status -c "$TB_TMP/braid.json" || true
  cat <<EOT

Braid is running on a two-path testbed (wifi0 ${TB_WIFI_RATE}, cell0 ${TB_CELL_RATE}):
  concentrator  namespace $TB_CONC, 10.31.1.1:7300 (MPTCP, TLS 1.3; key and users in $TB_TMP/conc)
  braid         namespace $TB_CLI, SOCKS5 127.0.0.1:1080, HTTP proxy 127.0.0.1:8118
Point an application at it from inside the client namespace, e.g.:
  ip netns exec $TB_CLI curl --socks5-hostname 127.0.0.1:1080 http://$TB_FILES_HOST/big.bin -o /dev/null
  ip netns exec $TB_CLI curl --proxy http://127.0.0.1:8118 http://$TB_FILES_HOST/small.bin -o /dev/null
  ip netns exec $TB_CLI ip link set wifi0 down     # watch the download carry on over cell0
  ip netns exec $TB_CLI $BIN/braid path cell0 off -c $TB_TMP/braid.json   # or backup / on
  ip netns exec $TB_CLI $BIN/braid top -c $TB_TMP/braid.json              # live per-path rates
Logs: $TB_TMP/braid.log, $TB_TMP/concentrator.log. Ctrl-C stops everything and removes the testbed.
EOT
  wait_for_exit "$braid_pid"
}

loopback_mode() {
  echo "== loopback mode: braid and braid-concentrator on 127.0.0.1 =="
  local tmp
  tmp=$(mktemp -d /tmp/braid-run.XXXXXX)
  local key
  key=$("$BIN/braid-concentrator" init --dir "$tmp/conc" --host 127.0.0.1 --port 7300 --user demo)
  # Local servers are the point of this demo: let the concentrator reach loopback.
  "$BIN/braid-concentrator" -c "$tmp/conc/concentrator.json" --listen 127.0.0.1:7300 --allow 127.0.0.0/8 \
    2>"$tmp/concentrator.log" &
  local conc_pid=$!
  "$BIN/braid" add-concentrator "$key" -c "$tmp/braid.json"
  "$BIN/braid" up -c "$tmp/braid.json" --socks 127.0.0.1:1080 --http 127.0.0.1:8118 2>"$tmp/braid.log" &
  local braid_pid=$!
  trap 'kill $braid_pid $conc_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
  trap 'exit 130' INT TERM
  sleep 0.5
  cat "$tmp/braid.log"
  cat <<EOT

Braid is running on loopback (one path):
  concentrator  127.0.0.1:7300
  braid         SOCKS5 127.0.0.1:1080, HTTP proxy 127.0.0.1:8118
Point an application at it, e.g.:
  curl --socks5-hostname 127.0.0.1:1080 http://127.0.0.1:PORT/   (any local server)
  curl --proxy http://127.0.0.1:8118 http://127.0.0.1:PORT/
Logs: $tmp/braid.log. Ctrl-C stops.
EOT
  wait_for_exit "$braid_pid"
}

set +e
(testbed_mode)
rc=$?
set -e
if [[ $rc -eq 77 ]]; then
  echo "(the two-path testbed needs root, network namespaces and MPTCP; falling back to loopback)"
  loopback_mode
elif [[ $rc -ne 0 && $rc -ne 130 && $rc -ne 143 ]]; then
  exit "$rc"
fi
