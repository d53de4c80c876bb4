#!/bin/sh
# Undoes client-up.sh (give it the same settings): the ROUTES of either family, the full
# tunnel's halves of both families, and the host routes keeping the server's addresses
# (IPv4 and IPv6) outside the tunnel. Routes through the device vanish with it anyway.
# Running it twice is harmless.
set -eu
usage() {
  echo "usage: TUND_IFACE=tunX [ROUTES='net/len ...'] [TUND_REMOTE=server FULL_TUNNEL=yes] $0"
}
# --help: usage on stdout, status 0; settings missing: usage on stderr, status 2.
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
if [ -z "${TUND_IFACE:-}" ]; then usage >&2; exit 2; fi
for net in ${ROUTES:-}; do ip route del "$net" dev "$TUND_IFACE" 2>/dev/null || true; done
for half in 0.0.0.0/1 128.0.0.0/1 ::/1 8000::/1; do
  ip route del "$half" dev "$TUND_IFACE" 2>/dev/null || true
done
if [ "${FULL_TUNNEL:-no}" = yes ] && [ -n "${TUND_REMOTE:-}" ]; then
  for server in $(getent ahosts "$TUND_REMOTE" | awk '{print $1}' | sort -u); do
    case $server in
      *:*) ip route del "$server/128" 2>/dev/null || true ;;
      *) ip route del "$server/32" 2>/dev/null || true ;;
    esac
  done
fi
