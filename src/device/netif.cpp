#include "tund/device/netif.hpp"

#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "tund/device/tun_device.hpp"

namespace tund::device {
namespace {

// A throwaway socket for SIOC[GS]IFMTU; closed on every path.
class ControlSocket {
 public:
  ControlSocket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
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

}  // namespace tund::device
