// Private helpers shared by the segmenter and the coalescer: the few IPv4/IPv6/TCP/UDP
// fields they rewrite, and the pseudo-header sum. Offsets are from the IP header.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tund/link/checksum.hpp"
#include "tund/util/bytes.hpp"
#include "tund/util/ip.hpp"

namespace tund::offload::detail {

using util::ip_version, util::ipv4_header_length, util::load_u8;
using util::kIpv4MinHeader, util::kIpv6Header, util::kTcpMinHeader, util::kUdpHeader;
using util::kProtoTcp, util::kProtoUdp;
// TCP flag bits (byte 13 of the header)
inline constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                              kUrg = 0x20, kEce = 0x40, kCwr = 0x80;

// Sum of the pseudo-header (addresses, protocol, L4 length), unfolded.
inline std::uint32_t pseudo_header_sum(const std::byte* ip, std::uint8_t proto,
                                       std::size_t l4_length) {
  bool v4 = ip_version(ip) == 4;
  std::uint32_t sum = v4 ? link::checksum_add(0, {ip + 12, 8})   // src + dst
                         : link::checksum_add(0, {ip + 8, 32});  // src + dst
  sum += proto;
  sum +=
      static_cast<std::uint32_t>(l4_length & 0xffff) + static_cast<std::uint32_t>(l4_length >> 16);
  return sum;
}

// Sets the IP length field for a packet of `total` bytes and, for IPv4, the header checksum.
inline void set_ip_length(std::byte* ip, std::size_t total) {
  if (ip_version(ip) == 4) {
    std::size_t ihl = ipv4_header_length(ip);
    util::store_be16(ip + 2, static_cast<std::uint16_t>(total));
    util::store_be16(ip + 10, 0);
    util::store_be16(ip + 10, link::checksum({ip, ihl}));
  } else {
    util::store_be16(ip + 4, static_cast<std::uint16_t>(total - kIpv6Header));
  }
}

// Computes and stores a complete L4 checksum over [l4, l4 + l4_length).
inline void finish_l4_checksum(std::byte* ip, std::size_t l4_offset, std::size_t l4_length,
                               std::uint8_t proto, std::size_t field) {
  std::byte* l4 = ip + l4_offset;
  util::store_be16(l4 + field, 0);
  std::uint32_t sum = pseudo_header_sum(ip, proto, l4_length);
  std::uint16_t c = link::checksum_finish(link::checksum_add(sum, {l4, l4_length}));
  if (proto == kProtoUdp && c == 0) c = 0xffff;  // 0 means "no checksum" in UDP
  util::store_be16(l4 + field, c);
}

}  // namespace tund::offload::detail
