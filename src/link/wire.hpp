// Helpers shared by the responder's per-protocol files; private to the link module.
// Addresses and MACs from the config are values (std::uint8_t arrays, as in_addr is);
// frames are bytes. These compare and copy across the two, and say which addresses no
// reply may ever be sent to or claimed from.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tund/link/responder.hpp"
#include "tund/util/bytes.hpp"

namespace tund::link::wire {

inline constexpr std::uint8_t kTtl = 64;  // hop limit of what the responder originates

template <std::size_t N>
bool same(const std::byte* bytes, const std::array<std::uint8_t, N>& value) {
  return std::equal(value.begin(), value.end(), bytes,
                    [](std::uint8_t v, std::byte b) { return std::byte{v} == b; });
}
template <std::size_t N>
void append(std::vector<std::byte>& out, const std::array<std::uint8_t, N>& value) {
  for (std::uint8_t v : value) out.push_back(std::byte{v});
}
// Grown with resize + copy, not insert: GCC 12 at -O3 with _FORTIFY_SOURCE reports a false
// -Wstringop-overflow for a range insert into a just-cleared vector (a -Werror Release build).
inline void append(std::vector<std::byte>& out, const std::byte* bytes, std::size_t size) {
  std::size_t at = out.size();
  out.resize(at + size);
  std::copy_n(bytes, size, out.data() + at);
}
template <std::size_t N>
std::array<std::byte, N> bytes_of(const std::array<std::uint8_t, N>& value) {
  std::array<std::byte, N> out{};
  std::transform(value.begin(), value.end(), out.begin(),
                 [](std::uint8_t v) { return std::byte{v}; });
  return out;
}

// The group bit of a MAC's first octet (IEEE 802: broadcast and multicast).
inline bool multicast_mac(std::uint8_t first_octet) {
  return (first_octet & 1) != 0;
}
inline bool multicast_mac(const std::byte* m) {
  return multicast_mac(util::load_u8(m));
}

// IPv4 addresses no reply may ever be sent to (or claimed from): this network, multicast,
// class E, limited broadcast, loopback.
inline bool unusable_ipv4(const std::byte* a) {
  std::uint8_t first = util::load_u8(a);
  return (first == 0) || (first >= 224) || (first == 127);
}
// IPv6 ones (RFC 4291 2.5.2, 2.5.3, 2.7): unspecified, loopback, multicast.
inline bool unusable_ipv6(const std::byte* a) {
  bool zero_prefix = std::all_of(a, a + 15, [](std::byte b) { return b == std::byte{0}; });
  bool unspecified_or_loopback =
      zero_prefix && (util::load_u8(a + 15) == 0 || util::load_u8(a + 15) == 1);
  return unspecified_or_loopback || util::load_u8(a) == 0xff;
}

}  // namespace tund::link::wire
