#!/usr/bin/env bash
# Prometheus metrics (issue 14): a hub (TUN, UDP, encrypted) with --metrics-listen
# 127.0.0.1:PORT in its namespace, two peer files, one client up. GET /metrics has the
# same series as `tund show --prometheus` (counters never lower), promtool accepts the
# scrape, and a real Prometheus server (Debian's, started here on loopback in the same
# namespace, scraping every second) answers its query API with tund_peer_up 1 for the
# connected peer and 0 for the other, and the connected peer's received packets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
require_hub
require_tools python3 curl promtool prometheus
make_hub_underlay 2
make_hub_keys 2
SOCK=$WORK/ctl/hub.sock
MPORT=9586
PPORT=9590
start_hub tun udp --control-socket "$SOCK" --metrics-listen "127.0.0.1:$MPORT"
start_hub_client 1 tun udp
wait_until 20 hub_clients_up 1 || fail "client 1 did not come up"
ping_ok "${HUB_NS[1]}" "$HUB_NET4.1" 5 || fail "client 1's pings to the hub were lost"

get() {  # get URL: curl in the hub's namespace
  ip netns exec "$NS_S" curl -sf -m 5 "$1"
}

step "GET /metrics against tund show --prometheus"
wait_until 5 get "http://127.0.0.1:$MPORT/metrics" || fail "no answer on --metrics-listen 127.0.0.1:$MPORT"
tund_ctl "$NS_S" "$SOCK" show "$HUB_DEV" --prometheus >"$WORK/show.prom" || fail "tund show --prometheus failed"
get "http://127.0.0.1:$MPORT/metrics" >"$WORK/scrape.prom" || fail "GET /metrics failed"
ctype=$(ip netns exec "$NS_S" curl -s -m 5 -o /dev/null -w '%{content_type}' "http://127.0.0.1:$MPORT/metrics")
[[ "$ctype" = "text/plain; version=0.0.4"* ]] || fail "/metrics has Content-Type '$ctype'"
problems=$($STATUS_FORMS cmp-scrape "$WORK/show.prom" "$WORK/scrape.prom") ||
  fail "/metrics and tund show --prometheus differ:"$'\n'"$problems"
prom_valid "$WORK/scrape.prom"
grep -q "^tund_peer_up{.*peer=\"c1\".* 1$" "$WORK/scrape.prom" || fail "no tund_peer_up 1 for c1 in the scrape"
grep -q "^tund_peer_up{.*peer=\"c2\".* 0$" "$WORK/scrape.prom" || fail "no tund_peer_up 0 for c2 in the scrape"
pass "/metrics: $(grep -vc '^#' "$WORK/scrape.prom") series, the same as tund show --prometheus; promtool passes"

step "a real Prometheus server scraping every second"
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tund
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
promtool check config "$WORK/prometheus.yml" >/dev/null || fail "promtool rejects the test's own config"
ip netns exec "$NS_S" prometheus --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/tsdb" --web.listen-address="127.0.0.1:$PPORT" \
  >"$WORK/prometheus.out" 2>&1 &
PROM_PID=$!
PIDS+=("$PROM_PID")
wait_until 20 get "http://127.0.0.1:$PPORT/-/ready" || fail "Prometheus did not get ready: $(tail -n 3 "$WORK/prometheus.out")"
# query EXPR: the query API's result as "labels=value" lines (python3 reads the JSON).
query() {
  get "http://127.0.0.1:$PPORT/api/v1/query?query=$1" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
assert doc["status"] == "success", doc
for r in doc["data"]["result"]:
    m = r["metric"]
    print(m.get("peer", "-"), m.get("interface", "-"), m.get("job", "-"), r["value"][1])'
}
has_both() { [ "$(query tund_peer_up | wc -l)" = 2 ]; }
wait_until 20 has_both || fail "Prometheus has no tund_peer_up series for both peers: $(query tund_peer_up)"
up=$(query tund_peer_up | sort)
[ "$up" = "c1 $HUB_DEV tund 1"$'\n'"c2 $HUB_DEV tund 0" ] || fail "tund_peer_up in Prometheus: $up"
rx=$(query "tund_peer_receive_packets_total%7Bpeer%3D%22c1%22%7D" | awk '{print $4}')
[ -n "$rx" ] && [ "$rx" -ge 5 ] || fail "Prometheus has c1's received packets '$rx', not >= 5"
targets=$(get "http://127.0.0.1:$PPORT/api/v1/targets" | python3 -c '
import json, sys
print(" ".join(t["health"] for t in json.load(sys.stdin)["data"]["activeTargets"]))')
[ "$targets" = up ] || fail "Prometheus's target health: $targets"
stop_pid "$PROM_PID"
pass "Prometheus: tund_peer_up c1 1, c2 0; c1 received $rx packets; target up"
kill -0 "$HUB_PID" || fail "the hub exited"
