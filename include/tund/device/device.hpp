// The engine's view of the local end of the tunnel: a packet device. The real one is a
// TUN/TAP fd (tun_device.hpp); tests use tests/support/fake_device.hpp.
#pragma once

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "tund/util/bytes.hpp"

namespace tund::device {

enum class LinkLayer { ip, ethernet };  // TUN carries IP packets, TAP Ethernet frames

// One IPv4 address on the device with its prefix length (e.g. 10.9.0.1/24), and the
// broadcast address the kernel holds for it when one was set (`ip addr add ... brd X`,
// IFA_BROADCAST; it need not be the subnet's all-ones address).
struct Ipv4Prefix {
  std::array<std::uint8_t, 4> address{};
  unsigned prefix_len = 32;
  std::optional<std::array<std::uint8_t, 4>> broadcast{};
  // One address is one entry whatever its broadcast (RTM_DELADDR names it the same way).
  bool operator==(const Ipv4Prefix& o) const {
    return address == o.address && prefix_len == o.prefix_len;
  }
};

// What the device tells its user about changes made to it from outside (by `ip link`,
// `ip addr`, another program). Every call comes from the event loop.
class DeviceObserver {
 public:
  virtual ~DeviceObserver() = default;
  // The administrator set a new MTU on the live device (bytes of IP packet).
  virtual void on_mtu_changed(unsigned old_mtu, unsigned new_mtu) = 0;
  // The device was renamed; name() already returns `new_name`.
  virtual void on_renamed(const std::string& old_name, const std::string& new_name) = 0;
  // The IPv4 addresses on the device changed; `now` is the complete current set.
  virtual void on_addresses_changed(const std::vector<Ipv4Prefix>& now) = 0;
  // The device no longer exists (deleted); `why` is one line naming it. Called once.
  virtual void on_gone(const std::string& why) = 0;
  // Something worth one log line that changes nothing (e.g. changes can no longer be
  // followed because the netlink socket failed).
  virtual void on_notice(const std::string& line) = 0;
};

// Whether an error from read_packet/write_packet says the device itself is gone (deleted,
// or the fd detached from it): EBADFD, ENODEV, ENXIO. Other errors may be transient; for
// those, Device::exists() tells when in doubt.
bool error_means_gone(std::error_code ec);

class Device {
 public:
  using WaitHandler = std::function<void(std::error_code)>;

  virtual ~Device() = default;

  // The device's current name (it follows renames).
  virtual const std::string& name() const = 0;
  virtual LinkLayer link_layer() const = 0;
  // The device's current MTU (it follows changes made on the live device).
  virtual unsigned mtu() const = 0;
  // The IPv4 addresses currently on the device.
  virtual std::vector<Ipv4Prefix> ipv4_addresses() const = 0;
  // Whether the device still exists (asks the kernel: one syscall, for doubtful errors).
  virtual bool exists() const = 0;
  // Registers who hears about changes (nullptr: nobody). Not owned.
  virtual void set_observer(DeviceObserver* observer) = 0;

  // Calls `handler` once a packet can be read without blocking.
  virtual void async_wait_readable(WaitHandler handler) = 0;
  // Calls `handler` after `delay`, then the caller waits for readability again: the way to
  // retry after a read error without spinning on an fd that stays readable.
  virtual void async_pause(std::chrono::milliseconds delay, std::function<void()> handler) = 0;
  // Reads one packet; returns its size, or 0 with `ec` set (would_block when drained).
  virtual std::size_t read_packet(util::ByteSpan buffer, std::error_code& ec) = 0;
  // Writes one packet without blocking, or (TUN offloads) queues it to be merged with the
  // next ones of its TCP flow. A full device queue drops it (ec set), as a router would:
  // the net→device direction must never stall the socket reader.
  virtual void write_packet(util::ConstByteSpan packet, std::error_code& ec) = 0;
  // The end of a batch of writes (one socket read's worth of frames): whatever is queued
  // goes to the kernel now. Returns the first error among those writes (each failed write
  // lost its packet).
  virtual std::error_code flush_writes() = 0;
  // Every packet written from now on was authenticated end to end (an AEAD session), so
  // a device that merges TCP segments may skip verifying their checksums first (see
  // offload/coalescer.hpp). Devices that do not merge ignore it.
  virtual void set_checksums_trusted(bool /*trusted*/) {}

  virtual void close() = 0;
};

inline bool error_means_gone(std::error_code ec) {
  if (ec.category() != std::generic_category() && ec.category() != std::system_category())
    return false;
  int v = ec.value();
  return v == EBADFD || v == ENODEV || v == ENXIO;
}

}  // namespace tund::device
