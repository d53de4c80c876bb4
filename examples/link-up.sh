#!/bin/sh
# The tunnel device's own address and link state, as tund's --address/--peer/--mtu set
# them: shared by server-up.sh and client-up.sh (which source it), and usable alone:
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=24 link-up.sh
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PEER_ADDR=10.0.0.2 link-up.sh
# `ip addr replace` makes it idempotent, and harmless when tund already set the address.
set -eu

usage() {
  echo "usage: TUND_IFACE=tunX TUND_LOCAL_ADDR=A [TUND_PREFIX=N] [TUND_PEER_ADDR=B] [TUND_MTU=M] $0"
}
# Sourced by the up scripts, which have checked their settings and take no arguments.
case "${1:-}" in -h | --help) usage; exit 0 ;; esac
if [ -z "${TUND_IFACE:-}" ] || [ -z "${TUND_LOCAL_ADDR:-}" ]; then usage >&2; exit 2; fi
ADDR=$TUND_LOCAL_ADDR${TUND_PREFIX:+/$TUND_PREFIX}
if [ -n "${TUND_PEER_ADDR:-}" ]; then
  ip addr replace "$ADDR" peer "$TUND_PEER_ADDR" dev "$TUND_IFACE"
else
  ip addr replace "$ADDR" dev "$TUND_IFACE"
fi
if [ -n "${TUND_MTU:-}" ]; then ip link set dev "$TUND_IFACE" mtu "$TUND_MTU"; fi
ip link set dev "$TUND_IFACE" up
