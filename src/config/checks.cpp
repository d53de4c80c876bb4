#include "tund/config/checks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace tund::config {
namespace {

constexpr std::size_t kMaxInterfaceName = 15;  // IFNAMSIZ - 1

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool valid_prefix(const std::string& text, long max) {
  if (text.empty() || text.size() > 3 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  return std::strtol(text.c_str(), nullptr, 10) <= max;
}

}  // namespace

std::string interface_name_error(const std::string& name) {
  if (name.empty()) return "an interface name cannot be empty";
  if (name.size() > kMaxInterfaceName)
    return "'" + name + "' is longer than 15 bytes (the kernel's IFNAMSIZ)";
  if (name == "." || name == "..") return "'" + name + "' is not a valid interface name";
  if (std::any_of(name.begin(), name.end(), [](char c) { return c == '/' || c == ':'; }))
    return "'" + name + "': an interface name cannot contain '/' or ':'";
  if (std::any_of(name.begin(), name.end(), is_space))
    return "'" + name + "': an interface name cannot contain whitespace";
  auto percent = name.find('%');
  if (percent != std::string::npos &&
      (name.compare(percent, 2, "%d") != 0 || name.find('%', percent + 1) != std::string::npos))
    return "'" + name + "': a name template takes exactly one %d (e.g. tun%d)";
  return "";
}

std::string cidr_error(const std::string& cidr) {
  auto slash = cidr.find('/');
  std::string ip = cidr.substr(0, slash);
  unsigned char buffer[16];
  long max = 0;
  if (inet_pton(AF_INET, ip.c_str(), buffer) == 1)
    max = 32;
  else if (inet_pton(AF_INET6, ip.c_str(), buffer) == 1)
    max = 128;
  else
    return "'" + cidr + "' is not an IPv4 or IPv6 address";
  if (slash != std::string::npos && !valid_prefix(cidr.substr(slash + 1), max))
    return "bad prefix length in '" + cidr + "'";
  return "";
}

std::string ipv4_error(const std::string& address) {
  unsigned char buffer[4];
  if (inet_pton(AF_INET, address.c_str(), buffer) != 1)
    return "'" + address + "' is not an IPv4 address";
  return "";
}

}  // namespace tund::config
