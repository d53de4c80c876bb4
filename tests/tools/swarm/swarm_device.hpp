// The in-memory device of one swarm client: the host that would sit behind a real
// client's TUN/TAP device, played by tund's own link responder. What the tunnel delivers
// (the server's pings, ARP who-has in TAP mode) goes to a link::Responder configured with
// the client's tunnel address; its answer is queued and read back by the client's engine,
// so pinging a swarm client through the hub is answered the way `--link-ip` answers.
// The swarm can also send its own echo requests (ping.hpp) through the same queue, and
// the replies to them are counted here instead of going to the responder.
//
// Bounded: at most kMaxQueued frames wait for the engine; more are dropped and counted
// (a real device's queue drops the same way).
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "swarm/ping.hpp"
#include "tund/device/device.hpp"
#include "tund/link/responder.hpp"

namespace tund::swarm {

struct SwarmDeviceConfig {
  std::string name;           // shown in log lines (the client's name)
  bool ethernet = false;      // TAP: Ethernet frames, the responder answers ARP
  link::Ipv4 address{};       // the client's tunnel address (the responder's link IP)
  unsigned prefix_len = 32;   // of the tunnel subnet
  unsigned mtu = 1400;        // bytes of IP packet
  std::uint16_t echo_id = 0;  // identifier of this client's own echo requests
};

struct SwarmDeviceStats {
  std::uint64_t delivered = 0;       // frames the tunnel wrote to the device
  std::uint64_t answered = 0;        // of those, answered by the responder (echo, ARP)
  std::uint64_t not_answered = 0;    // neither an echo for us nor a reply to our ping
  std::uint64_t queue_drops = 0;     // frames lost because kMaxQueued were waiting
  std::uint64_t read_by_engine = 0;  // frames the engine took (answers and our pings)
};

class SwarmDevice final : public device::Device {
 public:
  static constexpr std::size_t kMaxQueued = 64;

  SwarmDevice(asio::io_context& io, SwarmDeviceConfig config);

  // device::Device
  const std::string& name() const override { return config_.name; }
  device::LinkLayer link_layer() const override;
  unsigned mtu() const override { return config_.mtu; }
  std::vector<device::Ipv4Prefix> ipv4_addresses() const override;
  bool exists() const override { return true; }
  void set_observer(device::DeviceObserver*) override {}  // nothing changes it from outside
  void async_wait_readable(WaitHandler handler) override;
  void async_pause(std::chrono::milliseconds delay, std::function<void()> handler) override;
  std::size_t read_packet(util::ByteSpan buffer, std::error_code& ec) override;
  void write_packet(util::ConstByteSpan packet, std::error_code& ec) override;
  std::error_code flush_writes() override { return {}; }
  void close() override;

  // Queues one echo request from this client to `to` (TUN only); false when the queue is
  // full or the device is closed.
  bool send_ping(const link::Ipv4& to);
  const SwarmDeviceStats& stats() const { return stats_; }
  const link::ResponderStats& responder_stats() const { return responder_.stats(); }
  const PingStats& ping_stats() const { return pinger_.stats(); }

 private:
  bool enqueue(util::ConstByteSpan frame);
  void wake();

  asio::io_context& io_;
  SwarmDeviceConfig config_;
  link::Responder responder_;
  Pinger pinger_;
  asio::steady_timer pause_;
  std::deque<std::vector<std::byte>> queue_;
  WaitHandler waiter_;
  SwarmDeviceStats stats_;
  bool closed_ = false;
};

}  // namespace tund::swarm
