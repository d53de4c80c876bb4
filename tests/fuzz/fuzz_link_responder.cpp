// The ARP/IPv4/ICMP/IPv6/ICMPv6/NDP link responder, in TUN and TAP mode, peer up and down,
// with and without an IPv6 link address (fd00::1: the echo6/NDP seeds in the corpus ask
// for it), with a subnet on the device (for the ICMP manners) whose prefix length and
// explicit broadcast come from the first byte too (so the seed corpus keeps its layout).
// Replies must stay within sane sizes: an echo reply within the tunnel MTU, an ICMP error
// within the IPv6 minimum MTU (RFC 4443 2.4(c)), plus the Ethernet header in TAP mode;
// nothing may crash or read past the frame.
#include <algorithm>
#include <cstdlib>

#include "tund/link/responder.hpp"

namespace {

void run(const std::uint8_t* data, std::size_t size, bool with_ipv6) {
  tund::link::ResponderConfig config;
  config.ethernet = data[0] & 1;
  config.link_ip = tund::link::Ipv4{10, 0, 0, 1};
  if (with_ipv6)
    config.link_ip6 = tund::link::Ipv6{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  config.link_mac = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
  config.tunnel_mtu = 1400;
  tund::link::Responder responder(config);
  // Bit 1: a subnet 10.0.0.1/N, N from bits 3-7 (0-31); bit 2: with broadcast 10.0.0.128.
  if (data[0] & 2) {
    tund::link::Ipv4Subnet subnet{{10, 0, 0, 1}, static_cast<unsigned>(data[0] >> 3), {}};
    if (data[0] & 4) subnet.broadcast = tund::link::Ipv4{10, 0, 0, 128};
    responder.set_local_subnets({subnet});
  }
  auto now = tund::link::Responder::Clock::time_point{};
  tund::util::ConstByteSpan frame = tund::util::as_bytes(data + 1, size - 1);
  for (bool peer_up : {true, false}) {
    if (responder.on_device_frame(frame, peer_up, now) == tund::link::Decision::reply &&
        (responder.reply().empty() ||
         responder.reply().size() > std::max<std::size_t>(config.tunnel_mtu, 1280) + 14))
      std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  for (bool with_ipv6 : {false, true}) run(data, size, with_ipv6);
  return 0;
}
