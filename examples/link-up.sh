#!/bin/sh
# The tunnel device's own addresses and link state, as tund's --address/--peer/--mtu set
# them: shared by server-up.sh, client-up.sh and server-down.sh (which source it for its
# functions), and usable alone:
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=24 link-up.sh
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PEER_ADDR=10.0.0.2 link-up.sh
#   TUND_IFACE=tun3 TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=24 \
#     TUND_LOCAL_ADDR6=fd00::1 TUND_PREFIX6=64 link-up.sh              (dual stack)
# The first address of each family (with its prefix and point-to-point peer) comes from
#   TUND_LOCAL_ADDR4 / TUND_PREFIX4 / TUND_PEER_ADDR4   the first IPv4 address (tund sets
#   TUND_LOCAL_ADDR6 / TUND_PREFIX6 / TUND_PEER_ADDR6   these; empty: none of that family)
#   TUND_LOCAL_ADDR  / TUND_PREFIX  / TUND_PEER_ADDR    the first address of either family
#                                                       (fills its family's slot if empty)
# and every other entry of TUND_ADDRESSES ("10.0.0.1/24 fd00::1/64 fd00:1::1/64", as tund
# gives them) is added as it is. `ip addr replace` makes it idempotent, and harmless when
# tund already set the addresses.
set -eu

link_usage() {
  echo "usage: TUND_IFACE=tunX TUND_LOCAL_ADDR=A [TUND_PREFIX=N] [TUND_PEER_ADDR=B]"
  echo "       [TUND_LOCAL_ADDR6=A6 [TUND_PREFIX6=N6] [TUND_PEER_ADDR6=B6]]"
  echo "       [TUND_ADDRESSES='A/N A6/N6 more/len ...'] [TUND_MTU=M] $0"
}

# tund_families: the first address of each family into ADDR4 PREFIX4 PEER4 and ADDR6
# PREFIX6 PEER6 (empty: none), from the variables above. Status 2 with a reason on stderr
# if they contradict each other; status 1 (silently) if there is no address at all.
tund_families() {
  ADDR4=${TUND_LOCAL_ADDR4:-} PREFIX4=${TUND_PREFIX4:-} PEER4=${TUND_PEER_ADDR4:-}
  ADDR6=${TUND_LOCAL_ADDR6:-} PREFIX6=${TUND_PREFIX6:-} PEER6=${TUND_PEER_ADDR6:-}
  case $ADDR4 in *:*) echo "$0: TUND_LOCAL_ADDR4=$ADDR4 is not IPv4" >&2; return 2 ;; esac
  case $ADDR6 in '' | *:*) ;; *) echo "$0: TUND_LOCAL_ADDR6=$ADDR6 is not IPv6" >&2; return 2 ;; esac
  first=${TUND_LOCAL_ADDR:-}
  [ -n "$first" ] || { [ -n "$ADDR4$ADDR6" ] && return 0; return 1; }
  case $first in *:*) fam=6 slot=$ADDR6 ;; *) fam=4 slot=$ADDR4 ;; esac
  if [ -z "$slot" ]; then
    eval "ADDR$fam=\$first PREFIX$fam=\${TUND_PREFIX:-} PEER$fam=\${TUND_PEER_ADDR:-}"
  elif [ "$slot" != "$first" ]; then
    echo "$0: TUND_LOCAL_ADDR=$first and TUND_LOCAL_ADDR$fam=$slot: two first IPv$fam addresses" >&2
    return 2
  fi
  tund_check_prefix 4 "$PREFIX4" 32 && tund_check_prefix 6 "$PREFIX6" 128
}

# tund_check_prefix 4|6 N MAX: N empty or a prefix length 0..MAX, else status 2 with a
# reason: checked before anything changes, not left for `ip` to refuse half-way.
tund_check_prefix() {
  case $2 in
    '') return 0 ;;
    *[!0-9]* | 0?*) ;;
    *) [ "$2" -gt "$3" ] || return 0 ;;
  esac
  echo "$0: IPv$1 prefix length '$2': a number from 0 to $3" >&2
  return 2
}

# tund_require USAGE: TUND_IFACE and at least one address, consistent, or the script
# exits 2 (with USAGE, a function, on stderr when something is missing).
tund_require() {
  if [ -z "${TUND_IFACE:-}" ]; then "$1" >&2; exit 2; fi
  status=0
  tund_families || status=$?
  if [ "$status" -eq 1 ]; then "$1" >&2; exit 2; fi
  [ "$status" -eq 0 ] || exit 2
}

# tund_subnet 4|6: the clients' subnet of that family (the peer's address/prefix with a
# point-to-point peer, else the local address's subnet), or nothing if the addressing
# names only this side's own address (a host prefix, /32 or /128, without a peer).
tund_subnet() {
  eval "addr=\$ADDR$1 prefix=\$PREFIX$1 peer=\$PEER$1"
  if [ "$1" = 6 ]; then host=128; else host=32; fi
  if [ -n "$peer" ]; then
    echo "$peer/${prefix:-$host}"
  elif [ -n "$addr" ] && [ -n "$prefix" ] && [ "$prefix" != "$host" ]; then
    echo "$addr/$prefix"
  fi
}

# set_address ADDR PREFIX PEER: one address on the device, as tund's --address/--peer.
set_address() {
  if [ -n "$3" ]; then
    ip addr replace "$1${2:+/$2}" peer "$3" dev "$TUND_IFACE"
  else
    ip addr replace "$1${2:+/$2}" dev "$TUND_IFACE"
  fi
}

# tund_link_up: the MTU, link up, then the first address of each family (with its peer)
# and every other entry of TUND_ADDRESSES (tund writes both as given, so the first ones
# are found by their text). Link up first: an IPv6 address with a peer added while the
# link is down gets no route to the peer when it comes up (Linux adds the peer's route
# only when the address is added on an up link).
tund_link_up() {
  if [ -n "${TUND_MTU:-}" ]; then ip link set dev "$TUND_IFACE" mtu "$TUND_MTU"; fi
  ip link set dev "$TUND_IFACE" up
  [ -z "$ADDR4" ] || set_address "$ADDR4" "$PREFIX4" "$PEER4"
  [ -z "$ADDR6" ] || set_address "$ADDR6" "$PREFIX6" "$PEER6"
  for entry in ${TUND_ADDRESSES:-}; do
    case ${entry%%/*} in "$ADDR4" | "$ADDR6") continue ;; esac
    ip addr replace "$entry" dev "$TUND_IFACE"
  done
}

# server-down.sh sources this file for the functions alone (LINK_UP_DEFINE_ONLY=yes).
if [ "${LINK_UP_DEFINE_ONLY:-no}" != yes ]; then
  # Run alone (or sourced by an older up script, which takes no arguments).
  case "${1:-}" in -h | --help) link_usage; exit 0 ;; esac
  tund_require link_usage
  tund_link_up
fi
