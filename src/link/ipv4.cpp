// IPv4: echo to the link address (RFC 792), host unreachable while the peer is down and
// fragmentation needed for a DF packet above the tunnel MTU, with the ICMP manners of
// RFC 1122 3.2.2 / RFC 1812 4.3.2.7.
#include <algorithm>

#include "tund/link/checksum.hpp"
#include "tund/link/responder.hpp"
#include "tund/util/ip.hpp"
#include "wire.hpp"

namespace tund::link {

using util::kEthernetHeader, util::kEtherIpv4;
using util::kIpv4MinHeader, util::kIcmpHeader, util::kProtoIcmp;
using util::load_be16, util::load_u8, util::store_be16;
using namespace wire;

namespace {

// ICMP errors quote the offending packet: up to 576 bytes in all (RFC 1812 4.3.2.3).
constexpr std::size_t kIcmp4ErrorMax = 576;

struct Ipv4Header {
  std::size_t ihl = 0, total = 0;
  bool valid = false;
};

// Checks an IPv4 header at frame[l3...]: version, header length, total length, checksum.
Ipv4Header parse_ipv4_header(util::ConstByteSpan frame, std::size_t l3) {
  Ipv4Header h;
  if (frame.size() < l3 + kIpv4MinHeader) return h;
  const std::byte* ip = frame.data() + l3;
  if (util::ip_version(ip) != 4) return h;
  h.ihl = util::ipv4_header_length(ip);
  h.total = load_be16(ip + 2);
  if (h.ihl < kIpv4MinHeader || h.total < h.ihl || l3 + h.total > frame.size()) return h;
  h.valid = checksum({ip, h.ihl}) == 0;
  return h;
}

bool is_fragment(const std::byte* ip) {
  return (load_be16(ip + 6) & 0x3fff) != 0;
}  // MF|offset
bool dont_fragment(const std::byte* ip) {
  return (load_be16(ip + 6) & 0x4000) != 0;
}

// ICMP messages that must never trigger an ICMP error (RFC 1122 3.2.2): errors themselves.
bool is_icmp_error(util::ConstByteSpan frame, std::size_t l3, const Ipv4Header& h) {
  const std::byte* ip = frame.data() + l3;
  if (load_u8(ip + 9) != kProtoIcmp || h.total < h.ihl + 1) return false;
  std::uint8_t type = load_u8(ip + h.ihl);
  return !(type == 0 || type == 8 || type == 13 || type == 14);  // echo/timestamp only
}

}  // namespace

Decision Responder::on_ipv4(util::ConstByteSpan frame, std::size_t l3, bool peer_up,
                            Clock::time_point now) {
  Ipv4Header h = parse_ipv4_header(frame, l3);
  const std::byte* ip = frame.data() + l3;
  bool to_link =
      config_.link_ip && frame.size() >= l3 + kIpv4MinHeader && same(ip + 16, *config_.link_ip);
  if (to_link) {
    bool echo = h.valid && h.ihl == kIpv4MinHeader && load_u8(ip + 9) == kProtoIcmp &&
                !is_fragment(ip) && !unusable_ipv4(ip + 12) && h.total >= h.ihl + kIcmpHeader &&
                load_u8(ip + h.ihl) == 8 && load_u8(ip + h.ihl + 1) == 0 &&
                checksum({ip + h.ihl, h.total - h.ihl}) == 0;
    // A request larger than the link MTU (the device's MTU raised past the tunnel's) is
    // dropped like any packet too big for the link, so no reply ever exceeds the MTU.
    if (echo && h.total > config_.tunnel_mtu) {
      ++stats_.dropped_too_big;
      return Decision::drop;
    }
    if (echo && (!config_.ethernet || !multicast_mac(frame.data() + 6)))
      return echo_reply(frame, l3, h.ihl, h.total);
    ++stats_.ignored_malformed;
    return Decision::drop;
  }
  if (!h.valid) return peer_up ? Decision::forward : Decision::drop;
  bool reportable = may_report_ipv4(frame, l3, h.ihl, h.total);
  if (h.total > config_.tunnel_mtu) {
    if (dont_fragment(ip) && reportable)
      return icmp4_error(frame, l3, 3, 4, static_cast<std::uint16_t>(config_.tunnel_mtu), now);
    if (dont_fragment(ip)) ++stats_.errors_withheld;
    ++stats_.dropped_too_big;
    return Decision::drop;
  }
  if (peer_up) return Decision::forward;
  if (reportable) return icmp4_error(frame, l3, 3, 1, 0, now);
  ++stats_.errors_withheld;
  return Decision::drop;
}

// Whether an ICMP error about this (valid) IPv4 packet may be sent at all: only about a
// unicast packet from a unicast source, never about a later fragment or an ICMP error.
bool Responder::may_report_ipv4(util::ConstByteSpan frame, std::size_t l3, std::size_t ihl,
                                std::size_t total) const {
  const std::byte *ip = frame.data() + l3, *source = ip + 12, *destination = ip + 16;
  if (unusable_ipv4(source) || unusable_ipv4(destination)) return false;
  if (subnet_broadcast(source) || subnet_broadcast(destination)) return false;
  // TAP: sent to the link-layer broadcast/multicast, or from a group MAC.
  if (config_.ethernet && (multicast_mac(frame.data()) || multicast_mac(frame.data() + 6)))
    return false;
  bool later_fragment = (load_be16(ip + 6) & 0x1fff) != 0;
  return !later_fragment && !is_icmp_error(frame, l3, {ihl, total, true});
}

// The directed broadcast of a subnet on the device, or its all-zeros host (the old BSD
// broadcast, RFC 1122 3.3.6). /31 and /32 have neither (RFC 3021).
bool Responder::subnet_broadcast(const std::byte* address) const {
  std::uint32_t a = util::load_be32(address);
  for (const Ipv4Subnet& subnet : subnets_) {
    if (subnet.broadcast && same(address, *subnet.broadcast)) return true;
    if (subnet.prefix_len > 30) continue;
    std::uint32_t mask = subnet.prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - subnet.prefix_len);
    std::uint32_t net = util::load_be32(bytes_of(subnet.address).data()) & mask;
    if ((a & mask) == net && ((a & ~mask) == ~mask || (a & ~mask) == 0)) return true;
  }
  return false;
}

Decision Responder::echo_reply(util::ConstByteSpan frame, std::size_t l3, std::size_t ihl,
                               std::size_t total) {
  begin_reply(frame, kEtherIpv4);
  std::size_t at = reply_.size();
  append(reply_, frame.data() + l3, total);
  std::byte* ip = reply_.data() + at;
  std::swap_ranges(ip + 12, ip + 16, ip + 16);  // source <-> destination
  ip[8] = std::byte{kTtl};
  store_be16(ip + 10, 0);
  store_be16(ip + 10, checksum({ip, ihl}));
  std::byte* icmp = ip + ihl;
  icmp[0] = std::byte{0};  // echo reply; code, id, sequence and payload stay as they were
  store_be16(icmp + 2, 0);
  store_be16(icmp + 2, checksum({icmp, total - ihl}));
  ++stats_.echo_replies;
  return Decision::reply;
}

Decision Responder::icmp4_error(util::ConstByteSpan frame, std::size_t l3, std::uint8_t type,
                                std::uint8_t code, std::uint16_t mtu, Clock::time_point now) {
  const std::byte* orig = frame.data() + l3;
  // From the link address; without one, from the address the packet was for.
  std::array<std::byte, 4> link_ip = bytes_of(config_.link_ip.value_or(Ipv4{}));
  const std::byte* source = config_.link_ip ? link_ip.data() : orig + 16;
  if (unusable_ipv4(source) || subnet_broadcast(source)) {
    ++stats_.errors_withheld;
    return Decision::drop;
  }
  if (!allow_error(now)) return Decision::drop;
  std::size_t quoted =
      std::min<std::size_t>(load_be16(orig + 2), kIcmp4ErrorMax - kIpv4MinHeader - kIcmpHeader);
  begin_reply(frame, kEtherIpv4);
  std::size_t at = reply_.size();
  reply_.resize(at + kIpv4MinHeader + kIcmpHeader + quoted, std::byte{0});
  std::byte* ip = reply_.data() + at;
  ip[0] = std::byte{0x45};
  ip[1] = std::byte{0xc0};  // network control, as routers mark their ICMP
  store_be16(ip + 2, static_cast<std::uint16_t>(kIpv4MinHeader + kIcmpHeader + quoted));
  ip[8] = std::byte{kTtl};
  ip[9] = std::byte{kProtoIcmp};
  std::copy(source, source + 4, ip + 12);
  std::copy(orig + 12, orig + 16, ip + 16);
  store_be16(ip + 10, checksum({ip, kIpv4MinHeader}));
  std::byte* icmp = ip + kIpv4MinHeader;
  icmp[0] = std::byte{type};
  icmp[1] = std::byte{code};
  store_be16(icmp + 6, mtu);  // next-hop MTU for "fragmentation needed", else zero
  std::copy(orig, orig + quoted, icmp + kIcmpHeader);
  store_be16(icmp + 2, checksum({icmp, kIcmpHeader + quoted}));
  if (code == 4)
    ++stats_.too_big_sent;
  else
    ++stats_.unreachable_sent;
  return Decision::reply;
}

}  // namespace tund::link
