#include "tund/device/link_watcher.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tund/device/tun_device.hpp"

namespace tund::device {
namespace {

// One datagram can hold several messages; the kernel sizes them to a page or so. 32 KB is
// what iproute2 uses for monitoring.
constexpr std::size_t kBufferSize = 32 * 1024;

int open_route_socket() {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0)
    throw DeviceError(std::string("cannot open a netlink socket to watch the device: ") +
                      strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    int err = errno;
    ::close(fd);
    throw DeviceError(std::string("cannot subscribe to netlink link events: ") + strerror(err));
  }
  return fd;
}

}  // namespace

LinkWatcher::LinkWatcher(asio::io_context& io, int ifindex)
    : socket_(io, open_route_socket()), ifindex_(ifindex), buffer_(kBufferSize) {}

LinkWatcher::~LinkWatcher() {
  stop();
}

void LinkWatcher::start(EventHandler on_event, FailureHandler on_failure) {
  on_event_ = std::move(on_event);
  on_failure_ = std::move(on_failure);
  wait();
}

void LinkWatcher::stop() {
  std::error_code ignored;
  if (socket_.is_open()) socket_.close(ignored);
}

void LinkWatcher::wait() {
  socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                     lifetime_.guard([this](std::error_code ec) {
                       if (ec || !socket_.is_open()) return;
                       read_all();
                     }));
}

// Drains the socket. ENOBUFS means the kernel dropped notifications: the owner re-reads
// the state. Any other error ends the watching with one line (never a retry loop).
void LinkWatcher::read_all() {
  for (;;) {
    if (!socket_.is_open()) return;  // the owner stopped watching from an event handler
    ssize_t n = ::recv(socket_.native_handle(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == ENOBUFS) {
      on_event_(LinkEvent::overrun_event());
      continue;
    }
    if (n <= 0) {
      std::string why = n < 0 ? strerror(errno) : "closed";
      stop();
      if (on_failure_) on_failure_("netlink socket failed (" + why + ")");
      return;
    }
    auto events = parse_link_events({buffer_.data(), static_cast<std::size_t>(n)}, ifindex_);
    for (const LinkEvent& event : events)
      if (socket_.is_open()) on_event_(event);
  }
  wait();
}

}  // namespace tund::device
