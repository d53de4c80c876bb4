#include "tund/device/tun_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tund/device/netif.hpp"

namespace tund::device {
namespace {

const char* kind_name(TunKind k) {
  return k == TunKind::tun ? "TUN" : "TAP";
}

// Refuses early, with a message that names the problem, the cases where TUNSETIFF would
// only say EINVAL: a TUN/TAP of the other kind, or an ordinary interface of that name.
void check_existing(const std::string& name, TunKind wanted, const InterfaceInfo& info) {
  if (!info.exists) return;
  if (!info.tun_kind)
    throw DeviceError("interface " + name + " exists and is not a TUN/TAP device");
  if (*info.tun_kind != wanted)
    throw DeviceError("device " + name + " exists as a " + kind_name(*info.tun_kind) +
                      " device, but " + kind_name(wanted) + " mode was asked for (" +
                      (wanted == TunKind::tap ? "drop -a" : "use -a") + ")");
}

int open_tun(const std::string& name, TunKind kind) {
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    throw DeviceError(std::string("cannot open /dev/net/tun: ") + strerror(errno) +
                      (errno == EACCES || errno == EPERM ? " (needs root or CAP_NET_ADMIN)" : ""));
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>((kind == TunKind::tun ? IFF_TUN : IFF_TAP) | IFF_NO_PI);
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    ::close(fd);
    std::string why = strerror(err);
    if (err == EBUSY) why += " (another process is attached to it)";
    if (err == EPERM) why += " (needs CAP_NET_ADMIN, or the device belongs to another user)";
    throw DeviceError("cannot attach to " + std::string(kind_name(kind)) + " device " + name +
                      ": " + why);
  }
  return fd;
}

}  // namespace

TunDevice::TunDevice(asio::io_context& io, const TunOptions& options)
    : fd_(io), name_(options.name), link_layer_(options.link_layer) {
  if (name_.empty() || name_.size() >= IFNAMSIZ)
    throw DeviceError("invalid interface name '" + name_ + "' (1 to 15 characters)");
  TunKind kind = link_layer_ == LinkLayer::ip ? TunKind::tun : TunKind::tap;
  InterfaceInfo info = probe_interface(name_);
  check_existing(name_, kind, info);
  existed_before_ = info.exists;
  fd_.assign(open_tun(name_, kind));
  if (options.mtu) set_mtu(name_, *options.mtu);
  mtu_ = get_mtu(name_);
}

TunDevice::~TunDevice() {
  close();
}

void TunDevice::async_wait_readable(WaitHandler handler) {
  fd_.async_wait(asio::posix::stream_descriptor::wait_read, std::move(handler));
}

std::size_t TunDevice::read_packet(util::ByteSpan buffer, std::error_code& ec) {
  for (;;) {
    ssize_t n = ::read(fd_.native_handle(), buffer.data(), buffer.size());
    if (n >= 0) {
      ec.clear();
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    ec = std::error_code(errno == EAGAIN ? EWOULDBLOCK : errno, std::generic_category());
    return 0;
  }
}

void TunDevice::write_packet(util::ConstByteSpan packet, std::error_code& ec) {
  for (;;) {
    ssize_t n = ::write(fd_.native_handle(), packet.data(), packet.size());
    if (n >= 0) {
      ec.clear();
      return;
    }
    if (errno == EINTR) continue;
    ec = std::error_code(errno, std::generic_category());
    return;
  }
}

void TunDevice::close() {
  std::error_code ignored;
  if (fd_.is_open()) fd_.close(ignored);
}

}  // namespace tund::device
