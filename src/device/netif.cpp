#include "tund/device/netif.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
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

void ioctl_or_throw(int fd, unsigned long request, void* arg, const std::string& what) {
  if (::ioctl(fd, request, arg) < 0) throw DeviceError(what + ": " + strerror(errno));
}

// An RTM_NEWADDR request: the header, the address message and up to three attributes of
// 16 bytes each (IFA_LOCAL, IFA_ADDRESS, IFA_BROADCAST).
struct AddressRequest {
  nlmsghdr header;
  ifaddrmsg message;
  char attributes[3 * RTA_SPACE(16)];
};

void add_attribute(AddressRequest& req, unsigned short type, const void* data, std::size_t size) {
  auto* rta =
      reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.header.nlmsg_len));
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
  std::memcpy(RTA_DATA(rta), data, size);
  req.header.nlmsg_len = NLMSG_ALIGN(req.header.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

// Sends `req` on a fresh NETLINK_ROUTE socket and reads the kernel's acknowledgement:
// 0 or the errno it reports.
int netlink_request(AddressRequest& req) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return errno;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  int error = 0;
  if (::sendto(fd, &req, req.header.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    error = errno;
  } else {
    alignas(nlmsghdr) char reply[1024];
    ssize_t got = ::recv(fd, reply, sizeof reply, 0);
    const auto* h = reinterpret_cast<const nlmsghdr*>(reply);
    if (got < 0)
      error = errno;
    else if (got >= static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr))) &&
             h->nlmsg_type == NLMSG_ERROR)
      error = -static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
  }
  ::close(fd);
  return error;
}

// The interface flags (IFF_BROADCAST: a TAP device), as SIOCGIFFLAGS reads them.
unsigned interface_flags(const std::string& name) {
  ControlSocket sock;
  ifreq ifr = make_ifreq(name);
  ioctl_or_throw(sock.fd(), SIOCGIFFLAGS, &ifr, "cannot read the flags of " + name);
  return static_cast<unsigned short>(ifr.ifr_flags);
}

// `ip addr replace LOCAL/PREFIX [peer PEER] dev NAME` for either family (rtnetlink(7)):
// IFA_LOCAL is this side's address, IFA_ADDRESS the peer's (or the local one again). An
// IPv4 address on a broadcast (TAP) link gets the subnet's broadcast address, as the
// SIOCSIFNETMASK ioctl gives it.
void add_address(const std::string& name, int family, const void* local, const void* peer,
                 int prefix) {
  unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) throw DeviceError("cannot set an address on " + name + ": " + strerror(errno));
  AddressRequest req{};
  req.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  req.header.nlmsg_type = RTM_NEWADDR;
  req.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
  req.message.ifa_family = static_cast<unsigned char>(family);
  req.message.ifa_prefixlen = static_cast<unsigned char>(prefix);
  req.message.ifa_index = index;
  std::size_t size = family == AF_INET ? 4 : 16;
  add_attribute(req, IFA_LOCAL, local, size);
  add_attribute(req, IFA_ADDRESS, peer ? peer : local, size);
  if (family == AF_INET && !peer && prefix < 31 && (interface_flags(name) & IFF_BROADCAST)) {
    std::uint32_t host_bits = prefix == 0 ? 0xffffffffu : (1u << (32 - prefix)) - 1;
    std::uint32_t broadcast = 0;
    std::memcpy(&broadcast, local, 4);
    broadcast |= htonl(host_bits);
    add_attribute(req, IFA_BROADCAST, &broadcast, 4);
  }
  int error = netlink_request(req);
  if (error && error != EEXIST)
    throw DeviceError("cannot set the address of " + name + ": " + strerror(error));
}

}  // namespace

void set_address(const std::string& name, const std::string& cidr, const std::string& peer) {
  auto slash = cidr.find('/');
  std::string ip = cidr.substr(0, slash);
  unsigned char local[16] = {}, remote[16] = {};
  int family = inet_pton(AF_INET, ip.c_str(), local) == 1    ? AF_INET
               : inet_pton(AF_INET6, ip.c_str(), local) == 1 ? AF_INET6
                                                             : AF_UNSPEC;
  if (family == AF_UNSPEC)
    throw DeviceError("--address: '" + cidr + "' is not an IPv4 or IPv6 address");
  int max_prefix = family == AF_INET ? 32 : 128;
  int prefix = max_prefix;
  if (slash != std::string::npos) {
    char* end = nullptr;
    long p = std::strtol(cidr.c_str() + slash + 1, &end, 10);
    if (*end != '\0' || end == cidr.c_str() + slash + 1 || p < 0 || p > max_prefix)
      throw DeviceError("--address: bad prefix length in '" + cidr + "'");
    prefix = static_cast<int>(p);
  }
  if (!peer.empty() && inet_pton(family, peer.c_str(), remote) != 1)
    throw DeviceError("--peer: '" + peer + "' is not an address of the family of '" + cidr + "'");
  add_address(name, family, local, peer.empty() ? nullptr : remote, prefix);
}

void set_link_up(const std::string& name) {
  ControlSocket sock;
  ifreq ifr = make_ifreq(name);
  ifr.ifr_flags = static_cast<short>(interface_flags(name) | IFF_UP | IFF_RUNNING);
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
