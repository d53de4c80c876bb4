// UDP transport: one frame per datagram behind the 4-byte tund header (proto/wire.hpp).
// Client: a connected socket to the server; it probes with keepalives (with backoff) until
// the server answers. Server: learns its peer from the first valid datagram and follows it
// when the client's address or port changes (NAT rebinding). Both sides send a keepalive
// after an idle interval and declare the peer gone after three silent intervals.
#pragma once

#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "tund/proto/udp_message.hpp"
#include "tund/transport/backoff.hpp"
#include "tund/transport/endpoints.hpp"
#include "tund/transport/security.hpp"
#include "tund/transport/transport.hpp"
#include "tund/transport/udp_batch.hpp"
#include "tund/util/log.hpp"
#include "tund/util/rate_limiter.hpp"

namespace tund::transport {

struct UdpOptions {
  bool server = false;
  RemoteServer remote;  // client: the server (the first address is used)
  asio::ip::address listen;      // server: the local address ([::] = dual-stack)
  std::uint16_t port = 0;        // server: the local port
  std::size_t max_frame = 0;
  std::chrono::milliseconds keepalive{10000};
  Security* security = nullptr;  // encrypted mode when set (not owned)
  bool offload = true;           // UDP GSO/GRO when the kernel has them (--no-offload: off)
};

class UdpTransport final : public Transport {
 public:
  // Opens and binds/connects at once (a port in use is a TransportError at start-up).
  UdpTransport(asio::io_context& io, UdpOptions options, util::Logger& log, Backoff probe_backoff);
  ~UdpTransport() override { stop(); }

  void start(FrameSink& sink) override;
  void stop() override;
  bool peer_up() const override { return up_; }
  bool writable() const override { return up_ && !send_blocked_; }
  void when_writable(std::function<void()> resume) override { resume_ = std::move(resume); }
  util::ByteSpan tx_slot() override;
  void commit(std::size_t size) override;
  void flush() override;
  const TransportStats& stats() const override { return stats_; }

  std::uint16_t local_port() const { return socket_.local_endpoint().port(); }

 private:
  using Clock = std::chrono::steady_clock;

  void open_server();
  void open_client();
  void receive();
  void drain_socket();
  void on_datagram(util::ByteSpan datagram, const asio::ip::udp::endpoint& from);
  void on_plain_message(const proto::UdpMessage& message, const asio::ip::udp::endpoint& from);
  void on_secure_message(util::ByteSpan datagram, const asio::ip::udp::endpoint& from);
  void note_peer(const asio::ip::udp::endpoint& from);
  void refresh_up();
  void set_up(bool up);
  void send_keepalive();
  void send_initiation_if_due();
  void send_batch();
  void send_raw(const std::byte* data, std::size_t size, const asio::ip::udp::endpoint& to);
  void rebind_source(const char* why);
  void wait_writable();
  void tick();
  void complain(const std::string& what);
  void notify_resume();
  std::string peer_name() const;

  UdpOptions options_;
  util::Logger& log_;
  Backoff probe_backoff_;
  asio::ip::udp::socket socket_;
  asio::steady_timer timer_;
  FrameSink* sink_ = nullptr;
  TransportStats stats_;
  util::LogLimiter wire_complaints_;

  Security* security_;
  util::RateLimiter handshake_limiter_;
  std::optional<asio::ip::udp::endpoint> peer_;  // where datagrams go
  bool up_ = false;
  bool stopped_ = false;
  Clock::time_point last_rx_{}, last_tx_{}, next_probe_{};
  // Encrypted client: when the first frame after the last authenticated datagram left.
  Clock::time_point unanswered_since_{};
  Clock::time_point last_data_rx_{};  // the last frame (not keepalive) received
  Clock::time_point last_rebind_{};

  DatagramBatch batch_;  // frames (sealed in place) waiting for the next flush
  std::optional<DatagramReceiver> receiver_;
  bool send_blocked_ = false;  // the socket said EAGAIN; the batch waits for it
  std::uint64_t dropped_seen_ = 0;
  unsigned unanswered_probes_ = 0;  // plaintext client probes sent without an answer
  std::function<void()> resume_;
};

}  // namespace tund::transport
