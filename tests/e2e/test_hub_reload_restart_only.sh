#!/usr/bin/env bash
# A hub reload that changes an option only a restart can apply (here threads, in the
# config file): logged, and named in `tund reload`'s reply; judged against what tund
# started with, so reverting the change in the file is no change (no warning), and a
# change left in the file is still named at the next reload. "auto" and the CPU count it
# stands for are the same pool.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
require_hub
make_hub_underlay 1
make_hub_keys 1
CONF=$WORK/hub.conf
SOCK=$WORK/hub.sock
write_conf() {
  printf '%s\n' "server = true" "iface = hub$ID" "transport = udp" \
    "private-key = $WORK/hub.key" "peers-dir = $HUB_PEERS" "address = $HUB_NET4.1/$HUB_PREFIX" \
    "control-socket = $SOCK" "threads = $1" >"$CONF"
}
# reload_says THREADS: the file says THREADS, then `tund reload`; its reply in $REPLY.
reload_says() {
  write_conf "$1"
  REPLY=$(tund_ctl "$NS_S" "$SOCK" reload "hub$ID") || fail "tund reload failed (threads = $1)"
}
warnings() { grep -c "threads changed; restart tund to apply it" "$WORK/hub.log" || true; }

write_conf 2
# The suite's own --threads would override the file's: not for this daemon.
TUND_E2E_THREADS='' start_tund "$NS_S" hub --config "$CONF"
wait_until 5 test -S "$SOCK" || fail "the hub's control socket did not appear: $(cat "$WORK/hub.log")"

step "a restart-only change is named in the reply and the log"
reload_says 1
[[ $REPLY == *"changed, applied only by a restart: threads"* ]] || fail "reply: $REPLY"
[ "$(warnings)" = 1 ] || fail "$(warnings) warnings in the log after the change"
reload_says 1
[[ $REPLY == *"applied only by a restart: threads"* ]] || fail "a pending change is no longer named: $REPLY"
pass "threads 2 -> 1: '$REPLY'"

step "reverted in the file: no change, no warning"
before=$(warnings)
reload_says 2
[[ $REPLY != *"restart"* ]] || fail "reverting threads to the running value: $REPLY"
[ "$(warnings)" = "$before" ] || fail "reverting threads to the running value logged a warning"
pass "threads back to 2: '$REPLY'"

step "auto is the CPU count"
cpus=$(ip netns exec "$NS_S" nproc)
write_conf "$cpus"
stop_pid "$LAST_PID"
TUND_E2E_THREADS='' start_tund "$NS_S" hub --config "$CONF"
wait_until 5 test -S "$SOCK" || fail "the hub did not come back"
wait_until 5 tund_ctl "$NS_S" "$SOCK" show "hub$ID" || fail "the restarted hub does not answer"
reload_says auto
[[ $REPLY != *"restart"* ]] || fail "threads $cpus -> auto ($cpus CPUs): $REPLY"
pass "threads $cpus -> auto: '$REPLY'"
