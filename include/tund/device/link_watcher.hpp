// Follows one network interface through rtnetlink (rtnetlink(7)): a NETLINK_ROUTE socket
// subscribed to RTNLGRP_LINK and RTNLGRP_IPV4_IFADDR, read on the event loop. It hands
// each decoded event about that interface (link_events.hpp) to its owner. The socket is
// close-on-exec and non-blocking; a kernel-side overrun (ENOBUFS) arrives as an `overrun`
// event so the owner re-reads the state instead of trusting a lossy stream.
#pragma once

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tund/device/link_events.hpp"
#include "tund/util/lifetime.hpp"

namespace tund::device {

class LinkWatcher {
 public:
  using EventHandler = std::function<void(const LinkEvent&)>;
  // Called once if the socket fails for good (the watcher then stops); one line.
  using FailureHandler = std::function<void(const std::string& why)>;

  // Opens and subscribes the socket now (so nothing between now and the first read is
  // missed); throws DeviceError if that fails.
  LinkWatcher(asio::io_context& io, int ifindex);
  ~LinkWatcher();

  void start(EventHandler on_event, FailureHandler on_failure);
  void stop();

 private:
  void wait();
  void read_all();

  asio::posix::stream_descriptor socket_;
  int ifindex_;
  EventHandler on_event_;
  FailureHandler on_failure_;
  std::vector<std::byte> buffer_;
  util::Lifetime lifetime_;  // guards the wait's handler
};

}  // namespace tund::device
