#!/usr/bin/env bash
# Large MTUs, plaintext and encrypted, over TCP and UDP:
# - `--mtu 9000` on both sides: 5 MB cross intact, 8972-byte DF pings cross (a TCP tunnel
#   with an MTU of 2500 or more used to stall for good once 64 frames overran its
#   high-water mark in one batch);
# - MTU 65535 set on both live devices: tund carries up to proto::kMaxTunnelMtu (65457),
#   so a 65028-byte DF ping crosses and a 65488-byte one gets "fragmentation needed" with
#   that MTU, and both daemons survive (a UDP datagram too big for any GSO run smashed the
#   stack; an encrypted TCP frame overflowed its u16 length prefix and killed the stream).
. "$(dirname "$0")/lib.sh"
require_tools socat sha256sum
make_underlay
make_keys
head -c $((5 * 1024 * 1024)) /dev/urandom >"$WORK/payload"
want=$(sha256sum <"$WORK/payload" | cut -d' ' -f1)

for proto in tcp udp; do
  for crypt in plain enc; do
    name="$proto-$crypt"
    step "$name: --mtu 9000 on both sides"
    if [ "$crypt" = enc ]; then
      secure_tunnel_up tun "$proto" --mtu 9000
    else
      tunnel_up tun "$proto" --mtu 9000
    fi
    wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "$name: tunnel did not come up"
    got=$(send_file "$WORK/payload")
    [ "$got" = "$want" ] || fail "$name: 5 MB at MTU 9000: sha256 mismatch ($(stat -c %s "$WORK/received") bytes)"
    out=$(ip netns exec "$NS_C" ping -c 2 -i 0.2 -W 2 -M do -s 8972 "$TUN_S" 2>&1) ||
      fail "$name: 8972-byte DF ping lost: $out"
    pass "$name: 5 MB and 9000-byte DF pings cross at MTU 9000"

    step "$name: MTU 65535 on both live devices"
    ip -n "$NS_S" link set "$DEV_S" mtu 65535
    ip -n "$NS_C" link set "$DEV_C" mtu 65535
    wait_until 5 grep -q "MTU 65535 is above the largest packet the tunnel can carry (65457)" \
      "$WORK/client.log" || fail "$name: the cap was not logged"
    out=$(ip netns exec "$NS_C" ping -c 2 -i 0.5 -W 3 -M do -s 65000 "$TUN_S" 2>&1) ||
      fail "$name: 65028-byte DF ping lost: $out"
    out=$(ip netns exec "$NS_C" ping -c 1 -W 2 -M do -s 65460 "$TUN_S" 2>&1 || true)
    grep -q "mtu = 65457" <<<"$out" || fail "$name: no 'fragmentation needed' with mtu 65457: $out"
    kill -0 "$SERVER_PID" && kill -0 "$CLIENT_PID" || fail "$name: a daemon died"
    wait_until 10 ping_ok "$NS_C" "$TUN_S" 2 || fail "$name: the tunnel broke"
    tunnel_down
    pass "$name: up to 65457 carried, larger answered with fragmentation needed, both alive"
  done
done
