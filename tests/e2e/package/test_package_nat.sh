#!/usr/bin/env bash
# The shipped examples exactly as the package installs them: /usr/share/doc/tund/examples/
# server.conf and client.conf (their up/down lines name /usr/libexec/tund/*.sh) run
# unchanged with /usr/sbin/tund, NAT out of the server's eth0 to a third namespace, both
# link addresses answering ping; then IPv6 and dual stack through the installed scripts
# (NAT66, NAT6=no, the full tunnel of both families with no IPv6 leak on the underlay:
# tests/e2e/nat_scenario.sh), then the package is purged.
# Changes the machine: runs only as root with CI=true or TUND_TEST_INSTALL=1.
#   tests/e2e/package/test_package_nat.sh [DEB]
. "$(dirname "$0")/lib.sh"
package_setup "${1:-}"
. "$PKG_ROOT/tests/e2e/nat_scenario.sh"
require_tools nft socat getent tcpdump

nat_scenario /usr/sbin/tund /usr/share/doc/tund/examples /usr/libexec/tund

step "purge"
package_purge
pass "apt-get purge removed every file of the package"
