// CIDR prefixes (RFC 4632 section 3.1; IPv6 text as RFC 4291 section 2.3): the shape of
// allowed-ips in peer files (config/) and of the hub's routing table (tunnel/allowed_ips.hpp),
// so both modules speak one type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tund/util/bytes.hpp"

namespace tund::util {

enum class IpFamily : std::uint8_t { v4, v6 };

// Address bytes in network order: 4 for IPv4, 16 for IPv6.
constexpr std::size_t address_size(IpFamily family) {
  return family == IpFamily::v4 ? 4 : 16;
}
// The longest prefix length of a family: 32 or 128 bits.
constexpr unsigned max_prefix_length(IpFamily family) {
  return family == IpFamily::v4 ? 32 : 128;
}

// A normalised CIDR prefix: host bits (those past `length`) are zero. IPv4 uses the first
// 4 bytes of `address`; the other 12 are zero.
struct IpPrefix {
  IpFamily family = IpFamily::v4;
  std::array<std::byte, 16> address{};
  unsigned length = 0;  // bits, 0..max_prefix_length(family)
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// "10.8.0.2/32", "10.9.0.0/24", "fd00:8::2/128", or an address alone (a host: /32 or
// /128). Host bits set ("10.9.0.1/24") are cleared, as `wg` does. nullopt with a one-line
// reason in *error (when given) for anything else: not an address, a length out of range,
// a zone index, spaces.
std::optional<IpPrefix> parse_ip_prefix(std::string_view text, std::string* error = nullptr);
// The canonical text: "10.9.0.0/24", "fd00:8::/64" (inet_ntop's form for IPv6).
std::string to_string(const IpPrefix& prefix);
// `address` (address_size(family) bytes) lies inside `prefix` (same family required).
bool contains(const IpPrefix& prefix, IpFamily family, ConstByteSpan address);

}  // namespace tund::util
