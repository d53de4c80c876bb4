// The engine's view of the network end of the tunnel. Concrete transports: TCP
// (tcp_client.hpp, tcp_server.hpp) and UDP (udp_transport.hpp); tests use the in-memory
// pair in tests/support/loopback_transport.hpp.
#pragma once

#include <cstdint>
#include <functional>

#include "tund/util/bytes.hpp"

namespace tund::transport {

// Where a transport delivers what arrives from the peer.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // One IP packet (TUN) or Ethernet frame (TAP), valid only during the call.
  virtual void on_frame(util::ConstByteSpan frame) = 0;
  // The peer became reachable (connected / first datagram) or went away.
  virtual void on_peer_state(bool up) = 0;
};

// Counters for what the transport saw and refused; printed on SIGUSR1 and at exit.
struct TransportStats {
  std::uint64_t rx_frames = 0, rx_bytes = 0, tx_frames = 0, tx_bytes = 0;
  std::uint64_t rx_zero_length = 0;   // TCP frames with length 0 (connection closed)
  std::uint64_t rx_oversize = 0;      // frames longer than the wire format allows (dropped)
  std::uint64_t rx_truncated = 0;     // connections that ended inside a frame
  std::uint64_t rx_bad_datagram = 0;  // UDP datagrams of the wrong shape
  std::uint64_t rx_refused = 0;       // encrypted mode: messages the session refused
  std::uint64_t rx_rate_limited = 0;  // handshake initiations over the per-source limit
  std::uint64_t tx_dropped = 0;       // frames lost because the socket failed
  std::uint64_t sessions = 0;         // connections made / peers learned
  std::uint64_t peer_changes = 0;     // a newer client replaced the old one / NAT rebinding
};

class Transport {
 public:
  virtual ~Transport() = default;

  virtual void start(FrameSink& sink) = 0;
  virtual void stop() = 0;

  virtual bool peer_up() const = 0;
  // Backpressure: false while the socket is behind. The engine then stops reading the
  // device and asks to be resumed with when_writable, so nothing queues without bound.
  virtual bool writable() const = 0;
  virtual void when_writable(std::function<void()> resume) = 0;

  // Zero-copy send: the engine reads one frame straight into tx_slot() (65535 bytes, so no
  // device read is ever truncated; only valid while writable()) and commits its size, which
  // is at most the link's max frame; flush() pushes what was committed to the socket, so a
  // batch of frames costs one syscall.
  virtual util::ByteSpan tx_slot() = 0;
  virtual void commit(std::size_t size) = 0;
  virtual void flush() = 0;

  virtual const TransportStats& stats() const = 0;
};

}  // namespace tund::transport
