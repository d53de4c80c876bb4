#!/bin/sh
# Undoes client-up.sh. Routes through the device vanish with it; the host route to the
# server (full-tunnel mode) is removed here. Running it twice is harmless.
set -eu
[ -n "${TUND_IFACE:-}" ] || { echo "usage: TUND_IFACE=tunX [TUND_REMOTE=server FULL_TUNNEL=yes] $0" >&2; exit 2; }
for net in ${ROUTES:-}; do ip route del "$net" dev "$TUND_IFACE" 2>/dev/null || true; done
ip route del 0.0.0.0/1 dev "$TUND_IFACE" 2>/dev/null || true
ip route del 128.0.0.0/1 dev "$TUND_IFACE" 2>/dev/null || true
if [ "${FULL_TUNNEL:-no}" = yes ] && [ -n "${TUND_REMOTE:-}" ]; then
  server=$(getent ahostsv4 "$TUND_REMOTE" | awk 'NR == 1 {print $1}')
  [ -n "$server" ] && ip route del "$server/32" 2>/dev/null || true
fi
