// The engine's view of the local end of the tunnel: a packet device. The real one is a
// TUN/TAP fd (tun_device.hpp); tests use tests/support/fake_device.hpp.
#pragma once

#include <functional>
#include <string>
#include <system_error>

#include "tund/util/bytes.hpp"

namespace tund::device {

enum class LinkLayer { ip, ethernet };  // TUN carries IP packets, TAP Ethernet frames

class Device {
 public:
  using WaitHandler = std::function<void(std::error_code)>;

  virtual ~Device() = default;

  virtual const std::string& name() const = 0;
  virtual LinkLayer link_layer() const = 0;
  virtual unsigned mtu() const = 0;

  // Calls `handler` once a packet can be read without blocking.
  virtual void async_wait_readable(WaitHandler handler) = 0;
  // Reads one packet; returns its size, or 0 with `ec` set (would_block when drained).
  virtual std::size_t read_packet(util::ByteSpan buffer, std::error_code& ec) = 0;
  // Writes one packet without blocking. A full device queue drops it (ec set), as a router
  // would: the net→device direction must never stall the socket reader.
  virtual void write_packet(util::ConstByteSpan packet, std::error_code& ec) = 0;

  virtual void close() = 0;
};

}  // namespace tund::device
