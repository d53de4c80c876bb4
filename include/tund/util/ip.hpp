// Ethernet, IPv4/IPv6 and transport header constants and the few header views every module
// that looks into packets needs (link's responder, offload's segmenter and coalescer, the
// tunnel's frame checks), written once. Offsets are from the start of the header named;
// values from IEEE 802.3 (EtherTypes), RFC 791 (IPv4), RFC 8200 (IPv6), RFC 792/4443
// (ICMP/ICMPv6), RFC 768 (UDP), RFC 9293 (TCP) and the IANA protocol numbers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tund::util {

// Ethernet II: destination MAC, source MAC, EtherType (big-endian at offset 12).
inline constexpr std::size_t kEthernetHeader = 14;
inline constexpr std::size_t kEthernetTypeOffset = 12;
inline constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherArp = 0x0806, kEtherIpv6 = 0x86dd,
                               kEtherVlan = 0x8100;

// Header sizes in bytes (an IPv4 header is 20 to 60, a TCP header 20 to 60).
inline constexpr std::size_t kIpv4MinHeader = 20, kIpv6Header = 40;
inline constexpr std::size_t kIcmpHeader = 8, kUdpHeader = 8, kTcpMinHeader = 20;

// IP protocol / IPv6 next-header numbers.
inline constexpr std::uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17,
                              kProtoIpv6Fragment = 44, kProtoIcmp6 = 58;

// The version nibble of an IP header (4 or 6 for IP; anything else is not IP).
constexpr unsigned ip_version(const std::byte* ip) {
  return std::to_integer<unsigned>(ip[0]) >> 4;
}

// IPv4 only: the header length in bytes, from the IHL nibble (4-byte words).
constexpr std::size_t ipv4_header_length(const std::byte* ip) {
  return (std::to_integer<std::size_t>(ip[0]) & 0x0fu) * 4u;
}

}  // namespace tund::util
