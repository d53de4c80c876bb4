#!/usr/bin/env bash
# Regenerates tests/fuzz/corpus/ from real traffic: runs tund in namespaces (TUN and TAP,
# TCP and UDP, plaintext and encrypted), captures the underlay and the tunnel devices, and
# writes each frame/datagram/message (or a TCP stream prefix) as one seed file. Needs root,
# tcpdump and python3 (a developer tool; the committed corpus is what the fuzzers use).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TUND=${TUND_BIN:-$ROOT/build/tund}
OUT=$ROOT/tests/fuzz/corpus
WORK=$(mktemp -d)
S=tundfs$$ C=tundfc$$
cleanup() {
  set +e
  for ns in $S $C; do ip netns pids $ns 2>/dev/null | xargs -r kill -9; ip netns del $ns 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add $S; ip netns add $C
ip link add vs netns $S type veth peer name vc netns $C
ip -n $S addr add 198.18.0.1/24 dev vs; ip -n $C addr add 198.18.0.2/24 dev vc
for ns in $S $C; do ip -n $ns link set lo up; done
ip -n $S link set vs up; ip -n $C link set vc up
"$TUND" genkey >"$WORK/s.key"; "$TUND" genkey >"$WORK/c.key"
"$TUND" pubkey <"$WORK/s.key" >"$WORK/s.pub"; "$TUND" pubkey <"$WORK/c.key" >"$WORK/c.pub"

session() {  # session NAME MODE PROTO [keys]: capture a short session with ping and ARP
  local name=$1 mode=$2 proto=$3 keys=${4:-} flag=-u sk=() ck=()
  [ "$mode" = tap ] && flag=-a
  if [ -n "$keys" ]; then
    sk=(--private-key "$WORK/s.key" --allow "$WORK/c.pub")
    ck=(--private-key "$WORK/c.key" --peer-key "$WORK/s.pub")
  fi
  ip netns exec $S tcpdump --immediate-mode -i vs -U -w "$WORK/$name-under.pcap" port 55555 >/dev/null 2>&1 &
  local d1=$!
  ip netns exec $S "$TUND" -s -i t0 $flag -t $proto "${sk[@]}" --address 10.5.0.1/24 --link-ip 10.5.0.254 >/dev/null 2>&1 &
  local s=$!
  sleep 0.3
  ip netns exec $S tcpdump --immediate-mode -i t0 -U -w "$WORK/$name-dev.pcap" >/dev/null 2>&1 &
  local d2=$!
  ip netns exec $C "$TUND" -c 198.18.0.1 -i t0 $flag -t $proto "${ck[@]}" --address 10.5.0.2/24 >/dev/null 2>&1 &
  local c=$!
  sleep 1.5
  ip netns exec $C ping -c 3 -i 0.2 -s 100 10.5.0.1 >/dev/null || true
  ip netns exec $S ping -c 2 -i 0.2 10.5.0.254 >/dev/null || true
  ip netns exec $S ping -c 2 -i 0.2 -s 1300 10.5.0.2 >/dev/null || true
  sleep 0.5
  kill $c $s; wait $c $s 2>/dev/null || true
  kill $d1 $d2; wait $d1 $d2 2>/dev/null || true
}
session plain-tun-tcp tun tcp
session plain-tap-udp tap udp
session enc-tun-udp tun udp keys
session enc-tun-tcp tun tcp keys

python3 - "$WORK" "$OUT" <<'PY'
import glob, os, struct, sys
work, out = sys.argv[1], sys.argv[2]
def packets(path):
    data = open(path, 'rb').read()
    link = struct.unpack('<I', data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack('<IIII', data[off:off+16])
        yield link, data[off+16:off+16+incl]
        off += 16 + incl
def l4_payload(link, frame):
    # Linux cooked (113), Ethernet (1) or raw IP (101/228): find IPv4, then UDP/TCP payload
    ip = frame[16:] if link == 113 else frame[14:] if link == 1 else frame
    if not ip or ip[0] >> 4 != 4: return None, None
    ihl = (ip[0] & 15) * 4; proto = ip[9]; total = struct.unpack('!H', ip[2:4])[0]
    l4 = ip[ihl:total]
    if proto == 17: return 'udp', l4[8:]
    if proto == 6: return 'tcp', l4[(l4[12] >> 4) * 4:]
    return None, None
def save(target, name, blob):
    d = os.path.join(out, target); os.makedirs(d, exist_ok=True)
    if blob: open(os.path.join(d, name), 'wb').write(blob)
for path in sorted(glob.glob(os.path.join(work, '*-under.pcap'))):
    tag = os.path.basename(path)[:-11]
    stream = b''
    for i, (link, frame) in enumerate(packets(path)):
        kind, payload = l4_payload(link, frame)
        if kind == 'udp' and payload:
            target = 'fuzz_secure_session' if tag.startswith('enc') else 'fuzz_udp_message'
            save(target, f'{tag}-{i:03d}', payload)
        elif kind == 'tcp' and payload:
            stream += payload
            if tag.startswith('enc'): pass
    if stream:
        save('fuzz_frame_decoder', f'{tag}-stream', b'\x10' + stream[:4096])
        if tag.startswith('enc'):  # each frame's payload is one encrypted message
            off = 0; j = 0
            while off + 2 <= len(stream) and j < 20:
                n = struct.unpack('!H', stream[off:off+2])[0]
                save('fuzz_secure_session', f'{tag}-msg{j:02d}', stream[off+2:off+2+n]); off += 2 + n; j += 1
for path in sorted(glob.glob(os.path.join(work, '*-dev.pcap'))):
    tag = os.path.basename(path)[:-9]
    tap = '-tap-' in tag
    for i, (link, frame) in enumerate(packets(path)):
        if i >= 24: break
        save('fuzz_link_responder', f'{tag}-{i:03d}', (b'\x01' if tap else b'\x00') + frame)
PY
mkdir -p "$OUT/fuzz_config_file" "$OUT/fuzz_keys"
cp "$ROOT/examples/server.conf.in" "$OUT/fuzz_config_file/server.conf"
cp "$ROOT/examples/client.conf.in" "$OUT/fuzz_config_file/client.conf"
cp "$WORK/s.pub" "$OUT/fuzz_keys/public.key"
mkdir -p "$OUT/fuzz_peer_file"
{ echo "# alice's laptop"; echo "public-key = $(cat "$WORK/c.pub")"
  echo "allowed-ips = 10.8.0.2/32, fd00:8::2/128"; echo "allowed-ips = 10.9.0.0/24"
  echo "keepalive = 25"; echo "up = logger \"up \$TUND_PEER_NAME\""; echo "down = logger down"
  echo "disabled = false"; } >"$OUT/fuzz_peer_file/alice"
printf 'public-key = "%s"  # quoted\r\npsk = alice.psk\r\nallowed-ips = 10.8.0.5/30\r\n' \
  "$(cat "$WORK/s.pub")" >"$OUT/fuzz_peer_file/crlf"
{ echo "# allowed clients"; cat "$WORK/c.pub"; echo; cat "$WORK/s.pub"; } >"$OUT/fuzz_keys/allow.list"
find "$OUT" -type f | sed "s|$OUT/||" | cut -d/ -f1 | sort | uniq -c
