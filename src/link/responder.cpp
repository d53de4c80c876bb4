#include "tund/link/responder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include "tund/link/checksum.hpp"
#include "tund/util/ip.hpp"

namespace tund::link {
namespace {

using util::kEthernetHeader, util::kEtherIpv4, util::kEtherArp, util::kEtherIpv6;
using util::kIpv4MinHeader, util::kIpv6Header, util::kIcmpHeader;
using util::kProtoIcmp, util::kProtoIcmp6, util::kProtoIpv6Fragment;
using util::load_be16, util::load_u8, util::store_be16;

constexpr std::size_t kArpSize = 28;
constexpr std::uint8_t kTtl = 64;
// ICMP errors quote the offending packet: up to 576 bytes in all for IPv4 (RFC 1812) and
// up to the IPv6 minimum MTU of 1280 for ICMPv6 (RFC 4443).
constexpr std::size_t kIcmp4ErrorMax = 576, kIcmp6ErrorMax = 1280;

// Addresses and MACs from the config are values (std::uint8_t arrays, as in_addr is);
// frames are bytes. These compare and copy across the two.
template <std::size_t N>
bool same(const std::byte* bytes, const std::array<std::uint8_t, N>& value) {
  return std::equal(value.begin(), value.end(), bytes,
                    [](std::uint8_t v, std::byte b) { return std::byte{v} == b; });
}
template <std::size_t N>
void append(std::vector<std::byte>& out, const std::array<std::uint8_t, N>& value) {
  for (std::uint8_t v : value) out.push_back(std::byte{v});
}
std::array<std::byte, 4> bytes_of(const Ipv4& address) {
  std::array<std::byte, 4> out{};
  std::transform(address.begin(), address.end(), out.begin(),
                 [](std::uint8_t v) { return std::byte{v}; });
  return out;
}
// Grown with resize + copy, not insert: GCC 12 at -O3 with _FORTIFY_SOURCE reports a false
// -Wstringop-overflow for a range insert into a just-cleared vector (a -Werror Release build).
void append(std::vector<std::byte>& out, const std::byte* bytes, std::size_t size) {
  std::size_t at = out.size();
  out.resize(at + size);
  std::copy_n(bytes, size, out.data() + at);
}

// Addresses no reply may ever be sent to (or claimed from).
bool unusable_ipv4(const std::byte* a) {
  std::uint8_t first = load_u8(a);
  return (first == 0) || (first >= 224) ||  // this-network, multicast, class E, broadcast
         (first == 127);
}
bool multicast_mac(std::uint8_t first_octet) {
  return (first_octet & 1) != 0;
}
bool multicast_mac(const std::byte* m) {
  return multicast_mac(load_u8(m));
}
bool unusable_ipv6(const std::byte* a) {
  bool zero_prefix = std::all_of(a, a + 15, [](std::byte b) { return b == std::byte{0}; });
  bool unspecified_or_loopback = zero_prefix && (load_u8(a + 15) == 0 || load_u8(a + 15) == 1);
  return unspecified_or_loopback || load_u8(a) == 0xff;
}

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

// A burst of one second's worth of errors, then the steady rate.
Responder::Responder(ResponderConfig config)
    : config_(config),
      error_budget_(config.unreachable_per_second, config.unreachable_per_second) {}

bool Responder::allow_error(Clock::time_point now) {
  if (error_budget_.allow(now)) return true;
  ++stats_.errors_rate_limited;
  return false;
}

// TAP replies start with an Ethernet header back to the sender, from the link MAC.
void Responder::begin_reply(util::ConstByteSpan frame, std::uint16_t ethertype) {
  reply_.clear();
  if (!config_.ethernet) return;
  append(reply_, frame.data() + 6, 6);
  append(reply_, config_.link_mac);
  reply_.resize(reply_.size() + 2);
  store_be16(reply_.data() + reply_.size() - 2, ethertype);
}

Destination destination_of(util::ConstByteSpan frame, bool ethernet) {
  Destination d;
  std::size_t l3 = ethernet ? kEthernetHeader : 0;
  if (frame.size() < l3) return d;
  if (ethernet) std::copy_n(frame.data(), d.mac.size(), d.mac.begin());
  if (frame.size() < l3 + 1) return d;
  unsigned version = util::ip_version(frame.data() + l3);
  std::size_t offset = version == 4 ? 16 : 24, size = version == 4 ? 4 : 16;
  if ((version != 4 && version != 6) || frame.size() < l3 + offset + size) return d;
  d.family = static_cast<int>(version);
  std::copy_n(frame.data() + l3 + offset, size, d.address.begin());
  return d;
}

namespace {

// One answer for every destination.
class FixedReachability final : public Reachability {
 public:
  explicit FixedReachability(bool up) : up_(up) {}
  bool peer_up_for(const Destination&) const override { return up_; }

 private:
  bool up_;
};

}  // namespace

Decision Responder::on_device_frame(util::ConstByteSpan frame, bool peer_up,
                                    Clock::time_point now) {
  return on_device_frame(frame, FixedReachability(peer_up), now);
}

Decision Responder::on_device_frame(util::ConstByteSpan frame, const Reachability& paths,
                                    Clock::time_point now) {
  bool peer_up = paths.peer_up_for(destination_of(frame, config_.ethernet));
  if (!config_.ethernet) {
    if (frame.empty()) return Decision::drop;
    switch (util::ip_version(frame.data())) {
      case 4:
        return on_ipv4(frame, 0, peer_up, now);
      case 6:
        return on_ipv6(frame, 0, peer_up, now);
      default:
        return peer_up ? Decision::forward : Decision::drop;
    }
  }
  if (frame.size() < kEthernetHeader) return Decision::drop;
  switch (load_be16(frame.data() + util::kEthernetTypeOffset)) {
    case kEtherArp:
      return on_arp(frame);
    case kEtherIpv4:
      return on_ipv4(frame, kEthernetHeader, peer_up, now);
    case kEtherIpv6:
      return on_ipv6(frame, kEthernetHeader, peer_up, now);
    default:
      return peer_up ? Decision::forward : Decision::drop;
  }
}

// ---- ARP --------------------------------------------------------------------------------

Decision Responder::on_arp(util::ConstByteSpan eth) {
  if (eth.size() < kEthernetHeader + kArpSize) return Decision::forward;
  const std::byte* arp = eth.data() + kEthernetHeader;
  bool ethernet_ipv4 = load_be16(arp) == 1 && load_be16(arp + 2) == kEtherIpv4 &&
                       load_u8(arp + 4) == 6 && load_u8(arp + 5) == 4;
  bool for_us = config_.link_ip && same(arp + 24, *config_.link_ip);
  if (!for_us) return Decision::forward;  // someone else's ARP: the far side may answer it
  const std::byte *sha = arp + 8, *spa = arp + 14;
  bool request = load_be16(arp + 6) == 1;
  bool gratuitous = std::equal(spa, spa + 4, arp + 24);
  if (!ethernet_ipv4 || !request || gratuitous || multicast_mac(sha) ||
      multicast_mac(eth.data() + 6)) {
    ++stats_.ignored_malformed;
    return Decision::drop;
  }
  begin_reply(eth, kEtherArp);
  constexpr std::array<std::uint8_t, 8> kHeader = {0, 1, 0x08, 0x00, 6, 4, 0, 2};  // reply
  append(reply_, kHeader);  // Ethernet/IPv4, reply
  append(reply_, config_.link_mac);
  append(reply_, *config_.link_ip);
  append(reply_, sha, 6);
  append(reply_, spa, 4);
  ++stats_.arp_replies;
  return Decision::reply;
}

// ---- IPv4 -------------------------------------------------------------------------------

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

// ---- IPv6 -------------------------------------------------------------------------------

Decision Responder::on_ipv6(util::ConstByteSpan frame, std::size_t l3, bool peer_up,
                            Clock::time_point now) {
  if (frame.size() < l3 + kIpv6Header || util::ip_version(frame.data() + l3) != 6)
    return peer_up ? Decision::forward : Decision::drop;
  std::size_t total = kIpv6Header + load_be16(frame.data() + l3 + 4);
  if (total > config_.tunnel_mtu) {
    if (l3 + total <= frame.size() && may_report_ipv6(frame, l3))
      return icmp6_error(frame, l3, 2, 0, static_cast<std::uint32_t>(config_.tunnel_mtu), now);
    ++stats_.dropped_too_big;
    return Decision::drop;
  }
  if (peer_up) return Decision::forward;
  // No peer for it: "address unreachable" (RFC 4443 3.1, code 3), as ICMP's host
  // unreachable for IPv4; rate-limited and never about an error or a multicast packet.
  if (l3 + total <= frame.size() && may_report_ipv6(frame, l3))
    return icmp6_error(frame, l3, 1, 3, 0, now);
  return Decision::drop;
}

// Packet Too Big is the one ICMPv6 error allowed for multicast (RFC 4443 2.4(e.3)), but it
// would have to come from the multicast destination, and an error is never sent from a
// group address: so none for multicast here either. None about an ICMPv6 error, a later
// fragment, or a packet from a non-unicast source.
bool Responder::may_report_ipv6(util::ConstByteSpan frame, std::size_t l3) const {
  const std::byte* ip = frame.data() + l3;
  if (unusable_ipv6(ip + 8) || load_u8(ip + 24) == 0xff) return false;
  bool has_next = frame.size() >= l3 + kIpv6Header + 8;
  const std::byte* next = ip + kIpv6Header;
  std::uint8_t next_header = load_u8(ip + 6);
  if (next_header == kProtoIcmp6 && has_next && load_u8(next) < 128)
    return false;  // types < 128: errors
  if (next_header == kProtoIpv6Fragment && has_next && (load_be16(next + 2) & 0xfff8) != 0)
    return false;
  return true;
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
  std::copy(orig + 24, orig + 40, ip + 8);  // from the address the packet was for
  std::copy(orig + 8, orig + 24, ip + 24);  // back to its sender
  std::byte* icmp = ip + kIpv6Header;
  icmp[0] = std::byte{type};
  icmp[1] = std::byte{code};
  util::store_be32(icmp + 4, param);
  std::copy(orig, orig + quoted, icmp + kIcmpHeader);
  // Checksum over the pseudo-header (source, destination, length, next header) + message.
  std::uint32_t sum = checksum_add(0, {ip + 8, 32});
  std::array<std::byte, 8> tail{};
  util::store_be32(tail.data(), static_cast<std::uint32_t>(kIcmpHeader + quoted));
  tail[7] = std::byte{kProtoIcmp6};
  sum = checksum_add(sum, tail);
  store_be16(icmp + 2, checksum_finish(checksum_add(sum, {icmp, kIcmpHeader + quoted})));
  if (type == 2)
    ++stats_.too_big_sent;
  else
    ++stats_.unreachable_sent;
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
  if (multicast_mac(mac[0])) return std::nullopt;
  return mac;
}

std::optional<Ipv4> parse_ipv4(const std::string& text) {
  Ipv4 ip;
  if (inet_pton(AF_INET, text.c_str(), ip.data()) != 1) return std::nullopt;
  return ip;
}

}  // namespace tund::link
