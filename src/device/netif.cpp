#include "tund/device/netif.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <linux/ipv6.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "tund/device/tun_device.hpp"

namespace tund::device {
namespace {

// A throwaway socket for SIOC[GS]IFMTU; closed on every path.
class ControlSocket {
 public:
  explicit ControlSocket(int family = AF_INET)
      : fd_(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw DeviceError(std::string("cannot open control socket: ") + strerror(errno));
  }
  ~ControlSocket() { ::close(fd_); }
  int fd() const { return fd_; }

 private:
  int fd_;
};

ifreq make_ifreq(const std::string& name) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return ifr;
}

}  // namespace

InterfaceInfo probe_interface(const std::string& name) {
  InterfaceInfo info;
  std::ifstream ifindex("/sys/class/net/" + name + "/ifindex");
  info.exists = ifindex.good();
  if (!info.exists) return info;
  // tun_flags only exists for TUN/TAP devices; it holds IFF_TUN or IFF_TAP in hex.
  std::ifstream flags_file("/sys/class/net/" + name + "/tun_flags");
  unsigned flags = 0;
  if (flags_file >> std::hex >> flags)
    info.tun_kind = (flags & IFF_TAP) ? TunKind::tap : TunKind::tun;
  return info;
}

unsigned get_mtu(const std::string& name) {
  ControlSocket sock;
  ifreq ifr = make_ifreq(name);
  if (::ioctl(sock.fd(), SIOCGIFMTU, &ifr) < 0)
    throw DeviceError("cannot read the MTU of " + name + ": " + strerror(errno));
  return static_cast<unsigned>(ifr.ifr_mtu);
}

void set_mtu(const std::string& name, unsigned mtu) {
  ControlSocket sock;
  ifreq ifr = make_ifreq(name);
  ifr.ifr_mtu = static_cast<int>(mtu);
  if (::ioctl(sock.fd(), SIOCSIFMTU, &ifr) < 0)
    throw DeviceError("cannot set MTU " + std::to_string(mtu) + " on " + name + ": " +
                      strerror(errno));
}

namespace {

sockaddr_in ipv4_sockaddr(const in_addr& a) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr = a;
  return sin;
}

void ioctl_or_throw(int fd, unsigned long request, void* arg, const std::string& what) {
  if (::ioctl(fd, request, arg) < 0) throw DeviceError(what + ": " + strerror(errno));
}

void set_ipv4(const std::string& name, const in_addr& addr, int prefix, const std::string& peer) {
  ControlSocket sock;
  ifreq ifr = make_ifreq(name);
  auto sin = ipv4_sockaddr(addr);
  std::memcpy(&ifr.ifr_addr, &sin, sizeof sin);
  ioctl_or_throw(sock.fd(), SIOCSIFADDR, &ifr, "cannot set the address of " + name);
  in_addr mask{};
  mask.s_addr = htonl(prefix == 0 ? 0 : ~((1u << (32 - prefix)) - 1));
  sin = ipv4_sockaddr(mask);
  std::memcpy(&ifr.ifr_netmask, &sin, sizeof sin);
  ioctl_or_throw(sock.fd(), SIOCSIFNETMASK, &ifr, "cannot set the netmask of " + name);
  if (peer.empty()) return;
  in_addr dst{};
  if (inet_pton(AF_INET, peer.c_str(), &dst) != 1)
    throw DeviceError("--peer: '" + peer + "' is not an IPv4 address");
  sin = ipv4_sockaddr(dst);
  std::memcpy(&ifr.ifr_dstaddr, &sin, sizeof sin);
  ioctl_or_throw(sock.fd(), SIOCSIFDSTADDR, &ifr, "cannot set the peer address of " + name);
}

void set_ipv6(const std::string& name, const in6_addr& addr, int prefix) {
  ControlSocket sock(AF_INET6);
  in6_ifreq req{};
  req.ifr6_addr = addr;
  req.ifr6_prefixlen = static_cast<__u32>(prefix);
  req.ifr6_ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  if (::ioctl(sock.fd(), SIOCSIFADDR, &req) < 0 && errno != EEXIST)
    throw DeviceError("cannot set the IPv6 address of " + name + ": " + strerror(errno));
}

}  // namespace

void set_address(const std::string& name, const std::string& cidr, const std::string& peer) {
  auto slash = cidr.find('/');
  std::string ip = cidr.substr(0, slash);
  in_addr v4{};
  in6_addr v6{};
  bool is_v4 = inet_pton(AF_INET, ip.c_str(), &v4) == 1;
  bool is_v6 = !is_v4 && inet_pton(AF_INET6, ip.c_str(), &v6) == 1;
  int max_prefix = is_v4 ? 32 : 128;
  int prefix = max_prefix;
  if (slash != std::string::npos) {
    char* end = nullptr;
    long p = std::strtol(cidr.c_str() + slash + 1, &end, 10);
    if (*end != '\0' || end == cidr.c_str() + slash + 1 || p < 0 || p > max_prefix)
      throw DeviceError("--address: bad prefix length in '" + cidr + "'");
    prefix = static_cast<int>(p);
  }
  if (is_v4) return set_ipv4(name, v4, prefix, peer);
  if (!is_v6) throw DeviceError("--address: '" + cidr + "' is not an IPv4 or IPv6 address");
  if (!peer.empty()) throw DeviceError("--peer is supported with an IPv4 --address only");
  set_ipv6(name, v6, prefix);
}

void set_link_up(const std::string& name) {
  ControlSocket sock;
  ifreq ifr = make_ifreq(name);
  ioctl_or_throw(sock.fd(), SIOCGIFFLAGS, &ifr, "cannot read the flags of " + name);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  ioctl_or_throw(sock.fd(), SIOCSIFFLAGS, &ifr, "cannot bring " + name + " up");
}

}  // namespace tund::device

namespace tund::device {
namespace {

unsigned prefix_length(const sockaddr* netmask) {
  if (!netmask || netmask->sa_family != AF_INET) return 32;
  std::uint32_t mask = ntohl(reinterpret_cast<const sockaddr_in*>(netmask)->sin_addr.s_addr);
  return static_cast<unsigned>(__builtin_popcount(mask));
}

}  // namespace

std::vector<Ipv4Prefix> read_ipv4_addresses(const std::string& name) {
  std::vector<Ipv4Prefix> result;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return result;
  for (ifaddrs* at = list; at; at = at->ifa_next) {
    if (!at->ifa_addr || at->ifa_addr->sa_family != AF_INET || name != at->ifa_name) continue;
    Ipv4Prefix prefix;
    const auto* in = reinterpret_cast<const sockaddr_in*>(at->ifa_addr);
    std::memcpy(prefix.address.data(), &in->sin_addr, 4);
    prefix.prefix_len = prefix_length(at->ifa_netmask);
    // ifa_broadaddr shares its slot with the point-to-point peer: only a broadcast link has one.
    if ((at->ifa_flags & IFF_BROADCAST) && at->ifa_broadaddr &&
        at->ifa_broadaddr->sa_family == AF_INET) {
      const auto* b = reinterpret_cast<const sockaddr_in*>(at->ifa_broadaddr);
      prefix.broadcast.emplace();
      std::memcpy(prefix.broadcast->data(), &b->sin_addr, 4);
    }
    result.push_back(prefix);
  }
  ::freeifaddrs(list);
  return result;
}

std::optional<std::string> interface_name(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex <= 0 || ::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr)
    return std::nullopt;
  return std::string(name);
}

bool interface_exists(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr) return true;
  return errno != ENXIO && errno != ENODEV;  // e.g. out of descriptors: no evidence it is gone
}

}  // namespace tund::device
