#!/usr/bin/env bash
# Bad input at start-up: one clear line on stderr, a non-zero exit, and no hang. Exit status
# 2 for every command-line or config error (the files, keys and account the configuration
# names included), 1 for a failure while starting (device, socket, name lookup).
. "$(dirname "$0")/lib.sh"
require_tools setpriv timeout
make_underlay

# expect_startup_error NS NEEDLE ARGS...: tund must exit non-zero within 5 s, printing
# exactly one line on stderr that contains NEEDLE. With ALLOW_WARNINGS=1 the daemon's
# warning lines may come before it (the options the suite adds can earn one, e.g.
# --no-offload on a TAP device); the error itself is still one line.
expect_startup_error() {
  local ns=$1 needle=$2
  shift 2
  status=0
  timeout 5 ip netns exec "$ns" "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
  [ $status -ne 0 ] || fail "'$*' succeeded"
  [ $status -ne 124 ] || fail "'$*' hung"
  local lines
  if [ "${ALLOW_WARNINGS:-0}" = 1 ]; then
    lines=$(grep -vc ' tund warn: ' "$WORK/err" || true)
  else
    lines=$(wc -l <"$WORK/err")
  fi
  [ "$lines" -eq 1 ] || fail "'$*' printed $lines lines: $(cat "$WORK/err")"
  grep -qF -- "$needle" "$WORK/err" || fail "'$*': expected '$needle' in: $(cat "$WORK/err")"
  echo "   ok (exit $status): $(grep -v ' tund warn: ' "$WORK/err")"
}
# expect_usage_error NS NEEDLE ARGS...: the same, with exit status 2.
expect_usage_error() {
  expect_startup_error "$@"
  [ "$status" = 2 ] || fail "'${*:3}': exit status $status, not 2 (a configuration error)"
}
# expect_start_failure NS NEEDLE ARGS...: the same, with exit status 1 (the system refused).
# ARGS end with tund's own (the daemon gets daemon_extra_args after them): the parser
# accepted them, so the daemon's start-up path runs as the suite configures it.
expect_start_failure() {
  local extra
  mapfile -t extra < <(daemon_extra_args)
  ALLOW_WARNINGS=$((${#extra[@]} > 0)) expect_startup_error "$@" "${extra[@]}"
  [ "$status" = 1 ] || fail "'${*:3}': exit status $status, not 1 (a start-up failure)"
}
# expect_usage OUT_STREAM STATUS NEEDLE ARGS...: a usage text on stdout or stderr.
expect_usage() {
  local stream=$1 want=$2 needle=$3
  shift 3
  status=0
  timeout 5 "$TUND_BIN" "$@" >"$WORK/stdout" 2>"$WORK/stderr" </dev/null || status=$?
  [ "$status" = "$want" ] || fail "'tund $*': exit status $status, not $want: $(cat "$WORK/stderr")"
  grep -qF -- "$needle" "$WORK/$stream" || fail "'tund $*': expected '$needle' on $stream: $(cat "$WORK/$stream")"
  echo "   ok (exit $status): tund $* -> $(head -n 1 "$WORK/$stream")"
}

step "usage: tund alone, the key commands' own usage"
expect_usage stderr 2 "usage: tund -s -i IFNAME"
expect_usage stderr 2 "tund genkey|genpsk"
[ ! -s "$WORK/stdout" ] || fail "'tund' alone wrote to stdout"
expect_usage stdout 0 "Usage: tund -s -i IFNAME" --help
expect_usage stdout 0 "tund pubkey < PRIVATE_KEY_FILE" --help
expect_usage stderr 2 "usage: tund pubkey < PRIVATE_KEY_FILE" pubkey s.key
expect_usage stderr 2 "genkey takes no arguments" genkey extra
expect_usage stderr 2 "genpsk takes no arguments" genpsk -s
expect_usage stdout 0 "usage: tund genkey > PRIVATE_KEY_FILE" genkey --help
expect_usage stdout 0 "usage: tund pubkey < PRIVATE_KEY_FILE" pubkey -h
expect_usage stderr 2 "-c/--connect needs a HOST" -c -i x
expect_usage stderr 2 "-c/--connect needs a HOST" -i x -c

step "command line"
expect_usage_error "$NS_S" "--bogus" "$TUND_BIN" -s -i "t$ID" --bogus
expect_usage_error "$NS_S" "excludes" "$TUND_BIN" -s -c "$UNDER_S" -i "t$ID"
expect_usage_error "$NS_S" "one of -s/--server or -c/--connect" "$TUND_BIN" -i "t$ID"
# Interface names the kernel refuses (dev_valid_name), as usage errors before anything exists.
for name in "a b" "a/b" "a:b" ".." "tun%d%d" "$(printf 'x%.0s' {1..16})"; do
  expect_startup_error "$NS_S" "--iface: '$name'" "$TUND_BIN" -s -i "$name"
  [ "$status" = 2 ] || fail "-i '$name': exit status $status, not 2 (usage)"
done
# Names and addresses the kernel refuses only after the device exists (EINVAL): usage errors.
for name in all default -x; do
  expect_usage_error "$NS_S" "--iface: '$name'" "$TUND_BIN" -s -i "$name"
done
for address in 224.0.0.1/32 0.0.0.0/0 ::/0 ::1/128 ff02::1/64; do
  expect_usage_error "$NS_S" "--address: '$address'" "$TUND_BIN" -s -i "t$ID" --address "$address"
done
for ip in 0.0.0.0 255.255.255.255 224.0.0.9 127.0.0.9; do
  expect_usage_error "$NS_S" "--link-ip: '$ip'" "$TUND_BIN" -s -i "t$ID" --link-ip "$ip"
done
expect_usage_error "$NS_S" "broadcast address of --address 10.9.0.1/24" "$TUND_BIN" -s -i "t$ID" \
  --address 10.9.0.1/24 --link-ip 10.9.0.255
expect_usage_error "$NS_S" "--link-mac: '00:00:00:00:00:00' is the all-zero MAC" "$TUND_BIN" -s -a \
  -i "t$ID" --link-ip 10.9.0.9 --link-mac 00:00:00:00:00:00
for peer in 0.0.0.0 255.255.255.255 239.0.0.1 127.0.0.1 10.9.0.1; do
  expect_usage_error "$NS_S" "--peer: '$peer'" "$TUND_BIN" -s -i "t$ID" --address 10.9.0.1/32 \
    --peer "$peer"
done
for host in 224.0.0.1 255.255.255.255 0.0.0.0 '[::]' ff02::1; do
  expect_usage_error "$NS_C" "--connect: '${host//[][]/}' is" "$TUND_BIN" -c "$host" -i "t$ID"
done
for host in a..b "$(printf 'a%.0s' {1..64}).example" "$(printf 'a.%.0s' {1..127})ab"; do
  expect_usage_error "$NS_C" "is a malformed host name" "$TUND_BIN" -c "$host" -i "t$ID"
done
expect_usage_error "$NS_S" "--config given twice" "$TUND_BIN" --config /nonexistent --config /tmp
expect_usage_error "$NS_S" "--address: bad prefix length" "$TUND_BIN" -s -i "t$ID" \
  --address 10.9.0.1/33
expect_usage_error "$NS_S" "--peer: 'x'" "$TUND_BIN" -s -i "t$ID" --address 10.9.0.1/32 --peer x
# Dual stack (issue 15): one --peer and one --link-ip per family, a --peer needs an
# --address of its family, an address given twice is a mistake.
expect_usage_error "$NS_S" "--peer: '10.9.0.2' and '10.9.0.3' are both IPv4 (at most one --peer per family)" \
  "$TUND_BIN" -s -i "t$ID" --address 10.9.0.1/32 --address fd00::1/64 --peer 10.9.0.2 --peer 10.9.0.3
expect_usage_error "$NS_S" "--peer fd00::2 is IPv6 but no --address is" "$TUND_BIN" -s -i "t$ID" \
  --address 10.9.0.1/32 --peer fd00::2
expect_usage_error "$NS_S" "--address: 'fd00::1/128' is given twice (as 'fd00::1/64' too)" \
  "$TUND_BIN" -s -i "t$ID" --address fd00::1/64 --address 10.9.0.1/24 --address fd00::1/128
expect_usage_error "$NS_S" "--link-ip: 'fd00::9' and 'fd00::8' are both IPv6" "$TUND_BIN" -s -i "t$ID" \
  --link-ip fd00::9 --link-ip 10.9.0.9 --link-ip fd00::8
expect_usage_error "$NS_S" "--link-ip: '10.9'" "$TUND_BIN" -s -i "t$ID" --link-ip 10.9
expect_usage_error "$NS_S" "--threads: 0 is out of range (auto or 1-64)" "$TUND_BIN" -s -i "t$ID" \
  --threads 0
expect_usage_error "$NS_S" "--threads: '2x' is not a number" "$TUND_BIN" -s -i "t$ID" --threads=2x
# An unset variable (--private-key "$KEY") must not mean a tunnel without encryption.
expect_usage_error "$NS_S" "--private-key needs a FILE (an empty value was given)" \
  "$TUND_BIN" -s -i "t$ID" --private-key ""
# Checked after parsing until now (exit 1): syntax all the same.
expect_usage_error "$NS_S" "--listen: 'nope' is not an IPv4 or IPv6 address" \
  "$TUND_BIN" -s -i "t$ID" --listen nope
expect_usage_error "$NS_S" "--listen: bad port '0'" "$TUND_BIN" -s -i "t$ID" --listen '[::1]:0'
expect_usage_error "$NS_S" "is a multicast MAC" "$TUND_BIN" -s -a -i "t$ID" \
  --link-mac 01:00:5e:00:00:01
expect_usage_error "$NS_S" "--link-mac: 'zz' is not a MAC address" "$TUND_BIN" -s -a -i "t$ID" \
  --link-mac zz
expect_usage_error "$NS_S" "--user: no such user 'nosuchuser$ID'" "$TUND_BIN" -s -i "t$ID" \
  --user "nosuchuser$ID"
expect_usage_error "$NS_S" "--group: no such group 'nosuchgroup$ID'" "$TUND_BIN" -s -i "t$ID" \
  --user nobody --group "nosuchgroup$ID"
# HOST:PORT and [IPv6]:PORT are accepted (test_config_files); what cannot be one is refused.
expect_usage_error "$NS_C" "names port 4000, but --port is 5000" "$TUND_BIN" -c "$UNDER_S:4000" \
  -p 5000 -i "t$ID"
expect_usage_error "$NS_C" "bad port '70000'" "$TUND_BIN" -c "[2001:db8::1]:70000" -i "t$ID"
expect_usage_error "$NS_C" "'$UNDER_S:1:2' is not an IPv6 address" "$TUND_BIN" -c "$UNDER_S:1:2" \
  -i "t$ID"
expect_usage_error "$NS_C" "is a URL" "$TUND_BIN" -c "tcp://$UNDER_S" -i "t$ID"

step "files that are not files"
expect_usage_error "$NS_S" "config file /tmp is a directory" "$TUND_BIN" --config /tmp
expect_usage_error "$NS_S" "cannot read config file $WORK/none.conf" "$TUND_BIN" --config "$WORK/none.conf"
expect_usage_error "$NS_S" "--private-key: key file /tmp is a directory" \
  "$TUND_BIN" -s -i "t$ID" --private-key /tmp --allow /tmp
expect_usage_error "$NS_S" "--private-key: key file /dev/null is not a regular file" \
  "$TUND_BIN" -s -i "t$ID" --private-key /dev/null --allow-file "$WORK"

step "start-up environment"
ip -n "$NS_S" tuntap add dev "tap$ID" mode tap
expect_start_failure "$NS_S" "exists as a TAP device" "$TUND_BIN" -s -i "tap$ID"
ip -n "$NS_S" tuntap add dev "tun$ID" mode tun
expect_start_failure "$NS_S" "exists as a TUN device" "$TUND_BIN" -s -i "tun$ID" -a
expect_start_failure "$NS_S" "not a TUN/TAP device" "$TUND_BIN" -s -i lo
expect_start_failure "$NS_S" "CAP_NET_ADMIN" \
  setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$TUND_BIN" -s -i "t$ID"
# A name that does not exist (hosts file only: a definite "no such name", not a DNS server
# that cannot be reached, which tund rides out) is a start-up error.
netns_etc "$NS_C" resolv.conf "nameserver 127.0.0.1"
netns_etc "$NS_C" nsswitch.conf "hosts: files"
expect_start_failure "$NS_C" "cannot resolve host 'no-such-host.invalid'" \
  "$TUND_BIN" -c no-such-host.invalid -i "t$ID"
# Failures caused by a config file's value name its line.
CONF=$WORK/start.conf
printf 'connect = no-such-host.invalid\niface = t%s\n' "$ID" >"$CONF"
expect_start_failure "$NS_C" "$CONF line 1: cannot resolve host 'no-such-host.invalid'" \
  "$TUND_BIN" --config "$CONF"
printf 'server = true\niface = t%s\nlisten = 198.18.9.9\n' "$ID" >"$CONF"
expect_start_failure "$NS_S" "$CONF line 3: " "$TUND_BIN" --config "$CONF"
printf 'server = true\niface = t%s\nup = exit 3\n' "$ID" >"$CONF"
status=0
mapfile -t extra < <(daemon_extra_args)
timeout 5 ip netns exec "$NS_S" "$TUND_BIN" --config "$CONF" "${extra[@]}" 2>"$WORK/err" || status=$?
[ "$status" = 1 ] || fail "a failing up hook: exit status $status, not 1"
grep -qF "$CONF line 3: the --up hook failed" "$WORK/err" || fail "up hook failure: $(cat "$WORK/err")"
echo "   ok (exit $status): $(grep -F 'hook failed' "$WORK/err")"
for proto in tcp udp; do
  start_tund "$NS_S" holder-$proto -s -i "h$proto$ID" -t "$proto"
  wait_until 5 grep -q listening "$WORK/holder-$proto.log"
  expect_start_failure "$NS_S" "Address already in use" "$TUND_BIN" -s -i "x$ID" -t "$proto"
done
step "keys that are not keys"
"$TUND_BIN" genkey >"$WORK/k.key"
PUB=$("$TUND_BIN" pubkey <"$WORK/k.key")
ZERO=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
ORDER1=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=  # the point of order 1
ORDER8=4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA=  # a point of order 8
printf '%s\n' "$PUB" "$ORDER8" >"$WORK/allow-list"
printf '%s\n' "$ZERO" >"$WORK/zero.key"
printf '%s\n' "$PUB" >"$WORK/open.pub"
chmod 644 "$WORK/open.pub"
chmod 600 "$WORK/zero.key"
KEY=(--private-key "$WORK/k.key")
for bad in "$ZERO" "$ORDER1" "$ORDER8"; do
  expect_usage_error "$NS_C" "--peer-key: key '$bad'" \
    "$TUND_BIN" -c "$UNDER_S" -i "t$ID" "${KEY[@]}" --peer-key "$bad"
  expect_usage_error "$NS_S" "--allow: key '$bad'" \
    "$TUND_BIN" -s -i "t$ID" "${KEY[@]}" --allow "$bad"
done
: >"$WORK/empty.allow"
expect_usage_error "$NS_S" "--allow-file: no allowed client keys (allow file $WORK/empty.allow holds no keys) (see tund --help)" \
  "$TUND_BIN" -s -i "t$ID" "${KEY[@]}" --allow-file "$WORK/empty.allow"
expect_usage_error "$NS_S" "(if it is a public key, it belongs in --peer-key or --allow)" \
  "$TUND_BIN" -s -i "t$ID" --private-key "$WORK/open.pub" --allow "$PUB"
expect_usage_error "$NS_S" "allow-list:2: a low-order point" \
  "$TUND_BIN" -s -i "t$ID" "${KEY[@]}" --allow-file "$WORK/allow-list"
expect_usage_error "$NS_S" "zero.key: all zeros" \
  "$TUND_BIN" -s -i "t$ID" --private-key "$WORK/zero.key" --allow "$PUB"
# A public key file given as the private key (made 0600, so only its use gives it away).
printf '%s\n' "$PUB" >"$WORK/k.pub"
chmod 600 "$WORK/k.pub"
expect_usage_error "$NS_S" "holds the public key given as --allow" \
  "$TUND_BIN" -s -i "t$ID" --private-key "$WORK/k.pub" --allow "$WORK/k.pub"

step "config file errors name the file and the line"
CONF=$WORK/bad.conf
for line in "port = 99999|line 3: --port: 99999 is out of range" \
  "transport = UDP|line 3: --transport: 'UDP' (expected tcp or udp)" "mtu = x|line 3: --mtu: 'x' is not a number" \
  "address = 10.0.0.1/33|line 3: --address: bad prefix length" \
  "link-ip = 10.0|line 3: --link-ip: '10.0'" "keepalive = 0|line 3: --keepalive: 0 is out of range" \
  "listen = 198.18.0.1:99999|line 3: --listen: bad port '99999'" \
  "user = nosuchuser$ID|line 3: --user: no such user"; do
  printf 'server = true\niface = t%s\n%s\n' "$ID" "${line%%|*}" >"$CONF"
  expect_usage_error "$NS_S" "$CONF ${line#*|}" "$TUND_BIN" --config "$CONF"
done
# Relative to the config file's directory, and checked as a file before anything starts.
# A repeated `address =` is a list: the error names the line of the value at fault.
printf 'server = true\niface = t%s\naddress = 10.9.0.1/24\naddress = fd00::1/64\naddress = 10.9.0.1/32\n' \
  "$ID" >"$CONF"
expect_usage_error "$NS_S" "$CONF line 5: --address: '10.9.0.1/32' is given twice" "$TUND_BIN" --config "$CONF"
printf 'server = true\niface = t%s\nprivate-key = .\nallow = %s\n' "$ID" "$PUB" >"$CONF"
expect_usage_error "$NS_S" "$CONF line 3: --private-key: key file $WORK/. is a directory" \
  "$TUND_BIN" --config "$CONF"
printf 'server = true\niface = t%s\nport = 4\0000\n' "$ID" >"$CONF"
expect_usage_error "$NS_S" "$CONF line 3: a NUL byte" "$TUND_BIN" --config "$CONF"
printf 'server = true\niface = t%s\n# caf\351\n' "$ID" >"$CONF"
expect_usage_error "$NS_S" "$CONF line 3: not valid UTF-8" "$TUND_BIN" --config "$CONF"
printf 'server = true\niface\302\240= t%s\n' "$ID" >"$CONF"
expect_usage_error "$NS_S" "$CONF line 2: an invisible character (U+00A0 no-break space)" \
  "$TUND_BIN" --config "$CONF"
printf 'server = true\niface = t%s\nconnect = %s\n' "$ID" "$UNDER_S" >"$CONF"
expect_usage_error "$NS_S" "$CONF line 3: 'connect' conflicts with 'server' on line 1" \
  "$TUND_BIN" --config "$CONF"

# A failed start must not leave a device behind.
! ip -n "$NS_S" link show "t$ID" 2>/dev/null || fail "a failed start left device t$ID"
pass "every start-up error is one line and a non-zero exit"
