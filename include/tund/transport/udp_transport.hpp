// UDP transport: one socket; one message per datagram, delivered with its source address
// (what the datagram holds, the 4-byte header of proto/wire.hpp and the rest, is the
// engine's to parse). Sends are batched: one sendmmsg per batch whatever its destinations,
// runs of equal sizes to one destination as UDP GSO sends (udp_batch.hpp).
//
// Server: binds at once and sends to any endpoint; its endpoints are learned from
// messages (there are no endpoint events). Bound to a wildcard address, it answers each
// endpoint from the address of this host that endpoint sent to (Endpoint::local,
// pktinfo.hpp), as a client whose socket is connected to that address requires.
// Client: a connected socket to one of the server's addresses, reported up
// (on_endpoint_up) once connected. Started without a route, or when the route or its own
// address vanishes, it retries the connect each second (a connect sends nothing) and logs
// one line per change of state. An address that has not answered (set_answering) for
// proto::kAddressPatience makes it try the server's next address (reopening the socket
// for the other family if needed); after the last one it looks the name up again
// (at most every proto::kLookupInterval). Leaving an address or losing the path is
// reported down (on_endpoint_down).
#pragma once

#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "tund/transport/endpoints.hpp"
#include "tund/transport/server_lookup.hpp"
#include "tund/transport/transport.hpp"
#include "tund/transport/udp_batch.hpp"
#include "tund/util/clock.hpp"
#include "tund/util/lifetime.hpp"
#include "tund/util/log.hpp"

namespace tund::transport {

struct UdpOptions {
  bool server = false;
  RemoteServer remote;       // client: the server (addresses may be empty: looked up)
  asio::ip::address listen;  // server: the local address ([::] = dual-stack)
  std::uint16_t port = 0;    // server: the local port
  bool encrypted = false;    // for the wording of log lines only ("(udp, encrypted)")
  bool offload = true;       // UDP GSO/GRO when the kernel has them (--no-offload: off)
  // Where complaints about refused input are rate-limited (not owned): the daemon passes
  // the engine's, so both share one budget; nullptr: a limiter of its own.
  util::LogLimiter* complaints = nullptr;
  // Client: the local address its socket is bound to (ephemeral port) before it connects;
  // none: the kernel's choice by route. An address of the other family than the server's,
  // or one not on this host, is a failed connect (logged, retried each second like a
  // missing route). The server ignores it (it binds `listen`).
  std::optional<asio::ip::address> bind_address = std::nullopt;
};

class UdpTransport final : public Transport {
 public:
  // Server: binds at once (a port in use is a TransportError at start-up). Client: never
  // fails here; it connects from start() on, retrying while there is no route.
  UdpTransport(asio::io_context& io, UdpOptions options, util::Logger& log,
               const util::Clock& clock = util::steady_clock());
  ~UdpTransport() override { stop(); }

  void start(Receiver& receiver) override;
  void stop() override;
  bool datagram() const override { return true; }
  bool writable(const Endpoint& to) const override;
  util::ByteSpan message_slot(const Endpoint& to) override;
  bool commit(const Endpoint& to, std::size_t size) override;
  void flush() override;
  void when_writable(std::function<void()> resume) override { resume_ = std::move(resume); }
  bool send_control(const Endpoint& to, util::ConstByteSpan message) override;
  void close(const Endpoint&, const std::string&) override {}  // nothing to close
  void adopt(const Endpoint&) override {}                      // no pending connections
  void set_answering(const Endpoint& endpoint, bool answering) override;
  const TransportStats& stats() const override { return stats_; }

  std::uint16_t local_port() const;  // 0 while the client has no socket
  // The periodic checks (client: route retry, address patience, lookups; summaries of
  // suppressed log lines); an asio timer runs them every proto::kTimerTick. Tests with a
  // manual clock call it directly.
  void run_timers();

 private:
  using Time = util::Clock::time_point;

  void open_server();
  bool open_socket(const asio::ip::udp::endpoint& like, std::error_code& ec);
  void receive();
  void pause_receiving();
  bool drain_socket();
  void on_datagram(util::ByteSpan datagram, const sockaddr* from, socklen_t from_size,
                   bool truncated, const asio::ip::address& local);
  void send_batch();
  void on_send_error(const std::error_code& ec);
  void note_batch_counters();
  std::string failed_destination() const;
  bool send_raw(util::ConstByteSpan message, const Endpoint& to);
  std::error_code send_to_endpoint(util::ConstByteSpan message, const Endpoint& to);
  void wait_writable();
  void schedule_tick();
  void complain(const std::string& what);
  void notify_resume();

  // Client connection management (udp_client.cpp).
  void client_tick(Time now);
  void connect_target();
  void lose_route(const std::string& why);
  void try_next_address(Time now);
  void on_lookup_done(const std::vector<Endpoint>& before);
  void start_on_target();
  void note_source();
  bool connect_to(const asio::ip::udp::endpoint& to, std::error_code& ec);
  Endpoint target() const;
  std::string current_name() const;

  UdpOptions options_;
  util::Logger& log_;
  const util::Clock& clock_;
  asio::ip::udp::socket socket_;
  asio::steady_timer timer_, receive_pause_;
  Receiver* receiver_ = nullptr;
  TransportStats stats_;
  util::LogLimiter own_complaints_;
  util::LogLimiter& complaints_;
  bool stopped_ = false;

  // Client only.
  std::optional<ServerLookup> server_;
  std::size_t target_ = 0;           // index into server_->addresses()
  std::optional<Endpoint> current_;  // the address last connected to (reported up)
  bool connected_ = false;           // the socket is connected to *current_, reported up
  bool answering_ = false;           // set_answering(*current_, true) since it came up
  Time next_connect_{}, target_since_{}, last_lookup_{};
  std::string route_problem_;         // why connect failed, as logged ("" while it works)
  bool send_failure_logged_ = false;  // a send to target() failed; logged until it answers
  std::string source_;                // the local address last logged

  DatagramBatch batch_;  // messages waiting for the next flush, to any destinations
  std::optional<DatagramReceiver> receiver_socket_;
  bool send_blocked_ = false;  // the socket said EAGAIN; the batch waits for it
  std::uint64_t dropped_seen_ = 0, oversize_seen_ = 0;
  std::function<void()> resume_;
  // Handlers of this object (timers) and of its current socket: the client reopens its
  // socket for the other address family, and the old socket's handlers must then do
  // nothing (lifetime.hpp).
  util::Lifetime life_, socket_life_;
};

}  // namespace tund::transport
