// The ARP/IPv4/ICMP/IPv6 link responder, in TUN and TAP mode, peer up and down. Replies
// must stay within sane sizes; nothing may crash.
#include <cstdlib>

#include "tund/link/responder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  tund::link::ResponderConfig config;
  config.ethernet = data[0] & 1;
  config.link_ip = tund::link::Ipv4{10, 0, 0, 1};
  config.link_mac = {0x02, 0, 0, 0, 0, 1};
  config.tunnel_mtu = 1400;
  tund::link::Responder responder(config);
  auto now = tund::link::Responder::Clock::time_point{};
  std::span<const std::uint8_t> frame(data + 1, size - 1);
  for (bool peer_up : {true, false}) {
    if (responder.on_device_frame(frame, peer_up, now) == tund::link::Decision::reply &&
        (responder.reply().empty() || responder.reply().size() > 1280 + 14))
      std::abort();
  }
  return 0;
}
