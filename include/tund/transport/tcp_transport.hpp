// What the TCP client and server share: a set of connections, each one an Endpoint
// {remote address, remote port, connection = a serial number from 1, never reused}.
// Subclasses decide how connections come about (connect with backoff / accept).
//
// Every connection is reported to the Receiver (on_endpoint_up) when it is made, and
// once when it ends (on_endpoint_down), whoever ends it, except by stop(). An accepted
// connection awaits adoption (adopt(): its peer is known, plaintext at once) and until
// then is subject to a cap (--max-pending: while it is reached the server accepts no
// more, and the kernel's listen backlog holds the rest, so a thousand clients starting
// together are served in turn rather than cut; a pending connection older than
// proto::kPendingGrace is dropped to make room, so silent strangers cannot hold every
// slot) and a deadline
// (proto::kHandshakeDeadline), so strangers cannot hold descriptors for long.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tund/proto/timers.hpp"
#include "tund/transport/transport.hpp"
#include "tund/util/clock.hpp"
#include "tund/util/lifetime.hpp"
#include "tund/util/log.hpp"

namespace tund::transport {

class TcpConnection;

struct TcpOptions {
  // Encrypted mode, for the wording of log lines only ("(tcp, encrypted)", "awaiting its
  // handshake", "closed before the handshake completed"): the pipe carries bytes.
  bool encrypted = false;
  // Server: accepted connections awaiting adoption at once, at most (--max-pending).
  std::size_t max_pending = proto::kDefaultMaxPending;
  // Where complaints about refused input are rate-limited (not owned). The daemon passes
  // the engine's, so the pipe's and the engine's complaints share one budget, as when one
  // class made them; nullptr: a limiter of its own.
  util::LogLimiter* complaints = nullptr;
  // Client: the local address its connections leave from (bound with an ephemeral port
  // before each connect); none: the kernel's choice by route. A swarm of test clients
  // gives each its own 127.x address. An address of the other family than the server's,
  // or one not on this host, fails that connect (logged; the next address or the backoff
  // follows). The server ignores it.
  std::optional<asio::ip::address> bind_address = std::nullopt;
};

class TcpTransport : public Transport {
 public:
  ~TcpTransport() override;

  void start(Receiver& receiver) override;
  void stop() override;
  bool datagram() const override { return false; }
  bool writable(const Endpoint& to) const override;
  util::ByteSpan message_slot(const Endpoint& to) override;
  bool commit(const Endpoint& to, std::size_t size) override;
  void flush() override;
  void when_writable(std::function<void()> resume) override { resume_ = std::move(resume); }
  bool send_control(const Endpoint& to, util::ConstByteSpan message) override;
  void close(const Endpoint& endpoint, const std::string& reason) override;
  void adopt(const Endpoint& endpoint) override;
  void set_answering(const Endpoint& endpoint, bool answering) override;
  const TransportStats& stats() const override { return stats_; }

  // The periodic checks (pending deadline, buffers of connections idle since the previous
  // tick given back, summaries of suppressed log lines); an asio timer runs them every
  // proto::kTimerTick. Tests with a manual clock call it directly.
  void run_timers();
  // Bytes the connections' own buffers hold now (output buffers, partial frames), not
  // counting the receive buffer they share: 0 for connections awaiting a handshake and for
  // idle ones. For tests and tests/bench/tcp_conn_memory.
  std::size_t connection_buffers() const;

 protected:
  TcpTransport(asio::io_context& io, util::Logger& log, TcpOptions options,
               const util::Clock& clock);

  virtual void begin() = 0;
  virtual void end() = 0;
  // After `connection` ended (it is no longer in the set) and the Receiver was told.
  virtual void on_connection_closed(const TcpConnection& connection, const std::string& reason) = 0;
  // A connection awaiting adoption was adopted or closed: below the cap again (server:
  // accept again if it had stopped).
  virtual void on_pending_room() {}
  // Connections awaiting adoption have reached options_.max_pending.
  bool pending_full() const;
  // How long the oldest connection awaiting adoption has waited (0 if none).
  util::Clock::duration oldest_pending_age() const;
  // Closes the oldest connection awaiting adoption, to make room (counted, complained of).
  void drop_oldest_pending();

  // Takes `socket` (connected) as a new connection, starts reading it, and reports it up.
  // `adopted`: the client's own connection, which needs no adoption.
  void add_connection(asio::ip::tcp::socket socket, const asio::ip::address& address,
                      std::uint16_t port, bool adopted);
  bool has_adopted() const;
  // Connection events an outside party can repeat at will (accepted, replaced, closed):
  // logged at info, a burst per window, then a count of what was suppressed.
  void log_connection_event(const std::string& what);
  // Refused input, a warning at a bounded rate.
  void complain(const std::string& what);

  asio::io_context& io_;
  util::Logger& log_;
  const TcpOptions options_;
  const util::Clock& clock_;
  TransportStats stats_;
  bool stopped_ = false;
  util::Lifetime life_;  // guards this object's handlers

 private:
  class Events;  // the TcpConnection::Owner side
  TcpConnection* find(const Endpoint& endpoint) const;
  void pending_done();
  void on_frame(TcpConnection& connection, util::ByteSpan frame);
  void on_closed(TcpConnection& connection, const std::string& reason);
  void retire(std::uint64_t id);
  void expire_pending();
  void schedule_tick();
  void notify_resume();

  Receiver* receiver_ = nullptr;
  std::unique_ptr<Events> events_;
  std::map<std::uint64_t, std::unique_ptr<TcpConnection>> connections_;
  // Closed connections, destroyed from a posted handler: one may be closed from inside its
  // own read handler (the Receiver calls close()), so it must outlive that call.
  std::vector<std::unique_ptr<TcpConnection>> retired_;
  // What every connection reads into, one read at a time (tcp_connection.hpp): allocated
  // at the first read, so the memory of a connection is its partial frame only.
  std::vector<std::byte> receive_buffer_;
  std::vector<std::uint64_t> dirty_;       // connections with committed, unflushed messages
  std::vector<std::uint64_t> flushing_;    // flush()'s copy of dirty_
  mutable TcpConnection* last_ = nullptr;  // the last one looked up (the hot path's)
  std::uint64_t next_id_ = 1;
  std::size_t pending_ = 0;  // connections not adopted (kept, not counted per accept)
  std::function<void()> resume_;
  util::LogLimiter own_complaints_;
  util::LogLimiter& complaints_;
  util::LogLimiter connection_log_;
  asio::steady_timer timer_;
};

}  // namespace tund::transport
