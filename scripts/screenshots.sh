#!/usr/bin/env bash
# Makes the README's screenshots of braid-gui in docs/screenshots/:
#   dashboard.png           both testbed paths (Wi-Fi, cellular) carrying a download
#   dashboard-cell-off.png  after `braid path cell0 off`: the download moves to Wi-Fi
#   tray-menu.png           the tray menu opened from the icon in a real tray (trayer)
#
# As root: the two-path testbed of tests/integration/testbed.sh,
# braid-concentrator in its conc namespace, `braid up` and braid-gui in the
# cli namespace (the GUI reaches the control API on cli's loopback), and an
# Xvfb display with a tray host for the GUI. Needs a build with the GUI:
#   BUILD_DIR=build-gui scripts/screenshots.sh      (default BUILD_DIR: build)
# Knobs: OUT_DIR (default docs/screenshots), TB_WIFI_RATE / TB_CELL_RATE
# (default 24mbit / 12mbit), SHOT_SECONDS (when the first shots are taken, 35).
# No `set -e`: the testbed's EXIT trap reaps processes with `wait`, whose
# non-zero status would abort the teardown and leave the namespaces behind.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD
BUILD_DIR=${BUILD_DIR:-build}
BIN=$root/$BUILD_DIR/bin
OUT=${OUT_DIR:-$root/docs/screenshots}
first=${SHOT_SECONDS:-35}

for b in braid braid-concentrator braid-gui; do
  [[ -x "$BIN/$b" ]] || { echo "screenshots: $BIN/$b is not built (cmake with Qt 6; BUILD_DIR=...)" >&2; exit 1; }
done
for t in Xvfb trayer xsetroot; do
  command -v "$t" >/dev/null || { echo "screenshots: $t is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done

export TB_WIFI_RATE=${TB_WIFI_RATE:-24mbit} TB_CELL_RATE=${TB_CELL_RATE:-12mbit} TB_BIG_MB=${TB_BIG_MB:-60}
export BRAID_BIN_DIR=$BIN BRAID_LOG_LEVEL=info
# shellcheck source=../tests/integration/braid_lib.sh
source "$root/tests/integration/braid_lib.sh"
testbed_up   # tears everything down (processes included) on exit

# A virtual screen with a desktop colour and a tray host in its top-right corner.
display=":$((100 + RANDOM % 400))"
Xvfb "$display" -screen 0 1280x860x24 -nolisten tcp -noreset >"$TB_TMP/xvfb.log" 2>&1 &
TB_PIDS+=("$!")
for ((i = 0; i < 50; i++)); do [[ -S "/tmp/.X11-unix/X${display#:}" ]] && break; sleep 0.1; done
[[ -S "/tmp/.X11-unix/X${display#:}" ]] || tb_fail "Xvfb did not start on $display (see $TB_TMP/xvfb.log)"
DISPLAY=$display xsetroot -solid '#5b6b7a' || tb_fail "xsetroot cannot reach $display"
DISPLAY=$display trayer --edge top --align right --widthtype request --height 28 --SetDockType true \
  --transparent false --tint 0x262a31 >"$TB_TMP/trayer.log" 2>&1 &
TB_PIDS+=("$!")

braid_start_concentrator
braid_write_config "{
  \"socks\": \"127.0.0.1:$BRAID_SOCKS_PORT\", \"http\": \"127.0.0.1:$BRAID_HTTP_PORT\",
  \"control\": {\"listen\": \"127.0.0.1:7310\"},
  \"paths\": {\"wifi0\": {\"kind\": \"wifi\"}, \"cell0\": {\"kind\": \"cellular\"}}
}"
braid_cli add-concentrator "$BRAID_ACCESS_KEY" >/dev/null || tb_fail "braid add-concentrator failed"
# shellcheck disable=SC2046
tb_spawn "$TB_CLI" braid env $(braid__env) "$BRAID" up
BRAID_CLIENT_PID=$TB_LAST_PID
tb_wait_port "$TB_CLI" 7310 15 "$BRAID_CLIENT_PID"
tb_wait_port "$TB_CLI" "$BRAID_SOCKS_PORT" 15 "$BRAID_CLIENT_PID"

# Downloads back to back through braid's SOCKS5 port, for as long as we shoot.
tb_spawn "$TB_CLI" traffic bash -c "while :; do curl -s --socks5 $BRAID_SOCKS -o /dev/null $(tb_url big.bin); done"
sleep 3

# One GUI instance shoots everything, so its chart keeps the whole story.
mkdir -p "$OUT" || tb_fail "cannot create $OUT"
off_at=$((first + 5))
# shellcheck disable=SC2046
tb_spawn "$TB_CLI" braid-gui env $(braid__env) DISPLAY="$display" "$BIN/braid-gui" --dashboard \
  --screenshot "$OUT/dashboard.png@$first" \
  --tray-menu-screenshot "$OUT/tray-menu.png@$((first + 2))" \
  --screenshot "$OUT/dashboard-cell-off.png@$((off_at + 25))"
gui_pid=$TB_LAST_PID

sleep "$off_at"
tb_log "switching cellular off: braid path cell0 off"
braid_cli path cell0 off || tb_fail "braid path cell0 off failed"
braid_cli paths

for ((i = 0; i < 600; i++)); do tb_alive "$gui_pid" || break; sleep 0.1; done
tb_alive "$gui_pid" && tb_fail "braid-gui did not finish its screenshots (see $TB_TMP/braid-gui.log)"
wait "$gui_pid" || tb_fail "braid-gui failed to write a screenshot (see $TB_TMP/braid-gui.log)"
cat "$TB_TMP/braid-gui.log" >&2
ls -l "$OUT"/dashboard.png "$OUT"/dashboard-cell-off.png "$OUT"/tray-menu.png || tb_fail "a screenshot is missing"
