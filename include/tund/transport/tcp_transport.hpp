// What the TCP client and server share: the current link that the Transport interface
// delegates to and, in encrypted mode, the handshake on top of it. Subclasses decide how
// links come about (connect with backoff / accept).
//
// Plaintext: a new link is the peer at once (simpletun's model; nothing authenticates).
// Encrypted: an accepted link stays *pending* until a message on it authenticates; only
// then does it replace the current link, so a stranger cannot displace a live client.
// Pending links are capped and must complete the handshake within a deadline.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "tund/transport/security.hpp"
#include "tund/transport/tcp_link.hpp"
#include "tund/transport/transport.hpp"
#include "tund/util/log.hpp"
#include "tund/util/rate_limiter.hpp"

namespace tund::transport {

class TcpTransport : public Transport {
 public:
  // Frames of any size the wire format carries are accepted (up to 65535 bytes, sealed
  // ones included): the engine decides what the device takes.
  TcpTransport(asio::io_context& io, util::Logger& log, Security* security,
               std::size_t max_pending = 16);

  void start(FrameSink& sink) override;
  void stop() override;
  bool peer_up() const override { return up_; }
  bool writable() const override { return up_ && link_->writable(); }
  void when_writable(std::function<void()> resume) override { resume_ = std::move(resume); }
  util::ByteSpan tx_slot() override;
  void commit(std::size_t size) override;
  void flush() override {
    if (link_) link_->flush();
  }
  const TransportStats& stats() const override { return stats_; }

 protected:
  virtual void begin() = 0;
  virtual void end() = 0;
  // Called after the current link closed (by the peer or an error), with the reason and
  // whether the tunnel was up on it (encrypted: whether the handshake had completed).
  virtual void on_link_closed(const std::string& peer, const std::string& reason, bool was_up) = 0;
  // Called when the tunnel comes up on the current link (connected / session established).
  virtual void on_up() {}

  // Plaintext: makes `socket` the current link, replacing any previous one.
  // Encrypted: the client's own connection becomes current (and starts the handshake);
  // a connection the server accepted waits as pending until it authenticates.
  void adopt(asio::ip::tcp::socket socket, const std::string& peer_name, bool accepted);
  bool stopped() const { return stopped_; }
  bool has_link() const { return link_ != nullptr; }
  // Connection events an outside party can repeat at will (accepted, replaced, closed):
  // logged at info, a burst per window, then a count of what was suppressed.
  void log_connection_event(const std::string& what);
  // Refused input, a warning at a bounded rate.
  void complain(const std::string& what);

  asio::io_context& io_;
  util::Logger& log_;
  TransportStats stats_;
  Security* security_;

 private:
  std::shared_ptr<TcpLink> make_link(asio::ip::tcp::socket socket, const std::string& name);
  void on_frame(TcpLink& link, util::ByteSpan frame);
  void on_secure_frame(TcpLink& link, util::ByteSpan frame);
  void on_closed(TcpLink& link, const std::string& reason);
  void promote(TcpLink& link);
  void send_initiation_if_due();
  void send_confirmation();
  void refresh_up();
  void tick();
  void notify_resume();

  std::size_t max_pending_;
  FrameSink* sink_ = nullptr;
  std::shared_ptr<TcpLink> link_;
  struct Pending {
    std::shared_ptr<TcpLink> link;
    std::chrono::steady_clock::time_point since;
  };
  std::vector<Pending> pending_;
  std::function<void()> resume_;
  util::LogLimiter wire_complaints_;
  util::LogLimiter connection_log_;
  util::RateLimiter handshake_limiter_;
  asio::steady_timer timer_;
  bool up_ = false;
  bool stopped_ = false;
};

}  // namespace tund::transport
