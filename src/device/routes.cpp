#include "tund/device/routes.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tund/device/tun_device.hpp"

namespace tund::device {
namespace {

sockaddr_in ipv4(const std::byte* address) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  std::memcpy(&sin.sin_addr, address, 4);
  return sin;
}

rtentry ipv4_route(std::string& name, const util::IpPrefix& prefix) {
  rtentry rt{};
  auto dst = ipv4(prefix.address.data());
  std::memcpy(&rt.rt_dst, &dst, sizeof dst);
  std::uint32_t bits = prefix.length == 0 ? 0 : ~((1u << (32 - prefix.length)) - 1);
  std::uint32_t mask_be = htonl(bits);
  auto mask = ipv4(reinterpret_cast<const std::byte*>(&mask_be));
  std::memcpy(&rt.rt_genmask, &mask, sizeof mask);
  rt.rt_flags = static_cast<unsigned short>(RTF_UP | (prefix.length == 32 ? RTF_HOST : 0));
  rt.rt_dev = name.data();
  return rt;
}

in6_rtmsg ipv6_route(const std::string& name, const util::IpPrefix& prefix) {
  in6_rtmsg rt{};
  std::memcpy(&rt.rtmsg_dst, prefix.address.data(), 16);
  rt.rtmsg_dst_len = static_cast<unsigned short>(prefix.length);
  rt.rtmsg_flags = RTF_UP;
  rt.rtmsg_metric = 1;
  rt.rtmsg_ifindex = static_cast<int>(::if_nametoindex(name.c_str()));
  return rt;
}

// 0 or the errno of the ioctl.
int route_ioctl(unsigned long request, const std::string& name, const util::IpPrefix& prefix) {
  bool v4 = prefix.family == util::IpFamily::v4;
  int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  std::string dev = name;
  int rc;
  if (v4) {
    rtentry rt = ipv4_route(dev, prefix);
    rc = ::ioctl(fd, request, &rt);
  } else {
    in6_rtmsg rt = ipv6_route(dev, prefix);
    rc = ::ioctl(fd, request, &rt);
  }
  int error = rc < 0 ? errno : 0;
  ::close(fd);
  return error;
}

}  // namespace

void add_route(const std::string& name, const util::IpPrefix& prefix) {
  int error = route_ioctl(SIOCADDRT, name, prefix);
  if (error && error != EEXIST)
    throw DeviceError("cannot route " + util::to_string(prefix) + " through " + name + ": " +
                      std::strerror(error));
}

void remove_route(const std::string& name, const util::IpPrefix& prefix) {
  (void)route_ioctl(SIOCDELRT, name, prefix);  // gone already is fine
}

}  // namespace tund::device
