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
//   3. the frame is written to the device; a full queue or a down interface drops it
//      (counted)
#pragma once

#include <cstdint>
#include <functional>
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
  std::uint64_t dropped_too_big = 0;   // larger than the tunnel MTU (answered or not)
  std::uint64_t answered_locally = 0;  // frames the link responder replied to
};

class Engine final : public transport::FrameSink {
 public:
  // `responder` (optional) answers link-local traffic; it is not owned.
  Engine(device::Device& device, transport::Transport& transport, util::Logger& log,
         link::Responder* responder = nullptr);

  void start();
  void stop();
  const EngineStats& stats() const { return stats_; }
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
  void complain(const std::string& what);

  device::Device& device_;
  transport::Transport& transport_;
  util::Logger& log_;
  link::Responder* responder_;
  std::function<void(bool)> observer_;
  EngineStats stats_;
  std::size_t max_frame_;
  std::vector<std::byte> scratch_;  // where packets go when there is no peer
  util::LogLimiter complaints_;
  bool stopped_ = false;
  bool device_down_ = false;
};

}  // namespace tund::tunnel
