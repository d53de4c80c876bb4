#!/usr/bin/env bash
# Hub per-peer hooks and systemd reload notifications (issue 13), over UDP and TCP.
# Peers c1 to c4 have `up` / `down` hooks that append one line per run (with
# TUND_PEER_NAME, _KEY, _ENDPOINT, _ALLOWED_IPS and TUND_IFACE) to $WORK/hooks-PROTO.txt;
# c3's and c4's up hooks then sleep 60 s. Checks, in order:
# - client 1 connecting runs c1's up hook once, with its public key, its underlay
#   address:port (the socket the client really uses) and its allowed-ips in canonical form;
#   c2's hooks do not run;
# - client 2 stopping runs c2's down hook with the last endpoint: over TCP within 2 s, over
#   UDP once the keepalive silence ends the session;
# - with client 2 up, a reload refused for a broken peer file runs no hook; `disabled =
#   true` in c2's file and then removing the file (each by SIGHUP, client 2 up) run its down
#   hook; every SIGHUP (the refused one too) sends RELOADING=1 with MONOTONIC_USEC, then
#   READY=1, to $NOTIFY_SOCKET;
# - c3's sleeping up hook is killed after ~10 s (the log says so), client 1's pings pass
#   while it runs, and the down hook of client 1 (stopped meanwhile) still runs after it;
# - SIGTERM to the hub runs the down hook of every peer still up (c1, c3) before it exits;
#   so it does on a second hub SIGTERMed while c4's 60 s up hook runs (that hook is stopped
#   and tund still exits within a few seconds).
# A failed check is reported and the others still run; the test fails at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
require_tools socat ss
require_hub
make_hub_underlay 4
make_hub_keys 4
KEEPALIVE=2  # UDP: a silent client's session ends after a few of these
FAILED=0

bad() {
  echo "FAIL: $*"
  FAILED=$((FAILED + 1))
}

# The hook: one line per run, "WHAT name=... key=... endpoint=... ips=... iface=...", then
# an optional sleep (c3's up hook).
cat >"$WORK/hook.sh" <<'EOF'
#!/bin/sh
echo "$1 name=$TUND_PEER_NAME key=$TUND_PEER_KEY endpoint=$TUND_PEER_ENDPOINT ips=$TUND_PEER_ALLOWED_IPS iface=$TUND_IFACE" >>"$HOOKS_OUT"
[ -n "$2" ] && exec sleep "$2"
exit 0
EOF
chmod +x "$WORK/hook.sh"

# peer_files PROTO: c1..c3 with hooks writing to $WORK/hooks-PROTO.txt. c1's allowed-ips
# are written non-canonically (upper case, zeros, host bits) to check the hook's form.
peer_files() {
  local out="$WORK/hooks-$1.txt" i sleep
  hub_peer_file c1 "$WORK/c1.key" "$(hub_addr4 1)/32" "FD00:0088:0::2/128" 10.99.1.7/24
  for i in 1 2 3 4; do
    sleep=""
    [ "$i" -ge 3 ] && sleep=" 60"
    [ "$i" = 1 ] || hub_peer_file "c$i" "$WORK/c$i.key" "$(hub_addr4 "$i")/32" "$(hub_addr6 "$i")/128"
    {
      echo "up = HOOKS_OUT=$out $WORK/hook.sh up$sleep"
      echo "down = HOOKS_OUT=$out $WORK/hook.sh down"
    } >>"$HUB_PEERS/c$i"
  done
}
C1_IPS="10.88.0.2/32 10.99.1.0/24 fd00:88::2/128"  # sorted

hook_lines() { grep -c "^$2 name=$3 " "$WORK/hooks-$1.txt" 2>/dev/null || true; }  # PROTO WHAT NAME
hook_count_is() { [ "$(hook_lines "$1" "$2" "$3")" -eq "$4" ]; }
hook_line() { grep "^$2 name=$3 " "$WORK/hooks-$1.txt" | tail -n 1; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
ips_of() { sed -n 's/.* ips=\(.*\) iface=.*/\1/p' <<<"$1" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//'; }

# client_socket I PROTO: ADDR:PORT of client I's tund socket toward the hub, as the kernel
# reports it (the address the hub sees: there is no NAT in between).
client_socket() {
  local opt=-Hunp
  [ "$2" = tcp ] && opt=-Htnp
  ip netns exec "${HUB_NS[$1]}" ss $opt | grep "pid=${CLIENT_PIDS[$1]}," |
    grep -o "$(hub_under "$1"):[0-9]*" | sed -n 1p
}

# check_up_hook PROTO I: peer cI's up hook ran once with the right values.
check_up_hook() {
  local p=$1 i=$2 line want_ep want_key want_ips f0=$FAILED
  wait_until 5 hook_count_is "$p" up "c$i" 1 || { bad "$p: c$i's up hook did not run (exactly once) within 5 s: $(cat "$WORK/hooks-$p.txt" 2>/dev/null)"; return; }
  line=$(hook_line "$p" up "c$i")
  want_key=$("$TUND_BIN" pubkey <"$WORK/c$i.key")
  want_ep=$(client_socket "$i" "$p")
  want_ips="$(hub_addr4 "$i")/32 $(hub_addr6 "$i")/128"
  [ "$i" = 1 ] && want_ips=$C1_IPS
  [ "$(field "$line" key)" = "$want_key" ] || bad "$p: c$i's up hook got key '$(field "$line" key)', not $want_key"
  [ "$(field "$line" endpoint)" = "$want_ep" ] || bad "$p: c$i's up hook got endpoint '$(field "$line" endpoint)', the client's socket is $want_ep"
  [ "$(ips_of "$line")" = "$want_ips" ] || bad "$p: c$i's up hook got allowed-ips '$(ips_of "$line")', want (sorted) '$want_ips'"
  [ "$(field "$line" iface)" = "$HUB_DEV" ] || bad "$p: c$i's up hook got TUND_IFACE '$(field "$line" iface)', not $HUB_DEV"
  if [ "$FAILED" -eq "$f0" ]; then
    pass "$p: c$i's up hook ran once: key, endpoint $want_ep, allowed-ips '$want_ips', iface"
  fi
}

# check_down_hook PROTO NAME SECONDS COUNT ENDPOINT WHY: NAME's down hook ran (the COUNTth
# time) within SECONDS, with ENDPOINT.
check_down_hook() {
  local p=$1 name=$2 t0=$SECONDS line
  wait_until "$3" hook_count_is "$p" down "$name" "$4" ||
    { bad "$p: $name's down hook did not run within $3 s after $6 ($(hook_lines "$p" down "$name") runs, want $4)"; return; }
  line=$(hook_line "$p" down "$name")
  if [ "$(field "$line" endpoint)" = "$5" ]; then
    pass "$p: $name's down hook ran after $6 (in $((SECONDS - t0)) s) with endpoint $5"
  else
    bad "$p: $name's down hook after $6 got endpoint '$(field "$line" endpoint)', not the last one $5"
  fi
}

notify_listener() {
  NOTIFY="$WORK/notify-$1.sock"
  ip netns exec "$NS_S" socat -u "UNIX-RECV:$NOTIFY" "OPEN:$WORK/notify-$1.txt,creat,append" &
  PIDS+=("$!")
  wait_until 5 test -S "$NOTIFY" || fail "the fake NOTIFY_SOCKET did not appear"
}

# sighup: SIGHUP to the hub, back once it logged the outcome (reloaded, or kept).
SIGHUPS=0
reload_lines() { grep -c "received SIGHUP:" "$WORK/hub.log" || true; }
more_reload_lines() { [ "$(reload_lines)" -gt "$1" ]; }
sighup() {
  local before
  before=$(reload_lines)
  kill -HUP "$HUB_PID"
  SIGHUPS=$((SIGHUPS + 1))
  wait_until 5 more_reload_lines "$before" || bad "the hub logged nothing about SIGHUP number $SIGHUPS"
}

# check_notify PROTO: each of the $SIGHUPS reloads (accepted or refused) sent RELOADING=1
# with a current MONOTONIC_USEC, then READY=1: READY=1 at start, then the pairs in order
# (the datagrams are concatenated in the file, so the order is read off by offset).
check_notify() {
  local f="$WORK/notify-$1.txt" want seq usec now i
  want="READY=1"
  for ((i = 0; i < SIGHUPS; i++)); do want+=" RELOADING=1 READY=1"; done
  seq=$(grep -ao "RELOADING=1\|READY=1" "$f" | tr '\n' ' ' | sed 's/ $//')
  [ "$seq" = "$want" ] || { bad "$1: after $SIGHUPS SIGHUPs, $NOTIFY_SOCKET got '$seq', want '$want': $(tr '\n' '|' <"$f")"; return; }
  now=$(cut -d' ' -f1 /proc/uptime)
  now=$((${now%.*} * 1000000))
  # CLOCK_MONOTONIC and /proc/uptime differ by suspended time at most: none here.
  while read -r usec; do
    if [ $((now - usec)) -gt 120000000 ] || [ $((usec - now)) -gt 5000000 ]; then
      bad "$1: MONOTONIC_USEC=$usec is not CLOCK_MONOTONIC of the last minutes (now $now us)"
      return
    fi
  done < <(grep -ao "MONOTONIC_USEC=[0-9]*" "$f" | cut -d= -f2)
  [ "$(grep -ac "MONOTONIC_USEC=" "$f")" -eq "$SIGHUPS" ] ||
    { bad "$1: $(grep -ac "MONOTONIC_USEC=" "$f") MONOTONIC_USEC for $SIGHUPS RELOADING=1: $(tr '\n' '|' <"$f")"; return; }
  pass "$1: each of $SIGHUPS SIGHUPs (one refused) sent RELOADING=1 with MONOTONIC_USEC, then READY=1"
}

# check_reload_hooks PROTO: with client 2 up, a refused reload runs no hook; `disabled =
# true` runs c2's down hook; so does removing c2's peer file.
check_reload_hooks() {
  local p=$1 ep2
  start_hub_client 2 tun "$p" "${CLIENT_ARGS[@]}"
  wait_until 10 hook_count_is "$p" up c2 2 || bad "$p: c2's up hook did not run on its reconnect"
  ep2=$(client_socket 2 "$p")
  echo "allowed-ips = not-an-address" >"$HUB_PEERS/broken"
  sighup
  rm "$HUB_PEERS/broken"
  grep -q "keeping the running configuration" "$WORK/hub.log" || bad "$p: a broken peer file was not refused"
  sleep 0.5
  if hook_count_is "$p" down c2 1 && hook_count_is "$p" up c2 2; then
    pass "$p: a refused reload ran no hook"
  else
    bad "$p: a refused reload ran a hook: $(tail -n 2 "$WORK/hooks-$p.txt")"
  fi
  echo "disabled = true" >>"$HUB_PEERS/c2"
  sighup
  check_down_hook "$p" c2 3 2 "$ep2" "'disabled = true' by SIGHUP"
  stop_pid "${CLIENT_PIDS[2]}"
  sed -i '/^disabled = true$/d' "$HUB_PEERS/c2"
  sighup
  start_hub_client 2 tun "$p" "${CLIENT_ARGS[@]}"
  wait_until 10 hook_count_is "$p" up c2 3 || bad "$p: c2's up hook did not run once it was enabled again"
  ep2=$(client_socket 2 "$p")
  rm "$HUB_PEERS/c2"
  sighup
  check_down_hook "$p" c2 3 3 "$ep2" "its peer file was removed by SIGHUP"
  stop_pid "${CLIENT_PIDS[2]}"
}

# While c3's 60 s up hook runs: client 1's pings pass, client 1 stops (its down hook
# queues behind); the hook is killed after ~10 s and c1's down hook runs after it.
check_slow_hook() {
  local p=$1 t0 loss kill_at ep1
  t0=$SECONDS
  start_hub_client 3 tun "$p" "${CLIENT_ARGS[@]}"
  wait_until 10 hook_count_is "$p" up c3 1 || { bad "$p: c3's (sleeping) up hook did not start"; return; }
  ip netns exec "${HUB_NS[1]}" ping -q -c 15 -i 0.2 -W 2 "$HUB_NET4.1" >"$WORK/ping-slow.out" 2>&1 || true
  loss=$(grep -o "[0-9.]*% packet loss" "$WORK/ping-slow.out" | cut -d% -f1)
  if [ "$loss" = 0 ] && grep -q "running peer c3 up hook" "$WORK/hub.log" &&
    ! grep -q "peer c3 up hook still running" "$WORK/hub.log"; then
    pass "$p: client 1's 15 pings all passed while c3's up hook ran"
  else
    bad "$p: while c3's up hook ran, client 1 lost ${loss:-?}% of its pings (or the hook was not running)"
  fi
  ep1=$(client_socket 1 "$p")
  stop_pid "${CLIENT_PIDS[1]}"
  wait_until 20 grep -q "peer c3 up hook still running after 10 s; killing it" "$WORK/hub.log" ||
    { bad "$p: c3's 60 s up hook was not killed (no log line within 20 s): $(grep c3 "$WORK/hub.log" | tail -n 3)"; return; }
  kill_at=$((SECONDS - t0))
  if [ "$kill_at" -gt 16 ]; then
    bad "$p: c3's up hook was killed only $kill_at s after the client started"
  else
    pass "$p: c3's sleeping up hook killed after ~10 s ($kill_at s after the client started)"
  fi
  check_down_hook "$p" c1 $((KEEPALIVE * 6 + 5)) 1 "$ep1" "client 1 stopped during c3's slow hook"
  # One hook at a time: c1's down hook started after c3's was killed.
  local killed_line down_line
  killed_line=$(grep -n "peer c3 up hook still running" "$WORK/hub.log" | sed -n 1p | cut -d: -f1)
  down_line=$(grep -n "running peer c1 down hook" "$WORK/hub.log" | sed -n 1p | cut -d: -f1)
  if [ -z "$down_line" ] || [ "$down_line" -lt "$killed_line" ]; then
    bad "$p: c1's down hook did not run after c3's killed hook: $(grep "hook" "$WORK/hub.log" | tail -n 4)"
  fi
}

# exited PID: PID (a child of this shell, so a zombie until waited for) has ended.
exited() { [ ! -e "/proc/$1" ] || quiet_grep '^[0-9]* (.*) Z' "/proc/$1/stat"; }

# check_shutdown PROTO UP... [-- SLOW]: SIGTERM to the hub with the peers UP up (and
# client SLOW just connected, its 60 s up hook running, if given): the SLOW hook is
# stopped, the down hook of every peer still up runs before tund exits, with its last
# endpoint, and tund exits well before the 10 s hook limit.
check_shutdown() {
  local p=$1 t0 took name slow="" f0=$FAILED what="no hook running"
  local -A before ep
  shift
  local names=()
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then slow=$2; break; fi
    names+=("$1")
    shift
  done
  if [ -n "$slow" ]; then
    start_hub_client "${slow#c}" tun "$p" "${CLIENT_ARGS[@]}"
    wait_until 10 grep -q "running peer $slow up hook" "$WORK/hub.log" || bad "$p: $slow's (sleeping) up hook did not start"
    names+=("$slow")
    what="$slow's up hook running"
  fi
  for name in "${names[@]}"; do
    before[$name]=$(hook_lines "$p" down "$name")
    ep[$name]=$(client_socket "${name#c}" "$p")
  done
  t0=$SECONDS
  kill -TERM "$HUB_PID"
  if ! wait_until 20 exited "$HUB_PID"; then
    bad "$p: the hub did not exit within 20 s of SIGTERM ($what); killed: $(tail -n 5 "$WORK/hub.log" | tr '\n' '|')"
    kill -KILL "$HUB_PID"
  fi
  took=$((SECONDS - t0))
  wait "$HUB_PID" 2>/dev/null || true
  [ "$took" -le 8 ] || bad "$p: the hub took $took s to exit on SIGTERM ($what)"
  if [ -n "$slow" ] && ! grep -q "stopping the peer $slow up hook" "$WORK/hub.log"; then
    bad "$p: SIGTERM did not stop $slow's running up hook: $(grep "hook" "$WORK/hub.log" | tail -n 4)"
  fi
  # The hub has exited: its down hooks must already have written their lines.
  for name in "${names[@]}"; do
    if ! hook_count_is "$p" down "$name" $((before[$name] + 1)); then
      bad "$p: SIGTERM ($what) did not run $name's down hook (once) before the hub exited"
    elif [ "$(field "$(hook_line "$p" down "$name")" endpoint)" != "${ep[$name]}" ]; then
      bad "$p: $name's down hook at shutdown got endpoint '$(field "$(hook_line "$p" down "$name")" endpoint)', not ${ep[$name]}"
    fi
  done
  if [ "$FAILED" -eq "$f0" ]; then
    pass "$p: SIGTERM ($what): down hooks of ${names[*]} ran, exit in $took s"
  fi
  for name in "${names[@]}"; do stop_pid "${CLIENT_PIDS[${name#c}]}"; done
}

run_round() {
  local p=$1 ep2 stop_wait=2
  CLIENT_ARGS=()
  HUB_ARGS=()
  if [ "$p" = udp ]; then
    CLIENT_ARGS=(--keepalive "$KEEPALIVE")
    HUB_ARGS=(--keepalive "$KEEPALIVE")
    stop_wait=$((KEEPALIVE * 6 + 5))
  fi
  rm -rf "$HUB_PEERS"
  peer_files "$p"
  notify_listener "$p"
  NOTIFY_SOCKET=$NOTIFY start_hub tun "$p" "${HUB_ARGS[@]}"
  wait_until 5 grep -q "READY=1" "$WORK/notify-$p.txt" || bad "$p: the hub sent no READY=1 at start"

  step "$p: c1's up hook"
  start_hub_client 1 tun "$p" "${CLIENT_ARGS[@]}"
  wait_until 10 ping_ok "$NS_S" "$(hub_addr4 1)" 1 || fail "$p: client 1 did not come up"
  check_up_hook "$p" 1
  sleep 1
  if ! hook_count_is "$p" up c2 0 || ! hook_count_is "$p" down c2 0; then
    bad "$p: c2's hook ran with client 2 not connected"
  fi
  hook_count_is "$p" up c1 1 || bad "$p: c1's up hook ran $(hook_lines "$p" up c1) times, not once"

  step "$p: c2's down hook when client 2 stops"
  start_hub_client 2 tun "$p" "${CLIENT_ARGS[@]}"
  wait_until 10 ping_ok "$NS_S" "$(hub_addr4 2)" 1 || fail "$p: client 2 did not come up"
  check_up_hook "$p" 2
  ep2=$(client_socket 2 "$p")
  stop_pid "${CLIENT_PIDS[2]}"
  check_down_hook "$p" c2 "$stop_wait" 1 "$ep2" "client 2 stopped"

  step "$p: reloads: refused, c2 disabled, c2 removed"
  SIGHUPS=0
  check_reload_hooks "$p"
  check_notify "$p"

  step "$p: a 60 s hook is killed, the tunnel and the other hooks go on"
  check_slow_hook "$p"

  step "$p: SIGTERM runs the down hooks of the peers still up"
  start_hub_client 1 tun "$p" "${CLIENT_ARGS[@]}"
  wait_until 10 hook_count_is "$p" up c1 2 || bad "$p: c1's up hook did not run on its reconnect"
  check_shutdown "$p" c1 c3
  mv "$WORK/hub.log" "$WORK/hub-$p.log"

  step "$p: SIGTERM while a peer's up hook runs"
  start_hub tun "$p" "${HUB_ARGS[@]}"
  start_hub_client 1 tun "$p" "${CLIENT_ARGS[@]}"
  wait_until 10 hook_count_is "$p" up c1 3 || bad "$p: c1's up hook did not run on the new hub"
  check_shutdown "$p" c1 -- c4
  mv "$WORK/hub.log" "$WORK/hub-$p-2.log"
}

for proto in udp tcp; do run_round "$proto"; done
[ "$FAILED" -eq 0 ] || fail "$FAILED check(s) failed (above)"
pass "hub per-peer hooks and reload notifications over UDP and TCP"
