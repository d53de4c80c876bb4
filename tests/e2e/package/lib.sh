# Helpers for the tests that install the Debian package on this machine, run the INSTALLED
# tund, and remove the package again. They change the machine (dpkg database, /usr, /etc),
# so they refuse to run unless root AND (CI=true or TUND_TEST_INSTALL=1).
#
#   . tests/e2e/package/lib.sh
#   package_setup [DEB]     installs DEB (default: build-release/tund_*.deb) with apt-get,
#                           then loads tests/e2e/lib.sh with TUND_BIN=/usr/sbin/tund (its
#                           namespace helpers: make_underlay, start_tund, ping_ok...)
#   package_purge           apt-get purge; checks that no file of the package is left
#   PKG_DEB, PKG_FILES      the package file, and the files it installed (dpkg -L)
#
# The trap removes the package and the namespaces on every exit path. A test of another
# scenario with the installed files (the NAT example configs in /usr/share/doc/tund/examples,
# the hook scripts in /usr/libexec/tund) is a sibling script that sources this file and
# calls package_setup first.
set -euo pipefail

PKG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
PKG_NAME=tund
PKG_INSTALLED_BY_US=0

pkg_refuse() {
  if [ "${CI:-}" = "true" ]; then echo "FAIL: $1 (the package test must run under CI=true)"; exit 1; fi
  echo "SKIP: $1"
  exit 77
}

pkg_is_installed() {
  dpkg-query -W -f='${Status}' "$PKG_NAME" 2>/dev/null | grep -c "install ok installed" >/dev/null
}

# Removes the package if this test installed it (quietly: the trap's last resort).
pkg_remove_quietly() {
  [ "$PKG_INSTALLED_BY_US" = 1 ] || return 0
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$PKG_NAME" >/dev/null 2>&1 || true
  PKG_INSTALLED_BY_US=0
}

# Before tests/e2e/lib.sh is loaded, the trap only removes the package.
pkg_early_trap() { local status=$?; set +e; pkg_remove_quietly; exit $status; }
# Afterwards: the package first, then lib.sh's cleanup (processes, namespaces, logs), which
# reads the exit status from $?.
pkg_full_trap() { local status=$?; set +e; pkg_remove_quietly; (exit $status); cleanup; }

package_setup() {
  [ "$(id -u)" -eq 0 ] || pkg_refuse "needs root (installs a package)"
  [ "${CI:-}" = "true" ] || [ "${TUND_TEST_INSTALL:-}" = 1 ] ||
    pkg_refuse "installs a package on this machine: set TUND_TEST_INSTALL=1 to allow it"
  PKG_DEB=${1:-}
  if [ -z "$PKG_DEB" ]; then
    PKG_DEB=$(ls "$PKG_ROOT"/build-release/tund_*.deb 2>/dev/null | tail -n 1 || true)
  fi
  [ -f "$PKG_DEB" ] || pkg_refuse "no package (run packaging/build-deb.sh first)"
  PKG_DEB=$(cd "$(dirname "$PKG_DEB")" && pwd)/$(basename "$PKG_DEB")
  # Never take away an installation this test did not make.
  pkg_is_installed && pkg_refuse "tund is already installed; the test would remove it"
  trap pkg_early_trap EXIT
  trap 'exit 130' INT TERM
  echo "== apt-get install $PKG_DEB"
  PKG_INSTALLED_BY_US=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$PKG_DEB" \
    >/tmp/tund-pkg-install.$$.log 2>&1 ||
    { cat /tmp/tund-pkg-install.$$.log; rm -f /tmp/tund-pkg-install.$$.log; echo "FAIL: apt-get install"; exit 1; }
  rm -f /tmp/tund-pkg-install.$$.log
  mapfile -t PKG_FILES < <(dpkg -L "$PKG_NAME")
  TUND_BIN=/usr/sbin/tund
  . "$PKG_ROOT/tests/e2e/lib.sh"
  trap pkg_full_trap EXIT
}

# pkg_ships PATH: the package lists PATH (dpkg -L).
pkg_ships() {
  local f
  for f in "${PKG_FILES[@]}"; do [ "$f" = "$1" ] && return 0; done
  return 1
}

package_purge() {
  echo "== apt-get purge $PKG_NAME"
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$PKG_NAME" >"$WORK/purge.log" 2>&1 ||
    fail "apt-get purge failed: $(cat "$WORK/purge.log")"
  PKG_INSTALLED_BY_US=0
  pkg_is_installed && fail "dpkg still lists $PKG_NAME as installed"
  dpkg-query -W -f='${Status}' "$PKG_NAME" 2>/dev/null | grep -c "config-files" >/dev/null &&
    fail "$PKG_NAME left its config files behind after purge"
  local f left=()
  for f in "${PKG_FILES[@]}"; do
    # Directories are shared (/usr, /lib/systemd...); files and the package's own
    # directories must be gone.
    [ -d "$f" ] && case "$f" in /etc/tund | /usr/libexec/tund | /usr/share/doc/tund*) ;; *) continue ;; esac
    [ -e "$f" ] || [ -L "$f" ] && left+=("$f")
  done
  [ ${#left[@]} -eq 0 ] || fail "left behind after purge: ${left[*]}"
  [ ! -e /usr/sbin/tund ] || fail "/usr/sbin/tund still there"
}
