#!/usr/bin/env bash
# The pool of pre-warmed connections (braid's default config) on the testbed.
# The concentrator keeps an idle established connection POOL_IDLE_MS (4 s)
# and its handshake timeout is 1 s, so both limits are crossed while the pool
# waits.
#
#  1. After start, `braid status --json` shows pool.min idle connections and
#     the concentrator has them as established MPTCP connections with a
#     subflow on each path (ss -M / ss -ti in conc).
#  2. 10 downloads one after another: all intact, all served pre-warmed
#     (pool hits, no misses), braid logs "pre-warmed".
#  3. Idle past the concentrator's handshake timeout and past its pool limit
#     (6 s): the concentrator closed the idle ones quietly (nothing about them
#     at info level, no refusal counted), the pool replaced them, and a
#     download still works, pre-warmed.
#  4. `braid path cell0 off`: idle connections are replaced (path_drops) and
#     the next download does not touch cell0; `on` again.
#  5. The concentrator restarts: the pool backs off while it is away, then
#     fills again; downloads work before, during the refill and after.
set -uo pipefail
: "${POOL_IDLE_MS:=4000}"
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

braid_require_bins
testbed_up
braid_init_concentrator
python3 - "$BRAID_CONC_DIR/concentrator.json" "$POOL_IDLE_MS" <<'EOF'
import json, sys
p, idle = sys.argv[1], int(sys.argv[2])
c = json.load(open(p))
c.setdefault("limits", {}).update({"handshake_timeout_ms": 1000, "pool_idle_ms": idle})
json.dump(c, open(p, "w"), indent=2)
EOF
braid_start_concentrator
braid_start_client

# pool FIELD: one field of `braid status --json`'s pool object.
pool() {
    braid_cli status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pool"].get(sys.argv[1], ""))' "$1"
}
# wait_idle N [SECONDS]: until the pool has N idle connections (5 s at most).
wait_idle() {
    local i
    for ((i = 0; i < ${2:-5} * 10; i++)); do
        (($(pool idle) >= $1)) && return 0
        sleep 0.1
    done
    return 1
}

# ---- 1. warm after start ------------------------------------------------------
[[ "$(pool enabled)" == True ]] || tb_fail "braid status --json: the pool is not enabled by default"
wait_idle 2 || tb_fail "the pool did not fill: $(braid_cli status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pool"])')"
conns=$(in_conc ss -HnM state established "( sport = :$BRAID_CONC_PORT )" | wc -l)
((conns >= 2)) || tb_fail "the concentrator has $conns established MPTCP connections, want the pool's 2"
sleep 0.5
subflows=$(in_conc ss -Htn state established "( sport = :$BRAID_CONC_PORT )" | wc -l)
((subflows >= 2 * conns)) ||
    tb_fail "$conns pooled MPTCP connections but only $subflows subflows at the concentrator: the second path did not join while idle"
tb_log "[warm] OK: $(pool idle) idle, $conns MPTCP connections with $subflows subflows at the concentrator"

# ---- 2. downloads served pre-warmed ----------------------------------------------
for i in $(seq 1 10); do
    expect_download "warm-$i" small.bin --socks5-hostname "$BRAID_SOCKS" "$(tb_url small.bin)"
    wait_idle 2 || true
done
hits=$(pool hits) misses=$(pool misses)
((hits >= 10 && misses == 0)) || tb_fail "10 downloads: pool hits $hits, misses $misses (want 10 and 0)"
n=$(grep -c "via concentrator (MPTCP, pre-warmed)" "$TB_TMP/braid.log")
((n >= 10)) || tb_fail "braid logged $n pre-warmed connects, want 10"
tb_log "[hits] OK: $hits hits, $misses misses"

# ---- 3. idle past the concentrator's limits --------------------------------------
closed0=$(pool closed_idle)
sleep $((POOL_IDLE_MS / 1000 + 2))
closed=$(pool closed_idle) failures=$(pool refill_failures)
((closed > closed0)) || tb_fail "no idle connection was closed by the concentrator after $((POOL_IDLE_MS / 1000 + 2)) s (pool_idle_ms $POOL_IDLE_MS)"
((failures == 0)) || tb_fail "the concentrator closing idle connections counted as $failures refill failure(s)"
bad=$(grep -E " info | warn | error " "$TB_TMP/concentrator.log" | grep -ciE "handshake|without a request|pre-warmed")
((bad == 0)) || tb_fail "the concentrator logged idle pooled connections at info or above: $(grep -E ' info | warn ' "$TB_TMP/concentrator.log" | grep -iE 'handshake|pre-warmed' | head -2)"
wait_idle 2 || tb_fail "the pool did not refill after the concentrator closed idle connections"
expect_download after-idle small.bin --socks5-hostname "$BRAID_SOCKS" "$(tb_url small.bin)"
tb_log "[idle] OK: $((closed - closed0)) idle connection(s) closed by the concentrator, replaced quietly"

# ---- 4. a path switched off --------------------------------------------------------
drops0=$(pool path_drops)
braid_cli path cell0 off >/dev/null || tb_fail "braid path cell0 off failed"
sleep 1
drops=$(pool path_drops)
((drops > drops0)) || tb_fail "cell0 off: no pooled connection was replaced (path_drops $drops0 -> $drops)"
wait_idle 2 || tb_fail "the pool did not refill after cell0 went off"
cell0=$(tb_rx_bytes "$TB_CLI" cell0)
expect_download path-off big.bin --socks5-hostname "$BRAID_SOCKS" "$(tb_url big.bin)"
grown=$(($(tb_rx_bytes "$TB_CLI" cell0) - cell0))
((grown < 65536)) || tb_fail "cell0 is off but the download after it brought $grown B over cell0"
braid_cli path cell0 on >/dev/null || tb_fail "braid path cell0 on failed"
tb_log "[path] OK: $((drops - drops0)) connection(s) replaced, cell0 carried $grown B while off"

# ---- 5. the concentrator restarts ----------------------------------------------------
braid_stop_concentrator
sleep 1
[[ "$(pool idle)" == 0 ]] || tb_fail "the concentrator is gone but the pool still lists $(pool idle) idle connections"
braid_start_concentrator
for i in 1 2 3; do
    expect_download "restart-$i" small.bin --socks5-hostname "$BRAID_SOCKS" "$(tb_url small.bin)"
done
wait_idle 2 20 || tb_fail "the pool did not fill again after the concentrator came back: $(braid_cli status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pool"])')"
tb_log "[restart] OK: downloads work, the pool is back ($(pool idle) idle, $(pool refill_failures) refill failures)"

braid_check_alive
tb_pass
