#!/usr/bin/env bash
# The example configs and scripts, end to end (nat_scenario.sh): the configs configured
# from their templates as `cmake --install` does, pointing at the scripts in examples/.
# Then what the scripts refuse: no settings, NAT without knowing the clients' subnet, TAP
# routes without a gateway (usage or a one-line reason, exit 2, nothing changed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nat_scenario.sh"
require_tools nft socat getent tcpdump
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
mkdir "$WORK/examples"
for f in server client; do
  sed -e "s|@TUND_SCRIPTS_DIR@|$EXAMPLES|g" -e "s|@TUND_CONFIG_DIR@|$WORK/examples|g" "$EXAMPLES/$f.conf.in" >"$WORK/examples/$f.conf"
done

nat_scenario "$TUND_BIN" "$WORK/examples" "$EXAMPLES"

step "the scripts refuse what they cannot do, with exit status 2"
# expect_refusal PATTERN NS ENV... : the script (last argument) exits 2 saying PATTERN.
expect_refusal() {
  local pattern=$1 ns=$2 out status=0
  shift 2
  out=$(ip netns exec "$ns" env "$@" 2>&1) || status=$?
  [ "$status" -eq 2 ] || fail "exit status $status, not 2, for: $* ($out)"
  grep -c -e "$pattern" <<<"$out" >/dev/null || fail "no '$pattern' from $*: $out"
}
for script in server-up.sh server-down.sh client-up.sh client-down.sh link-up.sh; do
  expect_refusal usage "$NS_S" sh "$EXAMPLES/$script"
  # --help is a request, not an error: usage on stdout, status 0.
  out=$(sh "$EXAMPLES/$script" --help 2>/dev/null) || fail "$script --help: exit status $?"
  grep -c "^usage:" <<<"$out" >/dev/null || fail "$script --help: no usage on stdout"
done
ip -n "$NS_S" tuntap add dev tunr"$ID" mode tun
expect_refusal "NAT needs TUND_PREFIX" "$NS_S" TUND_IFACE=tunr"$ID" \
  TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX= NAT_IFACE=eth0 sh "$EXAMPLES/server-up.sh"
# A host prefix without a peer names only the server's own address: nobody to masquerade.
expect_refusal "NAT needs TUND_PREFIX (a subnet, not /32)" "$NS_S" TUND_IFACE=tunr"$ID" \
  TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=32 NAT_IFACE=eth0 sh "$EXAMPLES/server-up.sh"
expect_refusal "NAT needs TUND_PREFIX (a subnet, not /128)" "$NS_S" TUND_IFACE=tunr"$ID" \
  TUND_LOCAL_ADDR=fd00::1 TUND_PREFIX=128 NAT_IFACE=eth0 sh "$EXAMPLES/server-up.sh"
expect_refusal "NAT_IFACE=nosuch$ID: no such interface" "$NS_S" TUND_IFACE=tunr"$ID" \
  TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=24 NAT_IFACE=nosuch"$ID" sh "$EXAMPLES/server-up.sh"
if ip netns exec "$NS_S" nft list table inet "tund_tunr$ID" >/dev/null 2>&1; then
  fail "a refused server-up.sh left a NAT table"
fi
[ -z "$(ip -n "$NS_S" addr show tunr"$ID" | grep inet)" ] || fail "a refused server-up.sh set an address"
ip -n "$NS_C" tuntap add dev tapr"$ID" mode tap
expect_refusal "GATEWAY" "$NS_C" TUND_IFACE=tapr"$ID" TUND_MODE=tap TUND_LOCAL_ADDR=10.0.0.2 \
  TUND_PREFIX=24 ROUTES=198.19.0.0/24 sh "$EXAMPLES/client-up.sh"
expect_refusal "FULL_TUNNEL needs TUND_REMOTE" "$NS_C" TUND_IFACE=tapr"$ID" \
  TUND_LOCAL_ADDR=10.0.0.2 TUND_PREFIX=24 FULL_TUNNEL=yes sh "$EXAMPLES/client-up.sh"
[ -z "$(ip -n "$NS_C" addr show tapr"$ID" | grep inet)" ] || fail "a refused client-up.sh set an address"
expect_refusal "GATEWAY6" "$NS_C" TUND_IFACE=tapr"$ID" TUND_MODE=tap TUND_LOCAL_ADDR=10.0.0.2 \
  TUND_PREFIX=24 GATEWAY=10.0.0.1 ROUTES="198.19.0.0/24 fd00:19::/64" sh "$EXAMPLES/client-up.sh"
expect_refusal "two first IPv6 addresses" "$NS_S" TUND_IFACE=tunr"$ID" TUND_LOCAL_ADDR=fd00::1 \
  TUND_LOCAL_ADDR6=fd00::5 sh "$EXAMPLES/link-up.sh"
expect_refusal "is not IPv6" "$NS_S" TUND_IFACE=tunr"$ID" TUND_LOCAL_ADDR6=10.0.0.1 \
  sh "$EXAMPLES/server-up.sh"
expect_refusal "NAT6=maybe: yes or no" "$NS_S" TUND_IFACE=tunr"$ID" TUND_LOCAL_ADDR6=fd00::1 \
  TUND_PREFIX6=64 NAT_IFACE=eth0 NAT6=maybe sh "$EXAMPLES/server-up.sh"
# Prefix lengths are checked before anything changes (not refused by `ip` half-way, after
# the first family's address was set).
for bad in "TUND_PREFIX6=200 IPv6 prefix length '200'" "TUND_PREFIX6=abc IPv6 prefix length 'abc'" \
  "TUND_PREFIX=33 IPv4 prefix length '33'" "TUND_PREFIX=024 IPv4 prefix length '024'"; do
  read -r setting why <<<"$bad"
  for script in server-up.sh client-up.sh link-up.sh; do
    expect_refusal "$why" "$NS_S" TUND_IFACE=tunr"$ID" TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=24 \
      TUND_LOCAL_ADDR6=fd00::1 TUND_PREFIX6=64 "$setting" sh "$EXAMPLES/$script"
  done
done
[ -z "$(ip -n "$NS_S" addr show tunr"$ID" | grep inet)" ] || fail "a refused server-up.sh set an address"
[ -z "$(ip -n "$NS_C" addr show tapr"$ID" | grep inet)" ] || fail "a refused client-up.sh set an address"
ip netns exec "$NS_C" env TUND_IFACE=tapr"$ID" TUND_MODE=tap TUND_LOCAL_ADDR=10.0.0.2 \
  TUND_PREFIX=24 ROUTES=198.19.0.0/24 GATEWAY=10.0.0.1 sh "$EXAMPLES/client-up.sh"
ip -n "$NS_C" route | grep -c "^198.19.0.0/24 via 10.0.0.1 dev tapr$ID" >/dev/null ||
  fail "TAP: no route via GATEWAY"
ip netns exec "$NS_C" env TUND_IFACE=tapr"$ID" TUND_MODE=tap TUND_LOCAL_ADDR=10.0.0.2 \
  TUND_PREFIX=24 TUND_LOCAL_ADDR6=fd00::2 TUND_PREFIX6=64 TUND_PEER_ADDR6= GATEWAY=10.0.0.1 \
  GATEWAY6=fd00::1 ROUTES="198.19.0.0/24 fd00:19::/64" sh "$EXAMPLES/client-up.sh"
ip -n "$NS_C" -6 route | grep -c "^fd00:19::/64 via fd00::1 dev tapr$ID" >/dev/null ||
  fail "TAP: no IPv6 route via GATEWAY6"
# TAP full tunnel: a family with a tunnel address needs its gateway; one without (IPv6
# here) goes into the link anyway, with no gateway.
expect_refusal "GATEWAY6" "$NS_C" TUND_IFACE=tapr"$ID" TUND_MODE=tap TUND_LOCAL_ADDR=10.0.0.2 \
  TUND_PREFIX=24 TUND_LOCAL_ADDR6=fd00::2 TUND_PREFIX6=64 GATEWAY=10.0.0.1 \
  TUND_REMOTE="$UNDER_S" FULL_TUNNEL=yes sh "$EXAMPLES/client-up.sh"
tap_full=(TUND_IFACE="tapr$ID" TUND_MODE=tap TUND_REMOTE="$UNDER_S" FULL_TUNNEL=yes)
ip netns exec "$NS_C" env "${tap_full[@]}" TUND_LOCAL_ADDR=10.0.0.2 TUND_PREFIX=24 \
  GATEWAY=10.0.0.1 sh "$EXAMPLES/client-up.sh"
ip -n "$NS_C" route | grep -c "^128.0.0.0/1 via 10.0.0.1 dev tapr$ID" >/dev/null ||
  fail "TAP full tunnel: no 128.0.0.0/1 via GATEWAY"
ip -n "$NS_C" -6 route | grep -c "^8000::/1 dev tapr$ID" >/dev/null ||
  fail "TAP full tunnel without a tunnel IPv6 address: no 8000::/1 into the link"
ip netns exec "$NS_C" env "${tap_full[@]}" sh "$EXAMPLES/client-down.sh"
pass "--help: usage, status 0; usage without settings; NAT without a subnet (or a /32, /128 without peer), to a missing NAT_IFACE, TAP routes without GATEWAY or GATEWAY6, FULL_TUNNEL without server, contradicting addresses, bad prefix lengths: refused, nothing changed; TAP routes via the gateway of each family, full tunnel of a family without an address into the link"

step "link-up.sh: the first address of each family with its peer, the rest of TUND_ADDRESSES"
ip -n "$NS_S" tuntap add dev tunl"$ID" mode tun
for _ in 1 2; do
  ip netns exec "$NS_S" env TUND_IFACE=tunl"$ID" TUND_LOCAL_ADDR=fd00:5::1 TUND_PREFIX=128 \
    TUND_PEER_ADDR=fd00:5::2 TUND_LOCAL_ADDR4=10.5.0.1 TUND_PREFIX4=24 \
    TUND_ADDRESSES="fd00:5::1/128 10.5.0.1/24 10.6.0.1/24 fd00:6::1/64" sh "$EXAMPLES/link-up.sh"
done
addrs=$(ip -n "$NS_S" addr show tunl"$ID" | grep -o "inet6\? [^ ]*\( peer [^ ]*\)\?" | sort | tr '\n' ' ')
[ "$addrs" = "inet 10.5.0.1/24 inet 10.6.0.1/24 inet6 fd00:5::1 peer fd00:5::2/128 inet6 fd00:6::1/64 " ] ||
  fail "link-up.sh set: $addrs"
# Linux routes an IPv6 peer only when the address is added on an up link.
ip -n "$NS_S" -6 route | grep -c "^fd00:5::2 dev tunl$ID" >/dev/null || fail "no route to the IPv6 peer"
pass "twice: 10.5.0.1/24, fd00:5::1 peer fd00:5::2 (routed) and the others (10.6.0.1/24, fd00:6::1/64), each once"

step "FULL_TUNNEL with a server address that has no route now (IPv6, no default route)"
netns_etc "$NS_S" hosts "198.19.77.9 far-server
fd00:77::1 far-server"
ip -n "$NS_S" route add default via "$UNDER_C"
ip -n "$NS_S" tuntap add dev tunf"$ID" mode tun
# ROUTES holding the server's own subnet too: the server is pinned outside before them.
out=$(ip netns exec "$NS_S" env TUND_IFACE=tunf"$ID" TUND_LOCAL_ADDR=10.8.0.2 TUND_PREFIX=24 \
  TUND_REMOTE=far-server FULL_TUNNEL=yes ROUTES=198.19.77.0/24 sh "$EXAMPLES/client-up.sh" 2>&1) ||
  fail "client-up.sh failed on an unrouted server address: $out"
grep -c "no route to fd00:77::1" <<<"$out" >/dev/null || fail "no word on the unrouted address: $out"
ip -n "$NS_S" route | grep -c "^198.19.77.9 via $UNDER_C dev vs$ID" >/dev/null ||
  fail "the routed server address was not kept outside"
ip -n "$NS_S" -6 route | grep -c "^::/1 dev tunf$ID" >/dev/null || fail "no ::/1 without a tunnel IPv6 address"
ip netns exec "$NS_S" env TUND_IFACE=tunf"$ID" TUND_REMOTE=far-server FULL_TUNNEL=yes \
  ROUTES=198.19.77.0/24 sh "$EXAMPLES/client-down.sh"
left=$(ip -n "$NS_S" route | grep -c "^198.19.77\|/1 dev" || true)
[ "$left" -eq 0 ] || fail "client-down.sh left $left routes"
[ -z "$(ip -n "$NS_S" -6 route | grep "::/1")" ] || fail "client-down.sh left the IPv6 halves"
ip -n "$NS_S" route del default
pass "the unrouted IPv6 address reported and skipped, the IPv4 one kept outside (also from ROUTES holding it), ::/1 anyway; all undone"

step "interface names tund accepts but nft cannot take as they are ('@', '#', ';', non-ASCII)"
for name in "t@$ID" "t#$ID" "t;$ID" "é$ID"; do
  name=${name:0:15}
  ip -n "$NS_S" tuntap add dev "$name" mode tun
  ip netns exec "$NS_S" env TUND_IFACE="$name" TUND_LOCAL_ADDR=10.7.0.1 TUND_PREFIX=24 \
    NAT_IFACE=eth0 sh "$EXAMPLES/server-up.sh" || fail "server-up.sh failed for '$name'"
  ip netns exec "$NS_S" nft list ruleset | grep -cF "iifname \"$name\"" >/dev/null ||
    fail "no rule naming '$name'"
  ip netns exec "$NS_S" env TUND_IFACE="$name" NAT_IFACE=eth0 sh "$EXAMPLES/server-down.sh"
  [ -z "$(ip netns exec "$NS_S" nft list ruleset | grep -F "\"$name\"")" ] ||
    fail "server-down.sh left rules for '$name'"
  ip -n "$NS_S" link del "$name"
done
ip -n "$NS_S" tuntap add dev "q\"$ID" mode tun
expect_refusal "cannot quote" "$NS_S" TUND_IFACE="q\"$ID" TUND_LOCAL_ADDR=10.7.0.1 \
  TUND_PREFIX=24 NAT_IFACE=eth0 sh "$EXAMPLES/server-up.sh"
[ -z "$(ip -n "$NS_S" addr show "q\"$ID" | grep inet)" ] || fail "a refused server-up.sh set an address"
pass "NAT rules for names with '@', '#', ';' and non-ASCII letters, and undone; a '\"' refused first"

step "without nft: the iptables fallback, IPv4 and IPv6, idempotent and undone"
# A PATH with everything the scripts use but nft.
mkdir "$WORK/nonft"
for tool in ip sysctl iptables ip6tables getent awk sort sed; do
  ln -s "$(command -v "$tool")" "$WORK/nonft/$tool"
done
# nat_rules FAMILY: the MASQUERADE rules of iptables or ip6tables in the server namespace.
nat_rules() { ip netns exec "$NS_S" "$1" -t nat -S POSTROUTING | grep MASQUERADE || true; }
for addressing in "iptables 10.0.0.1 24 10.0.0.0/24" "ip6tables fd00::1 64 fd00::/64"; do
  read -r ipt local prefix net <<<"$addressing"
  for script in server-up.sh server-up.sh server-down.sh; do
    ip netns exec "$NS_S" env PATH="$WORK/nonft" TUND_IFACE="tunr$ID" TUND_LOCAL_ADDR="$local" \
      TUND_PREFIX="$prefix" NAT_IFACE=eth0 /bin/sh "$EXAMPLES/$script"
    [ "$script" = server-down.sh ] || rules=$(nat_rules "$ipt")
    [ "$script" = server-down.sh ] || drops=$(ip netns exec "$NS_S" "$ipt" -S FORWARD |
      grep -c -e "-i eth0 -o tunr$ID -j DROP" || true)
  done
  [ "$(grep -c . <<<"$rules")" -eq 1 ] || fail "$ipt: not one MASQUERADE rule after two runs: $rules"
  # Only answers may come in from the uplink, as with nftables.
  [ "$drops" -eq 1 ] || fail "$ipt: $drops rules dropping new inbound connections, not 1"
  grep -c -e "-s $net .*-o eth0" <<<"$rules" >/dev/null || fail "$ipt: not the subnet: $rules"
  [ -z "$(nat_rules "$ipt")" ] || fail "$ipt: server-down.sh left $(nat_rules "$ipt")"
  left=$(ip netns exec "$NS_S" "$ipt" -S FORWARD | grep -c "tunr$ID" || true)
  [ "$left" -eq 0 ] || fail "$ipt: server-down.sh left $left forward rules"
done
pass "iptables and ip6tables: one masquerade rule of the subnet after two runs, none after down"

step "without nft, dual stack: iptables and ip6tables at once; NAT6=no: IPv6 forwarded, not masqueraded"
# forward_rules FAMILY: how many FORWARD rules of the test device iptables or ip6tables has.
forward_rules() { ip netns exec "$NS_S" "$1" -S FORWARD | grep -c "tunr$ID" || true; }
dual=(TUND_IFACE="tunr$ID" TUND_LOCAL_ADDR=10.0.0.1 TUND_PREFIX=24 TUND_LOCAL_ADDR6=fd00::1
  TUND_PREFIX6=64 NAT_IFACE=eth0)
for nat6 in yes no; do
  for script in server-up.sh server-up.sh; do
    ip netns exec "$NS_S" env PATH="$WORK/nonft" "${dual[@]}" NAT6="$nat6" /bin/sh "$EXAMPLES/$script"
  done
  [ "$(nat_rules iptables | grep -c "10.0.0.0/24")" -eq 1 ] || fail "NAT6=$nat6: no single NAT44 rule"
  want=1
  [ "$nat6" = no ] && want=0
  [ "$(nat_rules ip6tables | grep -c "fd00::/64")" -eq "$want" ] ||
    fail "NAT6=$nat6: not $want NAT66 rules: $(nat_rules ip6tables)"
  # Per family: the tunnel's subnet out, the rest from the tunnel dropped, answers in, the
  # rest in dropped.
  [ "$(forward_rules iptables)" -eq 4 ] && [ "$(forward_rules ip6tables)" -eq 4 ] ||
    fail "NAT6=$nat6: not 4 forward rules per family"
  ip netns exec "$NS_S" ip6tables -S FORWARD |
    grep -c -e "-s fd00::/64 -i tunr$ID -o eth0 -j ACCEPT" >/dev/null ||
    fail "NAT6=$nat6: the IPv6 accept out of the tunnel is not limited to its subnet"
  ip netns exec "$NS_S" ip6tables -S FORWARD | grep -c -e "-i tunr$ID -o eth0 -j DROP" >/dev/null ||
    fail "NAT6=$nat6: other sources from the tunnel are not dropped"
  ip netns exec "$NS_S" env PATH="$WORK/nonft" "${dual[@]}" /bin/sh "$EXAMPLES/server-down.sh"
  [ -z "$(nat_rules iptables)$(nat_rules ip6tables)" ] || fail "NAT6=$nat6: server-down.sh left NAT rules"
  [ "$(forward_rules iptables)" -eq 0 ] && [ "$(forward_rules ip6tables)" -eq 0 ] ||
    fail "NAT6=$nat6: server-down.sh left forward rules"
done
pass "both families' rules once after two runs (no NAT66 with NAT6=no), none after down"
