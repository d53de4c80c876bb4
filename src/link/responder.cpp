#include "tund/link/responder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include "tund/link/checksum.hpp"

namespace tund::link {
namespace {

constexpr std::size_t kEthHeader = 14;
constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherArp = 0x0806, kEtherIpv6 = 0x86dd;
constexpr std::size_t kArpSize = 28;
constexpr std::size_t kIpv4Header = 20, kIpv6Header = 40, kIcmpHeader = 8;
constexpr std::uint8_t kProtoIcmp = 1, kProtoIcmp6 = 58, kProtoFragment = 44;
constexpr std::uint8_t kTtl = 64;
// ICMP errors quote the offending packet: up to 576 bytes in all for IPv4 (RFC 1812) and
// up to the IPv6 minimum MTU of 1280 for ICMPv6 (RFC 4443).
constexpr std::size_t kIcmp4ErrorMax = 576, kIcmp6ErrorMax = 1280;

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// Addresses no reply may ever be sent to (or claimed from).
bool unusable_ipv4(const std::uint8_t* a) {
  return (a[0] == 0) || (a[0] >= 224) ||  // this-network, multicast, class E, broadcast
         (a[0] == 127);
}
bool multicast_mac(const std::uint8_t* m) {
  return (m[0] & 1) != 0;
}
bool unusable_ipv6(const std::uint8_t* a) {
  bool zero_prefix = std::all_of(a, a + 15, [](std::uint8_t b) { return b == 0; });
  bool unspecified_or_loopback = zero_prefix && (a[15] == 0 || a[15] == 1);
  return unspecified_or_loopback || a[0] == 0xff;
}

struct Ipv4Header {
  std::size_t ihl = 0, total = 0;
  bool valid = false;
};

// Checks an IPv4 header at frame[l3...]: version, header length, total length, checksum.
Ipv4Header parse_ipv4_header(std::span<const std::uint8_t> frame, std::size_t l3) {
  Ipv4Header h;
  if (frame.size() < l3 + kIpv4Header) return h;
  const std::uint8_t* ip = frame.data() + l3;
  if ((ip[0] >> 4) != 4) return h;
  h.ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
  h.total = be16(ip + 2);
  if (h.ihl < kIpv4Header || h.total < h.ihl || l3 + h.total > frame.size()) return h;
  h.valid = checksum(ip, h.ihl) == 0;
  return h;
}

bool is_fragment(const std::uint8_t* ip) {
  return (be16(ip + 6) & 0x3fff) != 0;
}  // MF|offset
bool dont_fragment(const std::uint8_t* ip) {
  return (be16(ip + 6) & 0x4000) != 0;
}

// ICMP messages that must never trigger an ICMP error (RFC 1122 3.2.2): errors themselves.
bool is_icmp_error(std::span<const std::uint8_t> frame, std::size_t l3, const Ipv4Header& h) {
  const std::uint8_t* ip = frame.data() + l3;
  if (ip[9] != kProtoIcmp || h.total < h.ihl + 1) return false;
  std::uint8_t type = ip[h.ihl];
  return !(type == 0 || type == 8 || type == 13 || type == 14);  // echo/timestamp only
}

}  // namespace

Responder::Responder(ResponderConfig config)
    : config_(config), tokens_(config.unreachable_per_second) {}

bool Responder::allow_error(Clock::time_point now) {
  double elapsed = std::chrono::duration<double>(now - last_refill_).count();
  last_refill_ = now;
  tokens_ =
      std::min(config_.unreachable_per_second, tokens_ + elapsed * config_.unreachable_per_second);
  if (tokens_ < 1) {
    ++stats_.errors_rate_limited;
    return false;
  }
  tokens_ -= 1;
  return true;
}

// TAP replies start with an Ethernet header back to the sender, from the link MAC.
void Responder::begin_reply(std::span<const std::uint8_t> frame, std::uint16_t ethertype) {
  reply_.clear();
  if (!config_.ethernet) return;
  reply_.insert(reply_.end(), frame.begin() + 6, frame.begin() + 12);
  reply_.insert(reply_.end(), config_.link_mac.begin(), config_.link_mac.end());
  reply_.push_back(static_cast<std::uint8_t>(ethertype >> 8));
  reply_.push_back(static_cast<std::uint8_t>(ethertype));
}

Decision Responder::on_device_frame(std::span<const std::uint8_t> frame, bool peer_up,
                                    Clock::time_point now) {
  if (!config_.ethernet) {
    if (frame.empty()) return Decision::drop;
    switch (frame[0] >> 4) {
      case 4:
        return on_ipv4(frame, 0, peer_up, now);
      case 6:
        return on_ipv6(frame, 0, peer_up, now);
      default:
        return peer_up ? Decision::forward : Decision::drop;
    }
  }
  if (frame.size() < kEthHeader) return Decision::drop;
  switch (be16(frame.data() + 12)) {
    case kEtherArp:
      return on_arp(frame);
    case kEtherIpv4:
      return on_ipv4(frame, kEthHeader, peer_up, now);
    case kEtherIpv6:
      return on_ipv6(frame, kEthHeader, peer_up, now);
    default:
      return peer_up ? Decision::forward : Decision::drop;
  }
}

// ---- ARP --------------------------------------------------------------------------------

Decision Responder::on_arp(std::span<const std::uint8_t> eth) {
  if (eth.size() < kEthHeader + kArpSize) return Decision::forward;
  const std::uint8_t* arp = eth.data() + kEthHeader;
  bool ethernet_ipv4 = be16(arp) == 1 && be16(arp + 2) == kEtherIpv4 && arp[4] == 6 && arp[5] == 4;
  bool for_us = config_.link_ip && std::equal(arp + 24, arp + 28, config_.link_ip->begin());
  if (!for_us) return Decision::forward;  // someone else's ARP: the far side may answer it
  const std::uint8_t *sha = arp + 8, *spa = arp + 14;
  bool request = be16(arp + 6) == 1;
  bool gratuitous = std::equal(spa, spa + 4, arp + 24);
  if (!ethernet_ipv4 || !request || gratuitous || multicast_mac(sha) ||
      multicast_mac(eth.data() + 6)) {
    ++stats_.ignored_malformed;
    return Decision::drop;
  }
  begin_reply(eth, kEtherArp);
  const std::uint8_t header[8] = {0, 1, 0x08, 0x00, 6, 4, 0, 2};  // Ethernet/IPv4, reply
  reply_.insert(reply_.end(), header, header + 8);
  reply_.insert(reply_.end(), config_.link_mac.begin(), config_.link_mac.end());
  reply_.insert(reply_.end(), config_.link_ip->begin(), config_.link_ip->end());
  reply_.insert(reply_.end(), sha, sha + 6);
  reply_.insert(reply_.end(), spa, spa + 4);
  ++stats_.arp_replies;
  return Decision::reply;
}

// ---- IPv4 -------------------------------------------------------------------------------

Decision Responder::on_ipv4(std::span<const std::uint8_t> frame, std::size_t l3, bool peer_up,
                            Clock::time_point now) {
  Ipv4Header h = parse_ipv4_header(frame, l3);
  const std::uint8_t* ip = frame.data() + l3;
  bool to_link = config_.link_ip && frame.size() >= l3 + kIpv4Header &&
                 std::equal(ip + 16, ip + 20, config_.link_ip->begin());
  if (to_link) {
    bool echo = h.valid && h.ihl == kIpv4Header && ip[9] == kProtoIcmp && !is_fragment(ip) &&
                !unusable_ipv4(ip + 12) && h.total >= h.ihl + kIcmpHeader && ip[h.ihl] == 8 &&
                ip[h.ihl + 1] == 0 && checksum(ip + h.ihl, h.total - h.ihl) == 0;
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
bool Responder::may_report_ipv4(std::span<const std::uint8_t> frame, std::size_t l3,
                                std::size_t ihl, std::size_t total) const {
  const std::uint8_t *ip = frame.data() + l3, *source = ip + 12, *destination = ip + 16;
  if (unusable_ipv4(source) || unusable_ipv4(destination)) return false;
  if (subnet_broadcast(source) || subnet_broadcast(destination)) return false;
  // TAP: sent to the link-layer broadcast/multicast, or from a group MAC.
  if (config_.ethernet && (multicast_mac(frame.data()) || multicast_mac(frame.data() + 6)))
    return false;
  bool later_fragment = (be16(ip + 6) & 0x1fff) != 0;
  return !later_fragment && !is_icmp_error(frame, l3, {ihl, total, true});
}

// The directed broadcast of a subnet on the device, or its all-zeros host (the old BSD
// broadcast, RFC 1122 3.3.6). /31 and /32 have neither (RFC 3021).
bool Responder::subnet_broadcast(const std::uint8_t* address) const {
  std::uint32_t a = std::uint32_t{address[0]} << 24 | std::uint32_t{address[1]} << 16 |
                    std::uint32_t{address[2]} << 8 | address[3];
  for (const Ipv4Subnet& subnet : subnets_) {
    if (subnet.broadcast && std::equal(subnet.broadcast->begin(), subnet.broadcast->end(), address))
      return true;
    if (subnet.prefix_len > 30) continue;
    std::uint32_t mask = subnet.prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - subnet.prefix_len);
    const Ipv4& n = subnet.address;
    std::uint32_t net =
        (std::uint32_t{n[0]} << 24 | std::uint32_t{n[1]} << 16 | std::uint32_t{n[2]} << 8 | n[3]) &
        mask;
    if ((a & mask) == net && ((a & ~mask) == ~mask || (a & ~mask) == 0)) return true;
  }
  return false;
}

Decision Responder::echo_reply(std::span<const std::uint8_t> frame, std::size_t l3, std::size_t ihl,
                               std::size_t total) {
  begin_reply(frame, kEtherIpv4);
  std::size_t at = reply_.size();
  reply_.insert(reply_.end(), frame.begin() + static_cast<long>(l3),
                frame.begin() + static_cast<long>(l3 + total));
  std::uint8_t* ip = reply_.data() + at;
  std::swap_ranges(ip + 12, ip + 16, ip + 16);  // source <-> destination
  ip[8] = kTtl;
  put16(ip + 10, 0);
  put16(ip + 10, checksum(ip, ihl));
  std::uint8_t* icmp = ip + ihl;
  icmp[0] = 0;  // echo reply; code, id, sequence and payload stay as they were
  put16(icmp + 2, 0);
  put16(icmp + 2, checksum(icmp, total - ihl));
  ++stats_.echo_replies;
  return Decision::reply;
}

Decision Responder::icmp4_error(std::span<const std::uint8_t> frame, std::size_t l3,
                                std::uint8_t type, std::uint8_t code, std::uint16_t mtu,
                                Clock::time_point now) {
  const std::uint8_t* orig = frame.data() + l3;
  // From the link address; without one, from the address the packet was for.
  const std::uint8_t* source = config_.link_ip ? config_.link_ip->data() : orig + 16;
  if (unusable_ipv4(source) || subnet_broadcast(source)) {
    ++stats_.errors_withheld;
    return Decision::drop;
  }
  if (!allow_error(now)) return Decision::drop;
  std::size_t quoted =
      std::min<std::size_t>(be16(orig + 2), kIcmp4ErrorMax - kIpv4Header - kIcmpHeader);
  begin_reply(frame, kEtherIpv4);
  std::size_t at = reply_.size();
  reply_.resize(at + kIpv4Header + kIcmpHeader + quoted, 0);
  std::uint8_t* ip = reply_.data() + at;
  ip[0] = 0x45;
  ip[1] = 0xc0;  // network control, as routers mark their ICMP
  put16(ip + 2, static_cast<std::uint16_t>(kIpv4Header + kIcmpHeader + quoted));
  ip[8] = kTtl;
  ip[9] = kProtoIcmp;
  std::copy(source, source + 4, ip + 12);
  std::copy(orig + 12, orig + 16, ip + 16);
  put16(ip + 10, checksum(ip, kIpv4Header));
  std::uint8_t* icmp = ip + kIpv4Header;
  icmp[0] = type;
  icmp[1] = code;
  put16(icmp + 6, mtu);  // next-hop MTU for "fragmentation needed", else zero
  std::copy(orig, orig + quoted, icmp + kIcmpHeader);
  put16(icmp + 2, checksum(icmp, kIcmpHeader + quoted));
  if (code == 4)
    ++stats_.too_big_sent;
  else
    ++stats_.unreachable_sent;
  return Decision::reply;
}

// ---- IPv6 -------------------------------------------------------------------------------

Decision Responder::on_ipv6(std::span<const std::uint8_t> frame, std::size_t l3, bool peer_up,
                            Clock::time_point now) {
  if (frame.size() < l3 + kIpv6Header || (frame[l3] >> 4) != 6)
    return peer_up ? Decision::forward : Decision::drop;
  std::size_t total = kIpv6Header + be16(frame.data() + l3 + 4);
  if (total > config_.tunnel_mtu) {
    if (l3 + total <= frame.size() && may_report_ipv6(frame, l3))
      return icmp6_too_big(frame, l3, now);
    ++stats_.dropped_too_big;
    return Decision::drop;
  }
  return peer_up ? Decision::forward : Decision::drop;
}

// Packet Too Big is the one ICMPv6 error allowed for multicast (RFC 4443 2.4(e.3)), but it
// would have to come from the multicast destination, and an error is never sent from a
// group address: so none for multicast here either. None about an ICMPv6 error, a later
// fragment, or a packet from a non-unicast source.
bool Responder::may_report_ipv6(std::span<const std::uint8_t> frame, std::size_t l3) const {
  const std::uint8_t* ip = frame.data() + l3;
  if (unusable_ipv6(ip + 8) || ip[24] == 0xff) return false;
  bool has_next = frame.size() >= l3 + kIpv6Header + 8;
  const std::uint8_t* next = ip + kIpv6Header;
  if (ip[6] == kProtoIcmp6 && has_next && next[0] < 128) return false;  // types < 128: errors
  if (ip[6] == kProtoFragment && has_next && (be16(next + 2) & 0xfff8) != 0) return false;
  return true;
}

Decision Responder::icmp6_too_big(std::span<const std::uint8_t> frame, std::size_t l3,
                                  Clock::time_point now) {
  if (!allow_error(now)) return Decision::drop;
  const std::uint8_t* orig = frame.data() + l3;
  std::size_t total = kIpv6Header + be16(orig + 4);
  std::size_t quoted = std::min(total, kIcmp6ErrorMax - kIpv6Header - kIcmpHeader);
  begin_reply(frame, kEtherIpv6);
  std::size_t at = reply_.size();
  reply_.resize(at + kIpv6Header + kIcmpHeader + quoted, 0);
  std::uint8_t* ip = reply_.data() + at;
  ip[0] = 0x60;
  put16(ip + 4, static_cast<std::uint16_t>(kIcmpHeader + quoted));
  ip[6] = kProtoIcmp6;
  ip[7] = kTtl;
  std::copy(orig + 24, orig + 40, ip + 8);  // from the address the packet was for
  std::copy(orig + 8, orig + 24, ip + 24);  // back to its sender
  std::uint8_t* icmp = ip + kIpv6Header;
  icmp[0] = 2;  // packet too big
  auto mtu = static_cast<std::uint32_t>(config_.tunnel_mtu);
  put16(icmp + 4, static_cast<std::uint16_t>(mtu >> 16));
  put16(icmp + 6, static_cast<std::uint16_t>(mtu));
  std::copy(orig, orig + quoted, icmp + kIcmpHeader);
  // Checksum over the pseudo-header (source, destination, length, next header) + message.
  std::uint32_t sum = checksum_add(0, ip + 8, 32);
  std::uint8_t tail[8] = {0, 0, 0, 0, 0, 0, 0, kProtoIcmp6};
  put16(tail + 2, static_cast<std::uint16_t>(kIcmpHeader + quoted));
  sum = checksum_add(sum, tail, sizeof tail);
  put16(icmp + 2, checksum_finish(checksum_add(sum, icmp, kIcmpHeader + quoted)));
  ++stats_.too_big_sent;
  return Decision::reply;
}

// ---- helpers ----------------------------------------------------------------------------

Mac mac_from_name(const std::string& name) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  Mac mac{0x02};
  for (std::size_t i = 1; i < 6; ++i) mac[i] = static_cast<std::uint8_t>(h >> (8 * i));
  return mac;
}

std::optional<Mac> parse_mac(const std::string& text) {
  Mac mac;
  unsigned b[6];
  char extra;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                  &b[5], &extra) != 6)
    return std::nullopt;
  for (std::size_t i = 0; i < 6; ++i) mac[i] = static_cast<std::uint8_t>(b[i]);
  if (multicast_mac(mac.data())) return std::nullopt;
  return mac;
}

std::optional<Ipv4> parse_ipv4(const std::string& text) {
  Ipv4 ip;
  if (inet_pton(AF_INET, text.c_str(), ip.data()) != 1) return std::nullopt;
  return ip;
}

}  // namespace tund::link
