// The Internet checksum (RFC 1071) used by IPv4, ICMP and ICMPv6.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tund::link {

// Adds `size` bytes to a running one's-complement sum (big-endian 16-bit words; an odd
// trailing byte is padded with zero). Start with 0, finish with checksum_finish().
std::uint32_t checksum_add(std::uint32_t sum, const std::uint8_t* data, std::size_t size);
std::uint16_t checksum_finish(std::uint32_t sum);
inline std::uint16_t checksum(const std::uint8_t* data, std::size_t size) {
  return checksum_finish(checksum_add(0, data, size));
}

}  // namespace tund::link
