#!/usr/bin/env bash
# Runs one end-to-end script in a mount namespace of its own, with a private /run/tund, so
# that scripts run side by side (ctest -j) never meet at a default control socket path:
# /run/tund/IFACE.sock is one file for every network namespace, and two scripts' daemons
# may well share an interface name. Network namespaces made inside stay usable as ever
# (`ip netns` mounts them in this mount namespace). Without root (the script then skips,
# or fails under CI=true) it runs the script as it is.
#
# The script removes its namespaces itself (lib.sh's cleanup); if it is killed first (a
# ctest timeout), its namespaces die with this mount namespace but their names would stay
# behind in /run/netns, so they are removed here: the names lib.sh gives, which end in the
# script's PID (tunds1234, tundh1234-2). Never by listing the directory: other scripts'
# namespaces are there too.
set -euo pipefail
script=$1
shift
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then exec bash "$script" "$@"; fi
mkdir -p /run/tund
exec unshare --mount --propagation private -- bash -c '
  mount -t tmpfs -o mode=0755 tund-e2e /run/tund
  bash "$@" &
  child=$!
  trap "kill -TERM $child 2>/dev/null" INT TERM
  status=0
  wait "$child" || status=$?
  # A signal interrupts the first wait: wait again for the script to finish its cleanup.
  while kill -0 "$child" 2>/dev/null; do wait "$child" || status=$?; done
  for path in /run/netns/*; do
    name=${path##*/}
    case $name in
      *[!0-9]"$child" | *[!0-9]"$child"-*)
        ip netns pids "$name" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$name" 2>/dev/null || rm -f "$path" ;;
    esac
  done
  exit "$status"' isolated "$script" "$@"
