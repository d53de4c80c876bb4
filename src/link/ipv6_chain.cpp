#include "tund/link/ipv6_chain.hpp"

#include "tund/util/ip.hpp"

namespace tund::link {
namespace {

using util::load_be16, util::load_u8;

// IANA "IPv6 Extension Header Types" (RFC 7045 and the registry it points to).
constexpr std::uint8_t kHopByHop = 0, kRouting = 43, kFragment = 44, kEsp = 50, kAh = 51,
                       kDestinationOptions = 60, kMobility = 135, kHip = 139, kShim6 = 140,
                       kExperimental1 = 253, kExperimental2 = 254;

bool is_extension(std::uint8_t next) {
  switch (next) {
    case kHopByHop:
    case kRouting:
    case kFragment:
    case kEsp:
    case kAh:
    case kDestinationOptions:
    case kMobility:
    case kHip:
    case kShim6:
    case kExperimental1:
    case kExperimental2:
      return true;
    default:
      return false;
  }
}

// The options of a hop-by-hop or destination-options header (RFC 8200 4.2): whether a
// node that knows only Pad1 and PadN may go on processing the packet. Unknown types with
// action bits 01, 10 or 11 mean "discard"; an option running past the header, too.
bool options_skippable(util::ConstByteSpan options) {
  std::size_t i = 0;
  while (i < options.size()) {
    std::uint8_t type = load_u8(options.data() + i);
    if (type == 0) {  // Pad1: a single byte
      ++i;
      continue;
    }
    if (i + 2 > options.size()) return false;
    std::size_t length = load_u8(options.data() + i + 1);
    if (i + 2 + length > options.size()) return false;
    if (type != 1 && (type >> 6) != 0) return false;
    i += 2 + length;
  }
  return true;
}

// The length of the extension header at `at` of kind `kind`, from its length field.
std::size_t header_length(util::ConstByteSpan packet, std::size_t at, std::uint8_t kind) {
  std::size_t field = load_u8(packet.data() + at + 1);
  if (kind == kFragment) return 8;
  if (kind == kAh) return (field + 2) * 4;  // 4-octet units, minus 2 (RFC 4302 2.2)
  return (field + 1) * 8;                   // 8-octet units, not counting the first 8
}

// What one walked header says about the packet; false: the walk ends here (later fragment).
bool note_header(util::ConstByteSpan header, std::uint8_t kind, Ipv6Chain& chain) {
  const std::byte* h = header.data();
  switch (kind) {
    case kHopByHop:
    case kDestinationOptions:
      if (!options_skippable(header.subspan(2))) chain.deliverable = false;
      return true;
    case kRouting:
      if (load_u8(h + 3) != 0) chain.deliverable = false;  // segments left: not the final hop
      return true;
    case kFragment: {
      chain.fragment_header = true;
      std::uint16_t offset_flags = load_be16(h + 2);
      if ((offset_flags & 0xfff8) != 0) return false;
      if ((offset_flags & 1) != 0) chain.deliverable = false;  // more fragments: reassembly
      return true;
    }
    default:  // AH: walked, but its integrity is not checked here
      chain.deliverable = false;
      return true;
  }
}

}  // namespace

Ipv6Chain walk_ipv6_chain(util::ConstByteSpan packet) {
  Ipv6Chain chain;
  if (packet.size() < util::kIpv6Header) return chain;
  std::uint8_t next = load_u8(packet.data() + 6);
  std::size_t at = util::kIpv6Header;
  // Every header is at least 8 bytes long, so the loop ends within size / 8 rounds.
  while (is_extension(next)) {
    bool walked = next == kHopByHop || next == kRouting || next == kFragment || next == kAh ||
                  next == kDestinationOptions;
    if (!walked || (next == kHopByHop && at != util::kIpv6Header)) {
      chain.end = Ipv6Chain::End::not_understood;
      return chain;
    }
    if (at + 8 > packet.size()) return chain;  // truncated
    std::size_t length = header_length(packet, at, next);
    if (at + length > packet.size()) return chain;
    if (!note_header(packet.subspan(at, length), next, chain)) {
      chain.end = Ipv6Chain::End::later_fragment;
      return chain;
    }
    next = load_u8(packet.data() + at);
    at += length;
  }
  chain.end = Ipv6Chain::End::upper;
  chain.protocol = next;
  chain.offset = at;
  return chain;
}

}  // namespace tund::link
