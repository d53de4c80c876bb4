// The engine's view of the network end of the tunnel: a pipe with endpoints, as
// wireguard-go's conn.Bind. It sends messages to an endpoint and delivers the messages it
// receives with the endpoint they came from. It knows no peers, no sessions and no
// crypto: who a message belongs to, and what it means, is the engine's business
// (tunnel/engine.hpp). Concrete pipes: TCP (tcp_client.hpp, tcp_server.hpp: a set of
// connections) and UDP (udp_transport.hpp: one socket); tests use the in-memory pipes of
// tests/support/loopback_bind.hpp.
//
// A "message" is what one UDP datagram or one TCP frame's payload carries (wire.hpp):
// plaintext UDP: 4-byte header + frame; plaintext TCP: the bare frame (simpletun's
// framing); encrypted: a handshake or transport message. The TCP pipe adds and strips the
// u16 length prefix; nothing else is added or checked here beyond the wire's size limits.
#pragma once

#include <asio/ip/address.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "tund/proto/wire.hpp"
#include "tund/util/bytes.hpp"

namespace tund::transport {

// One remote end. UDP: the remote socket address (connection == 0). TCP: one connection,
// numbered by the pipe from 1 and never reused (address/port are its remote end, for
// logs and rate limits). Cheap to copy and compare; formatting it is for logs only.
// `local`: a UDP server bound to a wildcard address records the address of this host the
// remote end sent to (IP_PKTINFO / IPV6_PKTINFO, pktinfo.hpp), and what is sent to the
// endpoint leaves from it; unspecified everywhere else (the kernel picks the source). It is
// part of the path, so a client that moves to another of the server's addresses is a new
// endpoint, as one behind a new port is.
struct Endpoint {
  asio::ip::address address;
  std::uint16_t port = 0;
  std::uint64_t connection = 0;
  asio::ip::address local{};
  bool operator==(const Endpoint&) const = default;
};
// "198.18.0.2:40000" or "[2001:db8::1]:55555"; IPv4-mapped IPv6 is shown as IPv4. Inline:
// the engine names endpoints in its log lines without linking a transport implementation.
inline std::string to_string(const asio::ip::address& address, std::uint16_t port) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return to_string(asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()), port);
  // Appended into one string rather than chained operator+: GCC 12 at -O3 inlines
  // `"[" + std::string` into a memcpy it cannot prove disjoint and reports a false
  // -Wrestrict (GCC bug 105329), which -Werror turns into a failed Release build.
  std::string text;
  text.reserve(48);
  if (address.is_v6())
    text.append("[").append(address.to_string()).append("]");
  else
    text.append(address.to_string());
  text.append(":").append(std::to_string(port));
  return text;
}
inline std::string to_string(const Endpoint& endpoint) {
  return to_string(endpoint.address, endpoint.port);
}

// The largest message a pipe carries: the u16 length prefix bounds TCP; UDP datagrams
// are bounded the same, so both sides of the engine see one limit.
inline constexpr std::size_t kMaxMessage = 65535;
// What message_slot() spans (an addition to the contract): kMaxMessage plus the encryption
// overhead, so the engine can read the largest device packet (65535 bytes) behind any
// header and see it whole, to refuse it, rather than truncated. At most kMaxMessage bytes
// are sent: a larger commit is dropped and counted (tx_dropped).
inline constexpr std::size_t kMessageSlot = kMaxMessage + proto::kTransportOverhead;

// Where a pipe delivers what it receives. Called on the io_context's thread.
class Receiver {
 public:
  virtual ~Receiver() = default;
  // One message, valid (and writable: it is decrypted in place) only during the call.
  virtual void on_message(const Endpoint& from, util::ByteSpan message) = 0;
  // An endpoint appeared: TCP: a connection made (client) or accepted (server); UDP
  // client: its socket connected to a server address (at start, when a route returns, or
  // the next address after the current one stopped answering). A UDP server has no such
  // event: its endpoints are learned from messages.
  virtual void on_endpoint_up(const Endpoint& endpoint) = 0;
  // It is gone: a TCP connection closed (by the remote end, an error, or close()); the UDP
  // client lost its path (no route) or gave up this address for another. `reason` is one
  // line for the log ("connection reset by peer", "no route to host").
  virtual void on_endpoint_down(const Endpoint& endpoint, const std::string& reason) = 0;
  // After the messages of one wake-up (a recvmmsg batch, one TCP read): where the
  // receiver flushes what it buffered (device writes, replies).
  virtual void on_receive_batch_end() {}
};

// Counters for what the pipe saw and refused; the engine keeps the per-peer ones.
struct TransportStats {
  std::uint64_t rx_messages = 0, rx_bytes = 0;  // delivered to the Receiver
  std::uint64_t tx_messages = 0, tx_bytes = 0;  // committed or sent as control messages
  std::uint64_t rx_zero_length = 0;             // TCP frames with length 0 (connection closed)
  std::uint64_t rx_oversize = 0;                // messages longer than the wire allows (dropped)
  std::uint64_t rx_truncated = 0;               // connections that ended inside a frame
  std::uint64_t tx_dropped = 0;                 // messages lost because the socket failed
  std::uint64_t connections = 0;                // TCP connections made or accepted
  std::uint64_t rx_refused_connections = 0;     // TCP: past the handshake deadline
  std::uint64_t accept_paused = 0;  // TCP server: times accepting stopped at the pending cap
  std::uint64_t accept_errors = 0;  // TCP server: accept() failures (EMFILE, ENFILE, ...)
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Binds/connects as configured and starts delivering to `receiver`.
  virtual void start(Receiver& receiver) = 0;
  // Idempotent: every endpoint closed (no on_endpoint_down), nothing delivered after.
  virtual void stop() = 0;
  // Datagram pipe (UDP): messages may be lost or reordered; plaintext messages carry the
  // 4-byte header of wire.hpp; keepalives exist. Stream pipe (TCP): ordered and reliable
  // per endpoint; liveness is the connection's.
  virtual bool datagram() const = 0;

  // ---- sending, zero-copy -----------------------------------------------------------
  // The engine writes one message straight into message_slot(to) (kMaxMessage bytes; the
  // frame is read from the device at whatever offset the engine needs for its header, and
  // sealed in place), then commit(to, size). flush() sends everything committed: UDP, one
  // sendmmsg per batch whatever the mix of endpoints (runs to one endpoint as UDP GSO);
  // TCP, one send per connection. Commits to interleaved endpoints (a hub's device
  // packets) stay in one batch; a pipe sends early only when its batch is full. Only
  // valid while writable(to).
  virtual bool writable(const Endpoint& to) const = 0;
  virtual util::ByteSpan message_slot(const Endpoint& to) = 0;
  // False: the message was not taken (too large, no such endpoint, a full buffer),
  // counted in tx_dropped; its slot is handed out again.
  virtual bool commit(const Endpoint& to, std::size_t size) = 0;
  virtual void flush() = 0;
  // Backpressure: while writable(to) is false for some endpoint, the engine keeps that
  // endpoint's packets (or drops them, counted) and asks to be resumed. `resume` runs
  // once, on the io_context's thread, never from inside this call: when any endpoint that
  // was not writable becomes writable again (TCP: one of possibly many connections
  // drained below its high-water mark; UDP: the socket, shared by all endpoints, drained),
  // or when an endpoint comes or goes. Traffic on endpoints that stayed writable does not
  // run it. It does not say which endpoint: an engine with per-peer queues retries only
  // its peers that were blocked (asking writable() again) and calls when_writable() anew
  // if some still are. A later call replaces an unrun `resume`.
  virtual void when_writable(std::function<void()> resume) = 0;
  // A small control message (handshake, keepalive, confirmation): copied and sent at once,
  // ahead of nothing already committed. Best effort: false if it could not be queued (TCP:
  // the output buffer is full; an endpoint that is closed or unknown).
  virtual bool send_control(const Endpoint& to, util::ConstByteSpan message) = 0;

  // ---- the engine's decisions about endpoints ----------------------------------------
  // TCP: closes that connection (replaced by a newer one, a failed handshake, a session
  // that ended); on_endpoint_down follows with `reason`. UDP: nothing to close.
  virtual void close(const Endpoint& endpoint, const std::string& reason) = 0;
  // TCP server: this connection now belongs to a peer, so it is no longer subject to the
  // cap on connections awaiting a handshake (--max-pending) or their deadline
  // (proto::kHandshakeDeadline). Plaintext: called at once for each new connection.
  virtual void adopt(const Endpoint& endpoint) = 0;
  // Whether the peer behind `endpoint` answers (encrypted: authenticated, session up). The
  // UDP client tries the server's next address when the current one has not answered for
  // proto::kAddressPatience; the TCP client tells "closed before the handshake completed"
  // from "disconnected" and starts its backoff over only after a connection that answered.
  virtual void set_answering(const Endpoint& endpoint, bool answering) = 0;

  virtual const TransportStats& stats() const = 0;

  // Called before committed messages leave or are discarded (a send, a full batch, a
  // control message sent behind them, a close, stop): the engine seals a batch's frames
  // on its workers after committing them, and this is where that work must be done by.
  // Not owned; the setter clears it with nullptr before it goes.
  void set_before_send(std::function<void()> hook) { before_send_ = std::move(hook); }

 protected:
  void before_send() {
    if (before_send_) before_send_();
  }

 private:
  std::function<void()> before_send_;
};

}  // namespace tund::transport
