// Hand-built IPv4/IPv6 TCP/UDP packets and a reference checksum for the offload tests.
// The checksum here is the RFC 1071 textbook loop, deliberately not tund's link::checksum,
// so the tests check the code against an independent implementation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tund/util/bytes.hpp"

namespace tund::offload::test {

using Bytes = std::vector<std::uint8_t>;

// The test data is written as numbers; the offload API takes bytes.
inline util::ConstByteSpan span(const Bytes& b) {
  return std::as_bytes(std::span(b));
}
inline util::ByteSpan writable(Bytes& b) {
  return std::as_writable_bytes(std::span(b));
}
inline Bytes numbers(util::ConstByteSpan bytes) {
  Bytes out;
  for (std::byte b : bytes) out.push_back(std::to_integer<std::uint8_t>(b));
  return out;
}

inline std::uint16_t get16(const Bytes& b, std::size_t i) {
  return static_cast<std::uint16_t>(b[i] << 8 | b[i + 1]);
}
inline std::uint32_t get32(const Bytes& b, std::size_t i) {
  return std::uint32_t{get16(b, i)} << 16 | get16(b, i + 2);
}
inline void put16(Bytes& b, std::size_t i, unsigned v) {
  b[i] = static_cast<std::uint8_t>(v >> 8);
  b[i + 1] = static_cast<std::uint8_t>(v);
}
inline void put32(Bytes& b, std::size_t i, std::uint32_t v) {
  put16(b, i, v >> 16);
  put16(b, i + 2, v & 0xffff);
}

// One's-complement sum of big-endian 16-bit words, carries folded at the end.
inline std::uint32_t ref_sum(const Bytes& b, std::size_t from, std::size_t to) {
  std::uint32_t sum = 0;
  for (std::size_t i = from; i < to; i += 2) {
    unsigned hi = b[i], lo = i + 1 < to ? b[i + 1] : 0;
    sum += hi << 8 | lo;
  }
  return sum;
}
inline std::uint16_t ref_fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

struct Shape {
  bool v6 = false;
  bool udp = false;
  std::size_t payload = 0;
  std::uint8_t tcp_flags = 0x18;  // ACK|PSH
  std::uint32_t seq = 1000, ack = 77;
  std::uint16_t ip_id = 0x1234;
  std::uint16_t src_port = 40000, dst_port = 5201;
  std::size_t tcp_options = 12;  // NOP NOP timestamp, as Linux sends
  std::uint8_t payload_seed = 0;
};

inline std::size_t l4_offset(const Bytes& p) {
  return (p[0] >> 4) == 4 ? (p[0] & 15u) * 4 : 40;
}

// The pseudo-header sum for the packet's current lengths.
inline std::uint32_t ref_pseudo(const Bytes& p) {
  bool v4 = (p[0] >> 4) == 4;
  std::size_t l4 = l4_offset(p);
  std::uint32_t sum = v4 ? ref_sum(p, 12, 20) : ref_sum(p, 8, 40);
  sum += v4 ? p[9] : p[6];
  sum += static_cast<std::uint32_t>(p.size() - l4);
  return sum;
}

// True if the packet's L4 checksum verifies against the reference.
inline bool l4_checksum_ok(const Bytes& p) {
  return ref_fold(ref_pseudo(p) + ref_sum(p, l4_offset(p), p.size())) == 0xffff;
}
inline bool ipv4_header_ok(const Bytes& p) {
  return ref_fold(ref_sum(p, 0, (p[0] & 15u) * 4)) == 0xffff;
}

inline void fill_l4_checksum(Bytes& p) {
  std::size_t l4 = l4_offset(p), field = l4 + (p[(p[0] >> 4) == 4 ? 9 : 6] == 17 ? 6 : 16);
  put16(p, field, 0);
  put16(p, field, static_cast<std::uint16_t>(~ref_fold(ref_pseudo(p) + ref_sum(p, l4, p.size()))));
}

// A complete packet with valid checksums.
inline Bytes build(const Shape& s) {
  std::size_t l3 = s.v6 ? 40 : 20;
  std::size_t l4h = s.udp ? 8 : 20 + s.tcp_options;
  Bytes p(l3 + l4h + s.payload, 0);
  if (s.v6) {
    p[0] = 0x60;
    put16(p, 4, static_cast<unsigned>(p.size() - 40));
    p[6] = s.udp ? 17 : 6;
    p[7] = 64;
    p[8] = 0xfd;  // fd00::1 -> fd00::2
    p[23] = 1;
    p[24] = 0xfd;
    p[39] = 2;
  } else {
    p[0] = 0x45;
    put16(p, 2, static_cast<unsigned>(p.size()));
    put16(p, 4, s.ip_id);
    put16(p, 6, 0x4000);  // DF
    p[8] = 64;
    p[9] = s.udp ? 17 : 6;
    p[12] = 10, p[15] = 1, p[16] = 10, p[19] = 2;
    put16(p, 10, static_cast<std::uint16_t>(~ref_fold(ref_sum(p, 0, 20))));
  }
  put16(p, l3, s.src_port);
  put16(p, l3 + 2, s.dst_port);
  if (s.udp) {
    put16(p, l3 + 4, static_cast<unsigned>(8 + s.payload));
  } else {
    put32(p, l3 + 4, s.seq);
    put32(p, l3 + 8, s.ack);
    p[l3 + 12] = static_cast<std::uint8_t>((l4h / 4) << 4);
    p[l3 + 13] = s.tcp_flags;
    put16(p, l3 + 14, 502);
    for (std::size_t i = 0; i < s.tcp_options; ++i) p[l3 + 20 + i] = static_cast<std::uint8_t>(i);
    if (s.tcp_options == 12) p[l3 + 20] = p[l3 + 21] = 1, p[l3 + 22] = 8, p[l3 + 23] = 10;
  }
  for (std::size_t i = 0; i < s.payload; ++i)
    p[l3 + l4h + i] = static_cast<std::uint8_t>(i * 7 + s.payload_seed);
  fill_l4_checksum(p);
  return p;
}

}  // namespace tund::offload::test
