#include "tund/config/checks.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tund/util/strings.hpp"

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

bool all_digits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_ipv6(const std::string& text) {
  unsigned char buffer[16];
  std::string address = text.substr(0, text.find('%'));  // fe80::1%eth0: scope after '%'
  if (address.size() != text.size() && address.size() + 1 == text.size()) return false;
  return inet_pton(AF_INET6, address.c_str(), buffer) == 1;
}

// The text after "HOST:" or "]:" as a port number.
std::string port_part(const std::string& text, const std::string& port, HostPort& out) {
  if (!all_digits(port) || port.size() > 5 || std::strtol(port.c_str(), nullptr, 10) < 1 ||
      std::strtol(port.c_str(), nullptr, 10) > 65535)
    return "bad port '" + port + "' in '" + text + "' (1-65535)";
  out.port = static_cast<std::uint16_t>(std::strtol(port.c_str(), nullptr, 10));
  return "";
}

std::string bracketed(const std::string& text, HostPort& out) {
  auto close = text.find(']');
  if (close == std::string::npos) return "'" + text + "': '[' without ']'";
  out.host = text.substr(1, close - 1);
  if (!is_ipv6(out.host))
    return "'" + text + "': brackets are for an IPv6 address ([2001:db8::1]:55555)";
  std::string rest = text.substr(close + 1);
  if (rest.empty()) return "";
  if (rest[0] != ':') return "'" + text + "': expected ':PORT' after ']'";
  return port_part(text, rest.substr(1), out);
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
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

std::string ip_error(const std::string& address) {
  if (ipv4_error(address).empty() || is_ipv6(address)) return "";
  return "'" + address + "' is not an IPv4 or IPv6 address";
}

bool same_address(const std::string& a, const std::string& b) {
  auto bytes = [](const std::string& text) {
    std::string ip = text.substr(0, text.find('/'));
    unsigned char buffer[16] = {};
    if (inet_pton(AF_INET, ip.c_str(), buffer) == 1) return std::string(buffer, buffer + 4);
    if (inet_pton(AF_INET6, ip.c_str(), buffer) == 1) return std::string(buffer, buffer + 16);
    return std::string();
  };
  std::string x = bytes(a);
  return !x.empty() && x == bytes(b);
}

std::string host_port_error(const std::string& text, HostPort& out) {
  out = HostPort{};
  if (text.find("://") != std::string::npos)
    return "'" + text + "' is a URL; give HOST, HOST:PORT or [IPv6]:PORT";
  if (!text.empty() && text[0] == '[') return bracketed(text, out);
  auto colon = text.find(':');
  if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos) {
    out.host = text;  // a name, an IPv4 address or a bare IPv6 address
    return text.empty() ? "an empty host" : "";
  }
  out.host = text.substr(0, colon);
  if (out.host.empty()) return "'" + text + "': no host before the ':'";
  return port_part(text, text.substr(colon + 1), out);
}

std::string host_error(const std::string& host) {
  if (host.empty()) return "an empty host";
  if (std::any_of(host.begin(), host.end(),
                  [](char c) { return is_space(c) || is_control(static_cast<unsigned char>(c)); }))
    return "'" + host + "': a host name cannot contain whitespace or control characters";
  if (host.find(':') != std::string::npos && !is_ipv6(host))
    return "'" + host +
           "' is not an IPv6 address (a port goes after it as HOST:PORT or [IPv6]:PORT)";
  return "";
}

std::string mac_error(const std::string& mac) {
  std::string bad = "'" + mac + "' is not a MAC address (six hex bytes: 02:00:5e:10:00:01)";
  std::size_t start = 0;
  unsigned long first = 0;
  for (int part = 0; part < 6; ++part) {
    std::size_t end = part < 5 ? mac.find(':', start) : mac.size();
    if (end == std::string::npos) return bad;
    std::string hex = mac.substr(start, end - start);
    if (hex.empty() || hex.size() > 2 || !std::all_of(hex.begin(), hex.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0;
        }))
      return bad;
    if (part == 0) first = std::strtoul(hex.c_str(), nullptr, 16);
    start = end + 1;
  }
  if (first & 1) return "'" + mac + "' is a multicast MAC; the link needs a unicast one";
  return "";
}

std::string file_error(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return "cannot read " + what + " " + path + ": " + std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return what + " " + path + " is a directory, not a file";
  if (!S_ISREG(st.st_mode)) return what + " " + path + " is not a regular file";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return "cannot read " + what + " " + path + ": " + std::strerror(errno);
  ::close(fd);
  return "";
}

bool looks_like_key(const std::string& value) {
  std::string t = util::trim(value);
  return t.size() == 44 && t.back() == '=';
}

}  // namespace tund::config
