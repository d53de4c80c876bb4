// The tunnel engine: moves frames between a device and a transport. It sees only the two
// interfaces, so tests run two engines against each other with fakes, without root.
//
// Outbound flow (device -> net):
//   1. wait until the device is readable
//   2. read each packet straight into the transport's tx slot (no copy)
//   3. the link responder may answer it locally instead (ARP/ping for the link address,
//      ICMP unreachable while the peer is down, fragmentation needed when too big);
//      otherwise commit it
//   4. after a batch, or when the device is drained, flush: one send for the batch
//   5. if the transport is not writable, stop reading the device until it says so
//      (backpressure: the kernel's device queue absorbs bursts, then drops, as a NIC does)
//   6. with no peer, packets are read, answered by the responder or dropped (counted)
// Inbound flow (net -> device):
//   1. the transport decodes frames in its receive buffer and calls on_frame
//   2. a frame that cannot be a packet of the link's kind is dropped and counted
//   3. the frame is written to the device, whatever our MTU (a peer with a larger MTU is
//      logged once per new largest size); a full queue or a down interface drops it
//      (counted)
// The device itself (DeviceObserver): an MTU set on the live device becomes the tunnel
// MTU; a rename is logged; its IPv4 prefixes go to the responder (no ICMP errors for
// their broadcasts); when it is gone (deleted, or its fd fails with a "gone" error) the
// engine stops and calls the failure handler once. An error on the device fd that does
// not mean "gone" is retried after a pause, never in a tight loop.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tund/device/device.hpp"
#include "tund/link/responder.hpp"
#include "tund/transport/transport.hpp"
#include "tund/util/log.hpp"

namespace tund::tunnel {

struct EngineStats {
  std::uint64_t device_reads = 0;         // packets read from the device
  std::uint64_t device_writes = 0;        // packets written to the device
  std::uint64_t dropped_no_peer = 0;      // read while no peer was connected
  std::uint64_t dropped_malformed = 0;    // received frames that were not a plausible packet
  std::uint64_t dropped_device_down = 0;  // received while the interface was down
  std::uint64_t device_write_errors = 0;
  std::uint64_t device_read_errors = 0;
  std::uint64_t dropped_too_big = 0;     // larger than the tunnel MTU (answered or not)
  std::uint64_t answered_locally = 0;    // frames the link responder replied to
  std::uint64_t received_above_mtu = 0;  // delivered, though larger than our MTU
  std::uint64_t largest_received = 0;    // the largest such packet (IP bytes)
};

class Engine final : public transport::FrameSink, private device::DeviceObserver {
 public:
  // `responder` (optional) answers link-local traffic; it is not owned.
  Engine(device::Device& device, transport::Transport& transport, util::Logger& log,
         link::Responder* responder = nullptr);
  ~Engine() override { device_.set_observer(nullptr); }  // the device may outlive us
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void start();
  // Idempotent. The device and transport are closed; nothing is read or written after.
  void stop();
  const EngineStats& stats() const { return stats_; }
  // Called once, when the engine can no longer work (the device is gone); `why` is one
  // line naming the device. The engine has stopped itself by then (the transport is
  // closed on the next turn of the event loop). The handler logs `why`.
  void set_failure_handler(std::function<void(const std::string& why)> handler) {
    on_failure_ = std::move(handler);
  }
  // False once failed: the daemon feeds the systemd watchdog only while true.
  bool healthy() const { return !failed_; }
  // The MTU the tunnel carries now (follows the device's).
  unsigned tunnel_mtu() const { return mtu_; }
  // Told whenever the peer comes or goes (the daemon reports it to systemd).
  void set_peer_observer(std::function<void(bool up)> observer) { observer_ = std::move(observer); }

  // FrameSink: what the transport received.
  void on_frame(util::ConstByteSpan frame) override;
  void on_peer_state(bool up) override;

 private:
  void pump_outbound();
  bool read_one_into_transport();
  void drain_without_peer();
  // Lets the responder see a frame from the device; true if it was handled locally.
  bool answered_locally(util::ConstByteSpan frame, bool peer_up);
  void wait_for_device();
  void on_read_error(std::error_code ec);
  bool write_to_device(util::ConstByteSpan frame);
  void device_write_failed(std::error_code ec);
  void note_above_mtu(util::ConstByteSpan frame);
  void complain_too_big(std::size_t size);
  void fail(const std::string& why);
  void complain(const std::string& what);
  void log_capped_mtu(unsigned device_mtu);

  // DeviceObserver
  void on_mtu_changed(unsigned old_mtu, unsigned new_mtu) override;
  void on_renamed(const std::string& old_name, const std::string& new_name) override;
  void on_addresses_changed(const std::vector<device::Ipv4Prefix>& now) override;
  void on_gone(const std::string& why) override;
  void on_notice(const std::string& line) override;

  device::Device& device_;
  transport::Transport& transport_;
  util::Logger& log_;
  link::Responder* responder_;
  std::function<void(bool)> observer_;
  std::function<void(const std::string&)> on_failure_;
  EngineStats stats_;
  unsigned mtu_;
  std::size_t max_frame_;
  std::vector<std::byte> scratch_;  // where packets go when there is no peer
  util::LogLimiter complaints_;
  util::LogLimiter device_state_log_;  // "device is down / up" lines
  util::LogLimiter too_big_log_;
  util::LogLimiter above_mtu_log_{1, std::chrono::seconds(10)};
  std::size_t largest_logged_ = 0;  // the above-MTU size last reported
  bool stopped_ = false;
  bool closed_ = false;
  bool failed_ = false;
  bool device_down_ = false;
  bool read_error_pending_ = false;  // a pause after a read error is running
};

}  // namespace tund::tunnel
