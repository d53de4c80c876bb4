#!/usr/bin/env bash
# `tund show` with 1000 peers (issue 14): a hub (TUN, UDP) and tund_swarm's 1000 clients
# (tests/tools), each from its own 127.x source. `tund show`, `--json`, `--dump` and
# `--prometheus` list all 1000 peers, up, each with its own endpoint; the time each took is
# printed (the benchmark, tests/bench/status.sh, measures it; here only a loose sanity
# bound of 5 s holds).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
require_hub
require_tools python3
SWARM=${TUND_BUILD_DIR:-$(dirname "$TUND_BIN")}/tests/tund_swarm
[ -x "$SWARM" ] || skip_or_fail "tund_swarm not built at $SWARM"
N=${STATUS_SWARM_N:-1000}
ulimit -n "$(ulimit -Hn)"
ip netns add "$NS_S"
ip -n "$NS_S" link set lo up
"$TUND_BIN" genkey >"$WORK/hub.key"
"$TUND_BIN" pubkey <"$WORK/hub.key" >"$WORK/hub.pub"
"$SWARM" keys --count "$N" --dir "$WORK/swarm" --net "$HUB_NET4.0/16" >/dev/null || fail "tund_swarm keys failed"
HUB_PEERS=$WORK/swarm/peers
HUB_PREFIX=16
SOCK=$WORK/ctl/hub.sock

step "a hub and $N swarm clients"
start_hub tun udp --max-peers $((N + 16)) --control-socket "$SOCK"
ip netns exec "$NS_S" "$SWARM" run --server 127.0.0.1 --udp --dir "$WORK/swarm" --count "$N" \
  --server-key "$WORK/hub.pub" --source-net 127.66.0.0/16 --ping "$HUB_NET4.1" --interval 5 \
  >"$WORK/swarm.log" 2>&1 &
PIDS+=("$!")
wait_until 60 grep -q "all $N clients have a session" "$WORK/swarm.log" ||
  fail "not all $N swarm clients got a session: $(grep t= "$WORK/swarm.log" | tail -n 1)"
# The hub's side of a session is up once the client's first message after the handshake is in.
all_up() {
  show_json "$NS_S" "$SOCK" "$HUB_DEV" "$WORK/up.json"
  [ "$(python3 -c 'import json, sys; print(sum(p["up"] for p in json.load(open(sys.argv[1]))["interfaces"][0]["peers"]))' "$WORK/up.json")" = "$N" ]
}
wait_until 15 all_up || fail "the hub does not show all $N peers up"

# timed FORM OUT ARGS...: one `tund show` into OUT; prints its ms.
timed() {
  local out=$1 t0 t1
  shift
  t0=$(date +%s%N)
  tund_ctl "$NS_S" "$SOCK" show "$HUB_DEV" "$@" >"$out" || fail "tund show $* failed with $N peers"
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

step "tund show, --json, --dump, --prometheus with $N peers"
ms_text=$(timed "$WORK/n.txt")
ms_json=$(timed "$WORK/n.json" --json)
ms_dump=$(timed "$WORK/n.dump" --dump)
ms_prom=$(timed "$WORK/n.prom" --prometheus)
echo "tund show with $N peers, ms (one query each, client start-up included): text $ms_text," \
  "--json $ms_json, --dump $ms_dump, --prometheus $ms_prom"
for ms in $ms_text $ms_json $ms_dump $ms_prom; do
  [ "$ms" -lt 5000 ] || fail "a query took $ms ms with $N peers (sanity bound 5 s)"
done
[ "$(grep -c '^peer: ' "$WORK/n.txt")" = "$N" ] || fail "the text lists $(grep -c '^peer: ' "$WORK/n.txt") peers"
[ "$(wc -l <"$WORK/n.dump")" = "$N" ] || fail "--dump has $(wc -l <"$WORK/n.dump") lines"
[ "$(cut -f4 "$WORK/n.dump" | grep -c '^up$')" = "$N" ] || fail "--dump has not all $N peers up"
[ "$(cut -f5 "$WORK/n.dump" | sort -u | wc -l)" = "$N" ] || fail "--dump's endpoints are not $N distinct ones"
[ "$(cut -f2 "$WORK/n.dump" | sort | diff - <(awk '{print $1}' "$WORK/swarm/clients.list" | sed -n "1,${N}p" | sort) | wc -l)" = 0 ] ||
  fail "--dump's peer names are not the swarm's"
[ "$(grep -c '^tund_peer_up{.* 1$' "$WORK/n.prom")" = "$N" ] || fail "--prometheus has not $N peers up"
problems=$($STATUS_FORMS agree "$WORK/n.json" "$WORK/n.dump" "$WORK/n.prom" "$WORK/n.txt" | grep -v "bytes\|packets\|handshake" || true)
[ -z "$problems" ] || fail "the forms disagree with $N peers (other than moving counters):"$'\n'"$problems"
kill -0 "$HUB_PID" || fail "the hub exited"
pass "$N peers up in every form, each with its own endpoint"
