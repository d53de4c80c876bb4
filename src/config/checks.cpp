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

#include "tund/util/ip_prefix.hpp"
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

enum class Special { none, unspecified, loopback, multicast, broadcast };

// What kind of address `ip` (no prefix, no scope) is, by RFC 1122 section 3.2.1.3 and RFC
// 4291 section 2.4; none for a unicast address or text that is not an address.
Special classify(const std::string& ip) {
  unsigned char b[16] = {};
  if (inet_pton(AF_INET, ip.c_str(), b) == 1) {
    if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0) return Special::unspecified;
    if (b[0] == 127) return Special::loopback;
    if (b[0] >= 224 && b[0] <= 239) return Special::multicast;
    if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return Special::broadcast;
    return Special::none;
  }
  if (inet_pton(AF_INET6, ip.c_str(), b) != 1) return Special::none;
  if (b[0] == 0xff) return Special::multicast;
  // ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2) is the IPv4 address a.b.c.d.
  bool mapped = std::all_of(b, b + 10, [](unsigned char x) { return x == 0; }) && b[10] == 0xff &&
                b[11] == 0xff;
  if (mapped) {
    char v4[INET_ADDRSTRLEN];
    return classify(inet_ntop(AF_INET, b + 12, v4, sizeof v4));
  }
  bool zero_head = std::all_of(b, b + 15, [](unsigned char x) { return x == 0; });
  if (zero_head && b[15] == 0) return Special::unspecified;
  if (zero_head && b[15] == 1) return Special::loopback;
  return Special::none;
}

const char* special_name(Special kind) {
  switch (kind) {
    case Special::unspecified:
      return "the unspecified address";
    case Special::loopback:
      return "a loopback address";
    case Special::multicast:
      return "a multicast address";
    case Special::broadcast:
      return "the broadcast address";
    case Special::none:
      break;
  }
  return "";
}

// RFC 1035 section 2.3.4 / RFC 1123 section 2.1: at most 253 characters (a trailing dot
// aside), labels of 1 to 63 that neither start nor end with '-' (`-c -x` is an option
// taken for the host).
std::string host_name_error(const std::string& host) {
  std::string name = host.size() > 1 && host.back() == '.' ? host.substr(0, host.size() - 1) : host;
  std::string bad = "'" + host + "' is a malformed host name";
  if (name.size() > 253) return bad + " (longer than 253 characters)";
  for (std::size_t start = 0; start <= name.size();) {
    std::size_t end = std::min(name.find('.', start), name.size());
    if (end == start) return bad + " (an empty label: '..' or a dot at an end)";
    if (end - start > 63) return bad + " (a label longer than 63 characters)";
    if (name[start] == '-' || name[end - 1] == '-')
      return bad + " (a label starts or ends with '-')";
    start = end + 1;
  }
  return "";
}

}  // namespace

std::string interface_name_error(const std::string& name) {
  if (name.empty()) return "an interface name cannot be empty";
  if (name.size() > kMaxInterfaceName)
    return "'" + name + "' is longer than 15 bytes (the kernel's IFNAMSIZ)";
  if (name == "." || name == "..") return "'" + name + "' is not a valid interface name";
  // "all" and "default" are the kernel's own /proc/sys/net/*/conf entries.
  if (name == "all" || name == "default")
    return "'" + name + "' is reserved by the kernel (net.ipv4.conf." + name + ")";
  // A name starting with '-' is an option mistaken for a value (-i -x).
  if (name[0] == '-') return "'" + name + "': an interface name cannot start with '-'";
  if (std::any_of(name.begin(), name.end(), [](char c) { return c == '/' || c == ':'; }))
    return "'" + name + "': an interface name cannot contain '/' or ':'";
  if (std::any_of(name.begin(), name.end(), is_space))
    return "'" + name + "': an interface name cannot contain whitespace";
  // The kernel's isspace() (lib/ctype.c, Latin-1) also counts byte 0xa0 as a space, which
  // is inside many UTF-8 characters (U+00A0, 'à' = c3 a0, 'Р' = d0 a0): dev_valid_name()
  // refuses those names with EINVAL only once tund tries to create the device.
  if (name.find('\xa0') != std::string::npos)
    return "'" + name +
           "': an interface name cannot contain byte 0xa0 (the kernel counts it as a space; "
           "it is part of U+00A0 and of letters such as 'à')";
  // The kernel takes them, but `ip link` would show a name nobody can type.
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return is_control(static_cast<unsigned char>(c)); }))
    return "'" + name + "': an interface name cannot contain control characters";
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
  if (!ip_error(host).empty()) return host_name_error(host);
  Special kind = classify(host.substr(0, host.find('%')));
  if (kind != Special::none && kind != Special::loopback)
    return "'" + host + "' is " + special_name(kind) + ", not a server's address";
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

std::string special_address_error(const std::string& address, bool loopback_too) {
  std::string ip = address.substr(0, address.find('/'));
  Special kind = classify(ip.substr(0, ip.find('%')));
  if (kind == Special::none || (kind == Special::loopback && !loopback_too)) return "";
  return "'" + address + "': " + ip + " is " + special_name(kind) + ", not one end of a link";
}

std::string subnet_broadcast_error(const std::string& ip, const std::string& cidr) {
  auto slash = cidr.find('/');
  in_addr a{}, net{};
  if (slash == std::string::npos || inet_pton(AF_INET, ip.c_str(), &a) != 1 ||
      inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &net) != 1 ||
      !valid_prefix(cidr.substr(slash + 1), 32))
    return "";
  long prefix = std::strtol(cidr.c_str() + slash + 1, nullptr, 10);
  if (prefix > 30) return "";  // /31 and /32 have no broadcast address (RFC 3021)
  std::uint32_t host_bits = 0xffffffffu >> prefix;
  std::uint32_t broadcast = ntohl(net.s_addr) | host_bits;
  if (ntohl(a.s_addr) != broadcast) return "";
  return "'" + ip + "' is the broadcast address of --address " + cidr;
}

std::string link_ip_route_warning(const std::string& link_ip, const std::string& cidr,
                                  const std::string& peer) {
  auto slash = cidr.find('/');
  auto ip = util::parse_ip_prefix(link_ip);
  auto own = util::parse_ip_prefix(cidr);
  if (!ip || !own || slash == std::string::npos) return "";
  bool v4 = ip->family == util::IpFamily::v4;
  // fe80::/10 is on every IPv6 device: the kernel routes fe80::/64 to it whatever the
  // --address (RFC 4291 2.5.6), so a link-local --link-ip always answers.
  if (!v4 && ip->address[0] == std::byte{0xfe} &&
      (ip->address[1] & std::byte{0xc0}) == std::byte{0x80})
    return "";
  if (own->family != ip->family) {
    std::string text = "--link-ip " + link_ip + (v4 ? " is IPv4" : " is IPv6");
    text += " but --address " + cidr + (v4 ? " is IPv6" : " is IPv4");
    text += ": nothing routes it to the device, so it will not answer (add a route to it on ";
    text += v4 ? "the device, or an IPv4" : "the device, or an IPv6";
    return text + " --address whose subnet holds it)";
  }
  // The kernel routes ADDR/N to the device, or with a peer PEER/N (ip-address(8)).
  std::string length = cidr.substr(slash + 1);
  auto routed = util::parse_ip_prefix(peer.empty() ? cidr : peer + "/" + length);
  if (!routed ||
      util::contains(*routed, ip->family, {ip->address.data(), util::address_size(ip->family)}))
    return "";
  std::string routes = peer.empty() ? "--address " + cidr : "--peer " + peer + "/" + length;
  std::string text = "--link-ip " + link_ip + " is outside " + routes;
  text +=
      ", the only addresses routed to the device, so it will not answer (pick an unused "
      "address inside the subnet, or give --address a prefix holding it)";
  return text;
}

std::string mapped_ipv4_error(const std::string& address) {
  unsigned char b[16] = {};
  std::string ip = address.substr(0, address.find('/'));
  if (inet_pton(AF_INET6, ip.c_str(), b) != 1 ||
      !std::all_of(b, b + 10, [](unsigned char x) { return x == 0; }) || b[10] != 0xff ||
      b[11] != 0xff)
    return "";
  return "'" + address + "' is an IPv4-mapped IPv6 address (give the IPv4 address itself)";
}

std::string plain_ip_error(const std::string& address) {
  unsigned char buffer[16];
  if (inet_pton(AF_INET, address.c_str(), buffer) == 1 ||
      inet_pton(AF_INET6, address.c_str(), buffer) == 1)
    return "";
  return "'" + address + "' is not an IPv4 or IPv6 address";
}

namespace {

// The IPv6 prefix `cidr` (ADDR/N, N up to 126) and whether `address` is its Subnet-Router
// anycast address: the prefix with every host bit zero (RFC 4291 2.6.1), which the kernel
// claims for the subnet once forwarding is on. /127 and /128 have none (RFC 6164).
bool subnet_router_anycast(const std::string& address, const std::string& cidr) {
  auto slash = cidr.find('/');
  auto own = util::parse_ip_prefix(cidr);
  auto ip = util::parse_ip_prefix(address);
  // parse_ip_prefix clears host bits: `own` holds the prefix itself, `ip` the full address.
  return slash != std::string::npos && own && ip && own->family == util::IpFamily::v6 &&
         ip->family == util::IpFamily::v6 && own->length <= 126 && ip->address == own->address;
}

}  // namespace

std::string subnet_anycast_error(const std::string& ip, const std::string& cidr) {
  if (!subnet_router_anycast(ip, cidr)) return "";
  return "'" + ip + "' is the subnet-router anycast address of --address " + cidr +
         " (RFC 4291 2.6.1), not a host's";
}

std::string subnet_edge_error(const std::string& cidr) {
  auto slash = cidr.find('/');
  if (slash != std::string::npos && subnet_router_anycast(cidr.substr(0, slash), cidr)) {
    in6_addr first_host{};  // the prefix's first host address, as an example
    inet_pton(AF_INET6, cidr.substr(0, slash).c_str(), &first_host);
    first_host.s6_addr[15] = 1;
    char text_of[INET6_ADDRSTRLEN] = "";
    inet_ntop(AF_INET6, &first_host, text_of, sizeof text_of);
    std::string text = "'" + cidr;
    text += "' is the subnet-router anycast address of its prefix (RFC 4291 2.6.1), not a ";
    return text + "host's (e.g. " + text_of + cidr.substr(slash) + ")";
  }
  in_addr a{};
  if (slash == std::string::npos || inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) != 1 ||
      !valid_prefix(cidr.substr(slash + 1), 32))
    return "";
  long prefix = std::strtol(cidr.c_str() + slash + 1, nullptr, 10);
  if (prefix > 30) return "";  // /31 and /32 have neither (RFC 3021)
  std::uint32_t host_bits = 0xffffffffu >> prefix, host = ntohl(a.s_addr) & host_bits;
  if (host == host_bits)
    return "'" + cidr + "' is the subnet's broadcast address, not a host's (pick another)";
  if (host == 0)
    return "'" + cidr + "' is the subnet's network address, not a host's (e.g. " +
           cidr.substr(0, cidr.rfind('.', slash)) + ".1" + cidr.substr(slash) + ")";
  return "";
}

std::string mac_zero_error(const std::string& mac) {
  bool zero = std::all_of(mac.begin(), mac.end(), [](char c) { return c == '0' || c == ':'; });
  return zero ? "'" + mac + "' is the all-zero MAC; the link needs a real one" : "";
}

bool looks_like_key(const std::string& value) {
  std::string t = util::trim(value);
  return t.size() == 44 && t.back() == '=';
}

}  // namespace tund::config
