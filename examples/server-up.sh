#!/bin/sh
# Server side of a tund tunnel: address, link up, IPv4 forwarding, NAT out of NAT_IFACE.
# Works as a tund --up hook (tund sets the TUND_* variables) and by hand:
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PEER_ADDR=10.0.0.2 NAT_IFACE=eth0 server-up.sh
# Idempotent: running it twice leaves the same state. server-down.sh undoes it.
set -eu

usage() {
  echo "usage: TUND_IFACE=tunX TUND_LOCAL_ADDR=A TUND_PEER_ADDR=B [NAT_IFACE=ethX] $0" >&2
  echo "  NAT_IFACE: masquerade the tunnel's addresses out of this interface (optional)" >&2
  exit 2
}
[ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ] && usage
[ -n "${TUND_IFACE:-}" ] && [ -n "${TUND_LOCAL_ADDR:-}" ] && [ -n "${TUND_PEER_ADDR:-}" ] || usage
NAT_IFACE=${NAT_IFACE:-}
TABLE=tund_${TUND_IFACE}

# Address with peer (replace: harmless when tund --address already set it), link up.
ip addr replace "$TUND_LOCAL_ADDR" peer "$TUND_PEER_ADDR" dev "$TUND_IFACE"
[ -n "${TUND_MTU:-}" ] && ip link set dev "$TUND_IFACE" mtu "$TUND_MTU"
ip link set dev "$TUND_IFACE" up

[ -n "$NAT_IFACE" ] || exit 0
sysctl -q -w net.ipv4.ip_forward=1

if command -v nft >/dev/null 2>&1; then
  # One table per tunnel, rebuilt whole each time: idempotent by construction.
  nft delete table ip "$TABLE" 2>/dev/null || true
  nft -f - <<NFT
table ip $TABLE {
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "$TUND_IFACE" oifname "$NAT_IFACE" accept
    iifname "$NAT_IFACE" oifname "$TUND_IFACE" ct state established,related accept
    iifname "$NAT_IFACE" oifname "$TUND_IFACE" drop
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    ip saddr $TUND_PEER_ADDR oifname "$NAT_IFACE" masquerade
  }
}
NFT
else
  # iptables fallback: -C checks first so rules are never added twice.
  iptables -t nat -C POSTROUTING -s "$TUND_PEER_ADDR" -o "$NAT_IFACE" -j MASQUERADE 2>/dev/null ||
    iptables -t nat -A POSTROUTING -s "$TUND_PEER_ADDR" -o "$NAT_IFACE" -j MASQUERADE
  iptables -C FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j ACCEPT 2>/dev/null ||
    iptables -A FORWARD -i "$TUND_IFACE" -o "$NAT_IFACE" -j ACCEPT
  iptables -C FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -m state --state ESTABLISHED,RELATED -j ACCEPT 2>/dev/null ||
    iptables -A FORWARD -i "$NAT_IFACE" -o "$TUND_IFACE" -m state --state ESTABLISHED,RELATED -j ACCEPT
fi
