// Neighbor Discovery for the IPv6 link address in TAP mode (RFC 4861): a Neighbor
// Solicitation for it, checked as 7.1.1 says, gets a Neighbor Advertisement from the
// link MAC (7.2.4), so the kernel resolves the address without anything crossing the
// tunnel. Solicitations for other targets are not ours (the far side may answer them).
#include <algorithm>

#include "tund/link/checksum.hpp"
#include "tund/link/ipv6_chain.hpp"
#include "tund/link/responder.hpp"
#include "tund/util/ip.hpp"
#include "wire.hpp"

namespace tund::link {

using util::kEtherIpv6, util::kIpv6Header, util::kProtoIcmp6;
using util::load_u8, util::store_be16;
using namespace wire;

namespace {

constexpr std::uint8_t kSolicitation = 135, kAdvertisement = 136;
constexpr std::uint8_t kNdHopLimit = 255;  // RFC 4861 7.1.1: only on-link senders
constexpr std::size_t kSolicitationSize = 24, kTargetAt = 8;
constexpr std::uint8_t kSourceLinkLayer = 1, kTargetLinkLayer = 2;
constexpr std::uint8_t kSolicitedFlag = 0x40, kOverrideFlag = 0x20;
// ff02::1, all nodes, and its MAC (RFC 4291 2.7.1, RFC 2464 7).
constexpr std::array<std::uint8_t, 16> kAllNodes = {0xff, 2, 0, 0, 0, 0, 0, 0,
                                                    0,    0, 0, 0, 0, 0, 0, 1};
constexpr Mac kAllNodesMac = {0x33, 0x33, 0, 0, 0, 1};

// ff02::1:ffXX:XXXX, the solicited-node group of `address` (RFC 4291 2.7.1).
Ipv6 solicited_node(const Ipv6& address) {
  Ipv6 group = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
  std::copy(address.begin() + 13, address.end(), group.begin() + 13);
  return group;
}

// The MAC an IPv6 multicast destination goes to: 33:33 and its last 32 bits (RFC 2464 7).
bool multicast_mac_of(const std::byte* mac, const Ipv6& group) {
  return load_u8(mac) == 0x33 && load_u8(mac + 1) == 0x33 &&
         std::equal(mac + 2, mac + 6, bytes_of(group).begin() + 12);
}

struct NdOptions {
  bool valid = true;
  const std::byte* source_mac = nullptr;  // the first Source Link-Layer Address, if any
};

// Options after the fixed part (RFC 4861 4.6): every length > 0 and within the message; a
// Source Link-Layer Address on Ethernet is 8 bytes (RFC 2464 6) and a unicast MAC.
NdOptions parse_options(util::ConstByteSpan options) {
  NdOptions out;
  std::size_t at = 0;
  while (at < options.size()) {
    if (at + 2 > options.size()) return {false, nullptr};
    std::size_t length = std::size_t{load_u8(options.data() + at + 1)} * 8;
    if (length == 0 || at + length > options.size()) return {false, nullptr};
    if (load_u8(options.data() + at) == kSourceLinkLayer) {
      const std::byte* mac = options.data() + at + 2;
      if (length != 8 || multicast_mac(mac)) return {false, nullptr};
      if (out.source_mac == nullptr) out.source_mac = mac;
    }
    at += length;
  }
  return out;
}

}  // namespace

bool Responder::solicits_link_address(util::ConstByteSpan frame, std::size_t l3, std::size_t total,
                                      const Ipv6Chain& chain) const {
  if (chain.end != Ipv6Chain::End::upper || chain.protocol != kProtoIcmp6 ||
      total < chain.offset + kSolicitationSize)
    return false;
  const std::byte* icmp = frame.data() + l3 + chain.offset;
  return load_u8(icmp) == kSolicitation && same(icmp + kTargetAt, *config_.link_ip6);
}

// RFC 4861 7.1.1, in its order, plus what a reply needs: a unicast source (or :: for DAD)
// and, at the link layer, a unicast sender and the destination the IPv6 one maps to.
Decision Responder::on_neighbor_solicitation(util::ConstByteSpan frame, std::size_t l3,
                                             std::size_t total, const Ipv6Chain& chain) {
  const std::byte *ip = frame.data() + l3, *source = ip + 8, *destination = ip + 24;
  util::ConstByteSpan message = frame.subspan(l3 + chain.offset, total - chain.offset);
  NdOptions options = parse_options(message.subspan(kSolicitationSize));
  Ipv6 group = solicited_node(*config_.link_ip6);
  bool to_group = same(destination, group) && multicast_mac_of(frame.data(), group);
  bool to_link = same(destination, *config_.link_ip6) && !multicast_mac(frame.data());
  bool unspecified = std::all_of(source, source + 16, [](std::byte b) { return b == std::byte{}; });
  // The target (the link address) is unicast by construction; RFC 6980: no fragments.
  bool valid = load_u8(ip + 7) == kNdHopLimit && !chain.fragment_header && chain.deliverable &&
               ipv6_checksum(source, kProtoIcmp6, message) == 0 &&
               load_u8(message.data() + 1) == 0 && options.valid && (to_group || to_link) &&
               !multicast_mac(frame.data() + 6) &&
               (unspecified ? to_group && options.source_mac == nullptr : !unusable_ipv6(source));
  if (!valid) {
    ++stats_.ignored_malformed;
    return Decision::drop;
  }
  // Duplicate Address Detection (7.2.4): the prober has no address yet, so to all nodes,
  // not solicited; otherwise back to the sender, at the MAC it gave or it sent from.
  if (unspecified)
    return neighbor_advertisement(bytes_of(kAllNodes).data(), bytes_of(kAllNodesMac).data(), false);
  const std::byte* mac = options.source_mac ? options.source_mac : frame.data() + 6;
  return neighbor_advertisement(source, mac, true);
}

// Override set: the link address is ours alone, not an anycast or proxied one (7.2.4).
Decision Responder::neighbor_advertisement(const std::byte* to, const std::byte* mac,
                                           bool solicited) {
  begin_reply_to(mac, kEtherIpv6);
  std::size_t at = reply_.size();
  constexpr std::size_t kLength = 32;  // fixed part 24 + the target link-layer option 8
  reply_.resize(at + kIpv6Header + kLength, std::byte{0});
  std::byte* ip = reply_.data() + at;
  ip[0] = std::byte{0x60};
  store_be16(ip + 4, kLength);
  ip[6] = std::byte{kProtoIcmp6};
  ip[7] = std::byte{kNdHopLimit};
  std::array<std::byte, 16> link = bytes_of(*config_.link_ip6);
  std::copy(link.begin(), link.end(), ip + 8);
  std::copy(to, to + 16, ip + 24);
  std::byte* icmp = ip + kIpv6Header;
  icmp[0] = std::byte{kAdvertisement};
  icmp[4] = std::byte{static_cast<std::uint8_t>((solicited ? kSolicitedFlag : 0) | kOverrideFlag)};
  std::copy(link.begin(), link.end(), icmp + kTargetAt);
  icmp[24] = std::byte{kTargetLinkLayer};
  icmp[25] = std::byte{1};
  std::array<std::byte, 6> own = bytes_of(config_.link_mac);
  std::copy(own.begin(), own.end(), icmp + 26);
  store_be16(icmp + 2, ipv6_checksum(ip + 8, kProtoIcmp6, {icmp, kLength}));
  ++stats_.neighbor_advertisements;
  return Decision::reply;
}

}  // namespace tund::link
