// CIDR prefixes: parsed strictly (the text users write in peer files, where a silently
// "fixed" typo would route someone else's traffic), printed canonically.
#include "tund/util/ip_prefix.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace tund::util {
namespace {

bool fail(std::string* error, std::string reason) {
  if (error) *error = std::move(reason);
  return false;
}

// A decimal prefix length: 1 to 3 digits, no sign, no spaces, at most `max`.
bool parse_length(std::string_view text, unsigned max, unsigned& out) {
  if (text.empty() || text.size() > 3 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  unsigned n = 0;
  for (char c : text) n = n * 10 + static_cast<unsigned>(c - '0');
  if (n > max) return false;
  out = n;
  return true;
}

// The address part: what inet_pton takes (IPv4 dotted quad, IPv6 of RFC 4291 section 2.2).
bool parse_address(const std::string& text, IpPrefix& out) {
  if (inet_pton(AF_INET, text.c_str(), out.address.data()) == 1) {
    out.family = IpFamily::v4;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.address.data()) == 1) {
    out.family = IpFamily::v6;
    return true;
  }
  return false;
}

// Zeroes every bit past `length`.
void clear_host_bits(IpPrefix& prefix) {
  std::size_t size = address_size(prefix.family);
  for (std::size_t i = 0; i < size; ++i) {
    unsigned first_bit = static_cast<unsigned>(i) * 8;
    if (first_bit >= prefix.length) {
      prefix.address[i] = std::byte{0};
    } else if (prefix.length - first_bit < 8) {
      unsigned keep = prefix.length - first_bit;
      prefix.address[i] &= static_cast<std::byte>(0xffu << (8 - keep));
    }
  }
}

bool parse_into(std::string_view text, IpPrefix& out, std::string* error) {
  // Appended, not "'" + std::string(text) + "'": GCC 12 at -O3 reports a false
  // -Wrestrict for that concatenation (and the Release build treats warnings as errors).
  std::string quoted;
  quoted.reserve(text.size() + 2);
  quoted.append(1, '\'').append(text).append(1, '\'');
  if (text.empty()) return fail(error, "an empty address");
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; }))
    return fail(error, quoted + ": spaces or control characters inside an address");
  if (text.find('%') != std::string_view::npos)
    return fail(error, quoted + ": a zone index (%...) has no meaning in a prefix");
  auto slash = text.find('/');
  if (!parse_address(std::string(text.substr(0, slash)), out))
    return fail(error, quoted + " is not an IPv4 or IPv6 address");
  unsigned max = max_prefix_length(out.family);
  out.length = max;
  if (slash != std::string_view::npos && !parse_length(text.substr(slash + 1), max, out.length))
    return fail(error, quoted + ": bad prefix length (0-" + std::to_string(max) + ")");
  clear_host_bits(out);
  return true;
}

}  // namespace

std::optional<IpPrefix> parse_ip_prefix(std::string_view text, std::string* error) {
  IpPrefix prefix;
  if (!parse_into(text, prefix, error)) return std::nullopt;
  return prefix;
}

std::string to_string(const IpPrefix& prefix) {
  char text[INET6_ADDRSTRLEN] = {};
  int af = prefix.family == IpFamily::v4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, prefix.address.data(), text, sizeof text) == nullptr) return "?";
  return std::string(text) + "/" + std::to_string(prefix.length);
}

bool contains(const IpPrefix& prefix, IpFamily family, ConstByteSpan address) {
  if (family != prefix.family || address.size() != address_size(family)) return false;
  unsigned full = prefix.length / 8, rest = prefix.length % 8;
  auto end = address.begin() + static_cast<std::ptrdiff_t>(full);
  if (!std::equal(address.begin(), end, prefix.address.begin())) return false;
  if (rest == 0) return true;
  auto mask = static_cast<std::byte>(0xffu << (8 - rest));
  return (address[full] & mask) == prefix.address[full];
}

}  // namespace tund::util
