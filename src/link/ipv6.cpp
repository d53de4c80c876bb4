// IPv6: echo to the IPv6 link address (RFC 4443 4.1/4.2), address unreachable while the
// peer is down and packet too big above the tunnel MTU (RFC 4443 3.1, 3.2), never about
// what RFC 4443 2.4(e) forbids. Neighbor Discovery is in ndp.cpp.
#include <algorithm>

#include "tund/link/checksum.hpp"
#include "tund/link/ipv6_chain.hpp"
#include "tund/link/responder.hpp"
#include "tund/util/ip.hpp"
#include "wire.hpp"

namespace tund::link {

using util::kEtherIpv6, util::kIpv6Header, util::kIcmpHeader, util::kProtoIcmp6;
using util::load_be16, util::load_u8, util::store_be16;
using namespace wire;

namespace {
// ICMPv6 errors quote as much of the packet as fits in the IPv6 minimum MTU (RFC 4443 2.4(c)).
constexpr std::size_t kIcmp6ErrorMax = 1280;
constexpr std::uint8_t kEchoRequest = 128, kEchoReply = 129;
}  // namespace

Decision Responder::on_ipv6(util::ConstByteSpan frame, std::size_t l3, bool peer_up,
                            Clock::time_point now) {
  if (frame.size() < l3 + kIpv6Header || util::ip_version(frame.data() + l3) != 6)
    return peer_up ? Decision::forward : Decision::drop;
  const std::byte* ip = frame.data() + l3;
  std::size_t total = kIpv6Header + load_be16(ip + 4);
  bool whole = l3 + total <= frame.size();  // trailing bytes (Ethernet padding) are not ours
  Ipv6Chain chain = whole ? walk_ipv6_chain(frame.subspan(l3, total)) : Ipv6Chain{};
  if (config_.link_ip6) {
    if (config_.ethernet && solicits_link_address(frame, l3, total, chain))
      return on_neighbor_solicitation(frame, l3, total, chain);
    if (same(ip + 24, *config_.link_ip6)) return on_ipv6_to_link(frame, l3, total, chain);
  }
  if (total > config_.tunnel_mtu) {
    if (whole && may_report_ipv6(frame, l3, total, chain, true))
      return icmp6_error(frame, l3, 2, 0, static_cast<std::uint32_t>(config_.tunnel_mtu), now);
    ++stats_.dropped_too_big;
    return Decision::drop;
  }
  if (peer_up) return Decision::forward;
  // No peer for it: "address unreachable" (RFC 4443 3.1, code 3), as ICMP's host
  // unreachable for IPv4; rate-limited and never about an error or a multicast packet.
  if (whole && may_report_ipv6(frame, l3, total, chain, false))
    return icmp6_error(frame, l3, 1, 3, 0, now);
  ++stats_.errors_withheld;
  return Decision::drop;
}

// For the link address: an echo request (RFC 4443 4.1) is answered; anything else (other
// protocols, a chain a final destination may not process, a bad checksum, a multicast,
// unspecified or loopback source, a TAP frame from a group MAC) is dropped and counted.
Decision Responder::on_ipv6_to_link(util::ConstByteSpan frame, std::size_t l3, std::size_t total,
                                    const Ipv6Chain& chain) {
  const std::byte* ip = frame.data() + l3;
  bool icmp = chain.end == Ipv6Chain::End::upper && chain.protocol == kProtoIcmp6 &&
              chain.deliverable && total >= chain.offset + kIcmpHeader;
  bool echo =
      icmp && load_u8(ip + chain.offset) == kEchoRequest && load_u8(ip + chain.offset + 1) == 0 &&
      !unusable_ipv6(ip + 8) && !(config_.ethernet && multicast_mac(frame.data() + 6)) &&
      ipv6_checksum(ip + 8, kProtoIcmp6, frame.subspan(l3 + chain.offset, total - chain.offset)) ==
          0;
  // As for IPv4: a request the tunnel could not carry gets no reply larger than the MTU.
  if (echo && total > config_.tunnel_mtu) {
    ++stats_.dropped_too_big;
    return Decision::drop;
  }
  if (echo) return echo6_reply(frame, l3, chain.offset, total);
  ++stats_.ignored_malformed;
  return Decision::drop;
}

// RFC 4443 4.2: the request's data returned unmodified, from the link address back to the
// sender, without the request's extension headers; the traffic class is reflected (as
// Linux does), the flow label left 0.
Decision Responder::echo6_reply(util::ConstByteSpan frame, std::size_t l3, std::size_t icmp_at,
                                std::size_t total) {
  const std::byte* orig = frame.data() + l3;
  std::size_t length = total - icmp_at;
  begin_reply(frame, kEtherIpv6);
  std::size_t at = reply_.size();
  reply_.resize(at + kIpv6Header, std::byte{0});
  std::byte* ip = reply_.data() + at;
  ip[0] = orig[0];                    // version 6, traffic class high nibble
  ip[1] = orig[1] & std::byte{0xf0};  // traffic class low nibble; flow label 0
  store_be16(ip + 4, static_cast<std::uint16_t>(length));
  ip[6] = std::byte{kProtoIcmp6};
  ip[7] = std::byte{kTtl};
  std::copy(orig + 8, orig + 24, std::copy_n(bytes_of(*config_.link_ip6).data(), 16, ip + 8));
  append(reply_, orig + icmp_at, length);
  ip = reply_.data() + at;  // the append may have moved it
  std::byte* icmp = ip + kIpv6Header;
  icmp[0] = std::byte{kEchoReply};
  store_be16(icmp + 2, 0);
  store_be16(icmp + 2, ipv6_checksum(ip + 8, kProtoIcmp6, {icmp, length}));
  ++stats_.echo_replies;
  return Decision::reply;
}

// Packet Too Big is the one ICMPv6 error allowed for multicast (RFC 4443 2.4(e.3)), but it
// would have to come from the multicast destination, and an error is never sent from a
// group address: so none for multicast here either. None about an ICMPv6 error (also
// behind extension headers), a later fragment, a chain that is truncated or not understood,
// a packet from a non-unicast source, and (TAP) a frame from a group MAC or, except Packet
// Too Big (RFC 4443 2.4(e.2), (e.3)), one sent to a group MAC.
bool Responder::may_report_ipv6(util::ConstByteSpan frame, std::size_t l3, std::size_t total,
                                const Ipv6Chain& chain, bool too_big) const {
  const std::byte* ip = frame.data() + l3;
  if (unusable_ipv6(ip + 8) || load_u8(ip + 24) == 0xff) return false;
  if (config_.ethernet &&
      (multicast_mac(frame.data() + 6) || (!too_big && multicast_mac(frame.data()))))
    return false;
  if (chain.end != Ipv6Chain::End::upper) return false;
  if (chain.protocol != kProtoIcmp6) return true;
  return total > chain.offset && load_u8(ip + chain.offset) >= 128;  // types < 128: errors
}

Decision Responder::icmp6_error(util::ConstByteSpan frame, std::size_t l3, std::uint8_t type,
                                std::uint8_t code, std::uint32_t param, Clock::time_point now) {
  if (!allow_error(now)) return Decision::drop;
  const std::byte* orig = frame.data() + l3;
  std::size_t total = kIpv6Header + load_be16(orig + 4);
  std::size_t quoted = std::min(total, kIcmp6ErrorMax - kIpv6Header - kIcmpHeader);
  begin_reply(frame, kEtherIpv6);
  std::size_t at = reply_.size();
  reply_.resize(at + kIpv6Header + kIcmpHeader + quoted, std::byte{0});
  std::byte* ip = reply_.data() + at;
  ip[0] = std::byte{0x60};
  store_be16(ip + 4, static_cast<std::uint16_t>(kIcmpHeader + quoted));
  ip[6] = std::byte{kProtoIcmp6};
  ip[7] = std::byte{kTtl};
  // From the IPv6 link address, as IPv4 errors come from the IPv4 one; without one, from
  // the address the packet was for. Back to the packet's sender.
  if (config_.link_ip6)
    std::copy_n(bytes_of(*config_.link_ip6).data(), 16, ip + 8);
  else
    std::copy(orig + 24, orig + 40, ip + 8);
  std::copy(orig + 8, orig + 24, ip + 24);
  std::byte* icmp = ip + kIpv6Header;
  icmp[0] = std::byte{type};
  icmp[1] = std::byte{code};
  util::store_be32(icmp + 4, param);
  std::copy(orig, orig + quoted, icmp + kIcmpHeader);
  store_be16(icmp + 2, ipv6_checksum(ip + 8, kProtoIcmp6, {icmp, kIcmpHeader + quoted}));
  if (type == 2)
    ++stats_.too_big_sent;
  else
    ++stats_.unreachable_sent;
  return Decision::reply;
}

}  // namespace tund::link
