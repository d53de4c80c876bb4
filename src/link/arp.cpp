// ARP (RFC 826) in TAP mode: who-has for the link address -> is-at the link MAC.
#include "tund/link/responder.hpp"
#include "tund/util/ip.hpp"
#include "wire.hpp"

namespace tund::link {

using util::kEthernetHeader, util::kEtherIpv4, util::kEtherArp;
using util::load_be16, util::load_u8;
using namespace wire;

namespace {
constexpr std::size_t kArpSize = 28;
}  // namespace

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

}  // namespace tund::link
