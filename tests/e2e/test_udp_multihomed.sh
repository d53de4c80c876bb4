#!/usr/bin/env bash
# A UDP server bound to the wildcard address on a host with two addresses on one link: the
# client connects to the SECONDARY one, while the kernel's route would answer from the
# primary (IPv4: the secondary address of the subnet; IPv6: of two equal addresses, the
# kernel prefers the newer). The client's socket is connected, so a reply from the primary
# never reaches it: the server must answer from the address the client sent to
# (IP_PKTINFO / IPV6_PKTINFO). IPv4 and IPv6 underlay, plaintext and encrypted,
# point-to-point and hub: the tunnel comes up and the server's log records no send failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_hub.sh"
make_underlay
no_dad "$NS_S" "$NS_C"
SECOND4=198.18.0.3            # a secondary address: the route to 198.18.0.2 says src .1
SECOND6=fd00:198:18::8000:1   # added before ::1, which (the newer of equals) is preferred
ip -n "$NS_S" addr add "$SECOND4/24" dev "vs$ID"
ip -n "$NS_S" addr add "$SECOND6/64" dev "vs$ID" nodad
underlay6
make_keys

# The premise: the kernel's own choice of source for a reply is the primary address.
src4=$(ip -n "$NS_S" route get "$UNDER_C" | sed -n 's/.* src \([^ ]*\).*/\1/p')
src6=$(ip -n "$NS_S" -6 route get "$UNDER6_C" | sed -n 's/.* src \([^ ]*\).*/\1/p')
[ "$src4" = "$UNDER_S" ] || fail "the kernel answers 198.18.0.2 from '$src4', not $UNDER_S"
[ "$src6" = "$UNDER6_S" ] || fail "the kernel answers $UNDER6_C from '$src6', not $UNDER6_S"

for family in 4 6; do
  if [ "$family" = 4 ]; then host=$SECOND4; else host="[$SECOND6]:55555"; fi
  for mode in plain encrypted; do
    step "udp server on [::], client to the secondary IPv$family address, $mode"
    up=tunnel_up
    [ "$mode" = encrypted ] && up=secure_tunnel_up
    via_underlay "$host" "$up" tun udp
    wait_until 15 ping_ok "$NS_C" "$TUN_S" 1 || fail "IPv$family $mode: tunnel did not come up"
    ping_ok "$NS_C" "$TUN_S" 5 || fail "IPv$family $mode: pings lost"
    if quiet_grep "send to .* failed\|cannot send from" "$WORK/server.log"; then
      fail "IPv$family $mode: the server logged a failed send"
    fi
    tunnel_down
    pass "IPv$family $mode: replies left from $host"
  done
done

# The hub: its bridge gets a secondary address too, and its client connects to that.
require_hub
step "hub on [::], its client to the secondary address"
EXTRA_NS+=("$NS_S")  # a namespace of its own for the hub; cleanup removes both
NS_S="tundy$ID"
make_hub_underlay 1
ip -n "$NS_S" addr add 198.18.0.4/24 dev "br$ID"
[ "$(ip -n "$NS_S" route get "$(hub_under 1)" | sed -n 's/.* src \([^ ]*\).*/\1/p')" != 198.18.0.4 ] ||
  fail "the kernel answers the hub's client from the secondary address already"
make_hub_keys 1
start_hub tun udp
HUB_UNDER=198.18.0.4 start_hub_client 1 tun udp
wait_until 15 hub_clients_up 1 || fail "hub: the client did not come up"
ping_ok "${HUB_NS[1]}" "$HUB_NET4.1" 5 || fail "hub: pings lost"
! quiet_grep "send to .* failed\|cannot send from" "$WORK/hub.log" || fail "hub: a send failed"
hub_down 1
pass "hub: replies left from 198.18.0.4"
