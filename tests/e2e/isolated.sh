#!/usr/bin/env bash
# Runs one end-to-end script in a mount namespace of its own, with a private /run/tund, so
# that scripts run side by side (ctest -j) never meet at a default control socket path:
# /run/tund/IFACE.sock is one file for every network namespace, and two scripts' daemons
# may well share an interface name. Network namespaces made inside stay usable as ever
# (`ip netns` mounts them in this mount namespace). Without root (the script then skips,
# or fails under CI=true) it runs the script as it is.
set -euo pipefail
script=$1
shift
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then exec bash "$script" "$@"; fi
mkdir -p /run/tund
exec unshare --mount --propagation private -- bash -c \
  'mount -t tmpfs -o mode=0755 tund-e2e /run/tund && exec bash "$@"' isolated "$script" "$@"
