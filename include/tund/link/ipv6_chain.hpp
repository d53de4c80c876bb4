// The extension-header chain of an IPv6 packet (RFC 8200 4, RFC 7045), walked to the
// upper-layer header without ever reading past the packet. The responder uses it to find
// the ICMPv6 message of an echo request or Neighbor Solicitation behind extension headers,
// and to never send an ICMPv6 error about an ICMPv6 error, a later fragment, or a packet
// whose chain it cannot read.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tund/util/bytes.hpp"

namespace tund::link {

struct Ipv6Chain {
  enum class End {
    upper,           // an upper-layer header (or No Next Header, 59) at `offset`
    later_fragment,  // a Fragment header with a non-zero offset: what follows is data
    truncated,       // a header runs past the packet
    not_understood,  // an extension header not walked here (ESP, Mobility, HIP, Shim6,
                     // experimental 253/254), or hop-by-hop not first (RFC 8200 4.1)
  };
  End end = End::truncated;
  std::uint8_t protocol = 0;     // End::upper: the upper-layer protocol (58: ICMPv6)
  std::size_t offset = 0;        // End::upper: its first byte, from the IPv6 header's
  bool fragment_header = false;  // a Fragment header was walked (atomic ones too)
  // A final destination may process the packet itself: no fragment to reassemble (an
  // atomic fragment is fine, RFC 6946), no AH to verify, every routing header with
  // segments left 0 (RFC 8200 4.4) and every hop-by-hop/destination option either known
  // (Pad1, PadN) or of a type whose top two bits say "skip" (RFC 8200 4.2).
  bool deliverable = true;
};

// `packet`: exactly one IPv6 packet, its 40-byte header first and nothing after the
// payload length (the caller has checked that much is there). Hop-by-hop, routing,
// fragment, AH and destination-options headers are walked.
Ipv6Chain walk_ipv6_chain(util::ConstByteSpan packet);

}  // namespace tund::link
