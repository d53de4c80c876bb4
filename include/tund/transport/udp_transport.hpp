// UDP transport: one frame per datagram behind the 4-byte tund header (proto/wire.hpp).
// Client: a connected socket to one of the server's addresses; it probes with keepalives
// (encrypted: handshake initiations) until the server answers. Started without a route,
// or when the route or its own address vanishes, it retries the connect each second
// (a connect sends nothing) and logs one line per change of state. An address that does
// not answer for a few seconds makes it try the server's next address (reopening the
// socket for the other family if needed); after the last one it looks the name up again.
// Server: learns its peer from the first valid datagram and follows it when the client's
// address or port changes (NAT rebinding). Both sides send a keepalive after an idle
// interval and declare the peer gone after three silent intervals.
#pragma once

#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "tund/proto/udp_message.hpp"
#include "tund/transport/endpoints.hpp"
#include "tund/transport/security.hpp"
#include "tund/transport/server_lookup.hpp"
#include "tund/transport/transport.hpp"
#include "tund/transport/udp_batch.hpp"
#include "tund/util/backoff.hpp"
#include "tund/util/log.hpp"
#include "tund/util/rate_limiter.hpp"

namespace tund::transport {

struct UdpOptions {
  bool server = false;
  RemoteServer remote;       // client: the server (addresses may be empty: looked up)
  asio::ip::address listen;  // server: the local address ([::] = dual-stack)
  std::uint16_t port = 0;    // server: the local port
  std::chrono::milliseconds keepalive{10000};
  Security* security = nullptr;  // encrypted mode when set (not owned)
  bool offload = true;           // UDP GSO/GRO when the kernel has them (--no-offload: off)
};

class UdpTransport final : public Transport {
 public:
  // Server: binds at once (a port in use is a TransportError at start-up). Client: never
  // fails here; it connects from start() on, retrying while there is no route.
  UdpTransport(asio::io_context& io, UdpOptions options, util::Logger& log,
               util::Backoff probe_backoff);
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

  std::uint16_t local_port() const;  // 0 while the client has no socket

 private:
  using Clock = std::chrono::steady_clock;

  void open_server();
  void open_socket(const asio::ip::udp::endpoint& like);
  void receive();
  void pause_receiving();
  bool drain_socket();
  void on_datagram(util::ByteSpan datagram, const asio::ip::udp::endpoint& from);
  void on_plain_message(const proto::UdpMessage& message, const asio::ip::udp::endpoint& from);
  void on_secure_message(util::ByteSpan datagram, const asio::ip::udp::endpoint& from);
  void note_peer(const asio::ip::udp::endpoint& from);
  void refresh_up();
  void set_up(bool up);
  void send_keepalive();
  void send_initiation_if_due();
  void send_batch();
  void on_send_error(const std::error_code& ec);
  void send_raw(const std::byte* data, std::size_t size, const asio::ip::udp::endpoint& to);
  void wait_writable();
  void tick();
  void check_peer_silence(Clock::time_point now);
  void complain(const std::string& what);
  void notify_resume();
  std::string peer_name() const;

  // Client connection management (udp_client.cpp).
  void client_tick(Clock::time_point now);
  void connect_target();
  void lose_route(const std::string& why);
  void try_next_address(Clock::time_point now);
  void on_lookup_done(std::vector<Endpoint> before);
  void start_on_target();
  void note_source();
  bool connect_to(const asio::ip::udp::endpoint& to, std::error_code& ec);
  asio::ip::udp::endpoint target() const;

  UdpOptions options_;
  util::Logger& log_;
  util::Backoff probe_backoff_;
  asio::ip::udp::socket socket_;
  asio::steady_timer timer_, receive_pause_;
  FrameSink* sink_ = nullptr;
  TransportStats stats_;
  util::LogLimiter wire_complaints_, peer_moves_;
  // Cleared by stop(): handlers of a socket that was closed (reopened, or the transport
  // destroyed) check it before touching anything, and `generation_` before reading.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  unsigned generation_ = 0;

  Security* security_;
  util::RateLimiter handshake_limiter_;
  std::optional<asio::ip::udp::endpoint> peer_;  // where datagrams go
  bool up_ = false;
  bool stopped_ = false;
  Clock::time_point last_rx_{}, last_tx_{}, next_probe_{};
  // Client: when the first frame after the last (authenticated) datagram received left.
  Clock::time_point unanswered_since_{};
  Clock::time_point last_data_rx_{};  // the last frame (not keepalive) received

  // Client only.
  std::optional<ServerLookup> server_;
  std::size_t target_ = 0;  // index into server_->addresses()
  bool connected_ = false;  // the socket is connected to target()
  bool path_lost_ = false;  // a send found no path since the last connect
  Clock::time_point next_connect_{}, target_since_{}, last_lookup_{};
  std::string route_problem_;         // why connect failed, as logged ("" while it works)
  bool send_failure_logged_ = false;  // a send to target() failed; logged until it answers
  std::string source_;                // the local address last logged
  unsigned unanswered_probes_ = 0;    // plaintext probes sent without an answer

  DatagramBatch batch_;  // frames (sealed in place) waiting for the next flush
  std::optional<DatagramReceiver> receiver_;
  bool send_blocked_ = false;  // the socket said EAGAIN; the batch waits for it
  std::uint64_t dropped_seen_ = 0, oversize_seen_ = 0;
  std::function<void()> resume_;
};

}  // namespace tund::transport
