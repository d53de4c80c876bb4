// Test helpers for the IPv6 link responder tests: hex vectors (ipv6_vectors.hpp, made by
// scapy) to bytes, a responder configured as the vectors assume, and edits of a frame that
// keep it otherwise valid (payload length and ICMPv6 checksum fixed up).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tund/link/checksum.hpp"
#include "tund/link/responder.hpp"

namespace tund::link::testing {

using Bytes = std::vector<std::uint8_t>;

inline util::ConstByteSpan bytes(const Bytes& b) {
  return std::as_bytes(std::span(b));
}

inline Bytes hex(const std::string& h) {
  Bytes b;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    b.push_back(static_cast<std::uint8_t>(std::stoul(h.substr(i, 2), nullptr, 16)));
  return b;
}

inline Bytes reply_of(const Responder& r) {
  Bytes out;
  for (std::byte b : r.reply()) out.push_back(std::to_integer<std::uint8_t>(b));
  return out;
}

// The configuration the vectors assume: link_ip6 fd00::1, link MAC 02:00:5e:10:00:01.
inline const Ipv6 kLink6 = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
inline const Mac kLinkMac = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
inline const Mac kHostMac = {0x02, 0, 0, 0, 0, 0xaa};

inline ResponderConfig config6(bool tap, std::size_t mtu = 1400) {
  ResponderConfig c;
  c.ethernet = tap;
  c.link_ip6 = kLink6;
  c.link_mac = kLinkMac;
  c.tunnel_mtu = mtu;
  c.unreachable_per_second = 1000;
  return c;
}

inline void put16(Bytes& p, std::size_t at, std::size_t v) {
  p[at] = static_cast<std::uint8_t>(v >> 8);
  p[at + 1] = static_cast<std::uint8_t>(v);
}

// After an edit of the packet at `l3` (its ICMPv6 message at `icmp`, to the end): the
// payload length and the ICMPv6 checksum made right again, so only the edit is wrong.
inline void fix_up(Bytes& frame, std::size_t l3, std::size_t icmp) {
  put16(frame, l3 + 4, frame.size() - l3 - 40);
  put16(frame, icmp + 2, 0);
  std::uint16_t sum =
      ipv6_checksum(bytes(frame).subspan(l3 + 8).data(), 58, bytes(frame).subspan(icmp));
  put16(frame, icmp + 2, sum);
}

// `count` bytes inserted at `at` (an extension header put in front of the ICMPv6 message:
// the caller sets the next-header fields).
inline Bytes insert(Bytes frame, std::size_t at, const Bytes& header) {
  frame.insert(frame.begin() + static_cast<long>(at), header.begin(), header.end());
  return frame;
}

}  // namespace tund::link::testing
