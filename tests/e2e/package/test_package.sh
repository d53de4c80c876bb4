#!/usr/bin/env bash
# The Debian package as a user gets it: installs tund_*.deb with apt-get (its computed
# Depends satisfied), checks the installed binary, unit (systemd-analyze verify), man pages
# and completion, runs a tunnel between two namespaces with /usr/sbin/tund, and purges the
# package, leaving nothing behind. Changes the machine: runs only as root with CI=true or
# TUND_TEST_INSTALL=1.   tests/e2e/package/test_package.sh [DEB]
. "$(dirname "$0")/lib.sh"
# An /etc/tund made by hand before the package (mode 0755) must end up private too (only
# when the test may install, and only a directory it makes itself: purge removes it).
made_etc=no
if [ "$(id -u)" -eq 0 ] && { [ "${CI:-}" = true ] || [ "${TUND_TEST_INSTALL:-}" = 1 ]; } &&
  [ ! -e /etc/tund ]; then
  mkdir -m 0755 /etc/tund && made_etc=yes
fi
package_setup "${1:-}"
require_tools systemd-analyze

step "package metadata"
depends=$(dpkg-deb -f "$PKG_DEB" Depends)
echo "$depends" | grep -c "libsodium" >/dev/null || fail "Depends lacks libsodium: $depends"
expected=tund_$(dpkg-deb -f "$PKG_DEB" Version)_$(dpkg-deb -f "$PKG_DEB" Architecture).deb
[ "$(basename "$PKG_DEB")" = "$expected" ] || fail "package file $(basename "$PKG_DEB") is not $expected"
recommends=$(dpkg-deb -f "$PKG_DEB" Recommends)
for tool in iproute2 nftables; do
  echo "$recommends" | grep -c "$tool" >/dev/null || fail "Recommends lacks $tool (the hook scripts need it): $recommends"
done
pass "Depends: $depends; Recommends: $recommends"

step "installed files"
version=$(/usr/sbin/tund --version) || fail "tund --version failed"
echo "$version" | grep -c "$(dpkg-deb -f "$PKG_DEB" Version)" >/dev/null ||
  fail "tund --version says '$version', the package is $(dpkg-deb -f "$PKG_DEB" Version)"
for f in /usr/sbin/tund /lib/systemd/system/tund@.service /usr/libexec/tund/server-up.sh \
         /usr/libexec/tund/client-up.sh /usr/share/doc/tund/examples/server.conf \
         /usr/share/doc/tund/examples/client.conf /usr/share/doc/tund/copyright \
         /usr/share/doc/tund/changelog.gz; do
  pkg_ships "$f" && [ -e "$f" ] || fail "$f not installed by the package"
done
[ "$(stat -c '%a %U' /etc/tund)" = "700 root" ] || fail "/etc/tund is $(stat -c '%a %U' /etc/tund), not 700 root"
[ $made_etc = no ] || echo "   (/etc/tund existed with mode 0755 before the install)"
grep -c "/usr/local" /lib/systemd/system/tund@.service /usr/share/doc/tund/examples/*.conf >/dev/null &&
  fail "an installed file still names /usr/local: $(grep -l /usr/local /lib/systemd/system/tund@.service /usr/share/doc/tund/examples/*.conf)"
grep -c "^ExecStart=/usr/sbin/tund --config /etc/tund/%i.conf$" /lib/systemd/system/tund@.service >/dev/null ||
  fail "unexpected ExecStart: $(grep ExecStart= /lib/systemd/system/tund@.service)"
grep -c "/usr/libexec/tund/server-up.sh" /usr/share/doc/tund/examples/server.conf >/dev/null ||
  fail "server.conf does not use the installed scripts"
pass "$version; binary, unit, scripts, examples, copyright, changelog; /etc/tund 700 root"

step "systemd-analyze verify on the installed unit"
# Verify needs an instance; it checks ExecStart's binary and every man: page it names.
mkdir -p "$WORK/units"
cp /lib/systemd/system/tund@.service "$WORK/units/tund@pkgtest.service"
out=$(systemd-analyze verify "$WORK/units/tund@pkgtest.service" 2>&1) || fail "verify failed: $out"
pass "systemd-analyze verify tund@pkgtest.service"

step "man pages and bash completion (when the package has them)"
# What the .deb contains, not what dpkg installed: a slim image's dpkg path-exclude drops
# /usr/share/man, and then `man -w` cannot find a page the package does ship.
contents=$(dpkg-deb -c "$PKG_DEB")
man_excluded=no
grep -hsE "^path-exclude[= ]+/usr/share/man" /etc/dpkg/dpkg.cfg.d/* | grep -c . >/dev/null && man_excluded=yes
checked=()
for page in tund:8 tund.conf:5; do
  name=${page%:*} sec=${page#*:}
  if ! echo "$contents" | grep -c "/usr/share/man/man$sec/$name.$sec.gz$" >/dev/null; then
    # The checkout has the page's source, so the package must have the page.
    [ ! -f "$PKG_ROOT/docs/man/$name.$sec.scd" ] || fail "the package lacks man page $name($sec)"
    continue
  fi
  if [ $man_excluded = yes ]; then checked+=("$name($sec) shipped, not installed: dpkg path-exclude"); continue; fi
  man -w "$sec" "$name" >/dev/null 2>&1 || fail "man -w $sec $name finds nothing"
  checked+=("$name($sec)")
done
if ! echo "$contents" | grep -c "/usr/share/bash-completion/completions/tund$" >/dev/null; then
  for src in completion/tund.bash contrib/bash-completion/tund; do
    [ ! -f "$PKG_ROOT/$src" ] || fail "the package lacks the bash completion ($src)"
  done
else
  [ -s /usr/share/bash-completion/completions/tund ] || fail "completion file empty or missing"
  checked+=("completion")
fi
pass "found: ${checked[*]:-none shipped}"

step "a tunnel with the installed /usr/sbin/tund"
make_underlay
tunnel_up tun udp
wait_until 10 ping_ok "$NS_C" "$TUN_S" 1 || fail "tunnel with the installed tund did not come up"
ping_ok "$NS_S" "$TUN_C" 3 || fail "server -> client ping lost replies"
tunnel_down
pass "ping both ways over the installed tund"

step "purge"
package_purge
pass "apt-get purge removed every file of the package"
