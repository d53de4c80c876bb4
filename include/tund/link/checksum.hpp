// The Internet checksum (RFC 1071) used by IPv4, ICMP, ICMPv6, TCP and UDP.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tund/util/bytes.hpp"

namespace tund::link {

// Adds `data` to a running one's-complement sum (big-endian 16-bit words; an odd trailing
// byte is padded with zero). Start with 0, finish with checksum_finish().
std::uint32_t checksum_add(std::uint32_t sum, util::ConstByteSpan data);

// Folds a running sum to 16 bits (end-around carry), not complemented: what a partial
// checksum field holds (the pseudo-header sum the kernel finishes, virtio-net csum_start).
constexpr std::uint16_t checksum_fold(std::uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// The checksum field's value: the folded sum, complemented.
constexpr std::uint16_t checksum_finish(std::uint32_t sum) {
  return static_cast<std::uint16_t>(~checksum_fold(sum) & 0xffff);
}

inline std::uint16_t checksum(util::ConstByteSpan data) {
  return checksum_finish(checksum_add(0, data));
}

// The checksum of an upper-layer message over the IPv6 pseudo-header (RFC 8200 8.1):
// `addresses` is the 32 bytes of source then destination as in the IPv6 header, `message`
// the upper-layer header and data (its length is the pseudo-header's length field). Over a
// message whose checksum field is filled in, a correct one gives 0; over one with the field
// zeroed, the value to store.
std::uint16_t ipv6_checksum(const std::byte* addresses, std::uint8_t next_header,
                            util::ConstByteSpan message);

}  // namespace tund::link
