// A Linux TUN (IP) or TAP (Ethernet) device from /dev/net/tun, opened with IFF_NO_PI so the
// bytes read and written are exactly the bytes on the wire format.
#pragma once

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "tund/device/device.hpp"

namespace tund::device {

// Thrown when the device cannot be opened/configured; what() is a complete one-line message.
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TunOptions {
  std::string name;  // e.g. "tun3"; created if missing, attached if persistent
  LinkLayer link_layer = LinkLayer::ip;
  std::optional<unsigned> mtu;  // set on the device when given
};

class TunDevice final : public Device {
 public:
  TunDevice(asio::io_context& io, const TunOptions& options);
  ~TunDevice() override;

  const std::string& name() const override { return name_; }
  LinkLayer link_layer() const override { return link_layer_; }
  unsigned mtu() const override { return mtu_; }
  // True when the device existed before tund attached (made with `ip tuntap add`): it is
  // left in place at exit, while a device tund created disappears with its fd.
  bool was_persistent() const { return existed_before_; }

  void async_wait_readable(WaitHandler handler) override;
  std::size_t read_packet(util::ByteSpan buffer, std::error_code& ec) override;
  void write_packet(util::ConstByteSpan packet, std::error_code& ec) override;
  void close() override;

 private:
  asio::posix::stream_descriptor fd_;
  std::string name_;
  LinkLayer link_layer_;
  unsigned mtu_ = 0;
  bool existed_before_ = false;
};

}  // namespace tund::device
