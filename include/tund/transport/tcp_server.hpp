// TCP server: listens (dual-stack by default) and keeps a connection per client that
// connects. Which connection is the client's, and which one a newer client replaces, is
// the engine's decision (adopt(), close()); the server only accepts, caps what awaits
// adoption, and says what it saw.
//
// Accepting stops while --max-pending connections await adoption (the listen backlog,
// 4096, holds the rest) and resumes when one is adopted or closed, or when the oldest has
// waited proto::kPendingGrace (then it is dropped to make room). Out of descriptors or
// memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), it pauses for proto::kAcceptPause instead of
// retrying at once, with one log line until an accept succeeds again
// (stats().accept_errors counts every failure).
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "tund/transport/tcp_transport.hpp"

namespace tund::transport {

class TcpServer final : public TcpTransport {
 public:
  // Binds at once, so a port in use fails at start-up (TransportError). Frames up to the
  // wire format's maximum are accepted, whatever our MTU.
  TcpServer(asio::io_context& io, const asio::ip::address& listen, std::uint16_t port,
            util::Logger& log, TcpOptions options = {},
            const util::Clock& clock = util::steady_clock());
  ~TcpServer() override { stop(); }

  std::uint16_t local_port() const;  // 0 if the socket is gone

 private:
  void begin() override;
  void end() override;
  void on_connection_closed(const TcpConnection& connection, const std::string& reason) override;
  void accept_next();
  void on_accepted(asio::ip::tcp::socket socket);
  void on_accept_error(const std::error_code& ec);
  void on_pending_room() override;
  void wait_at_cap();
  void on_arrival_at_cap();

  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer pause_;          // accepting paused while out of descriptors
  asio::steady_timer grace_;          // at the cap: until the oldest pending has had its grace
  bool pause_active_ = false;         // that pause is running
  bool accepting_ = false;            // an async_accept is outstanding
  bool cap_paused_ = false;           // stopped at the pending cap
  std::uint64_t failed_accepts_ = 0;  // in a row, out of resources (logged once)
};

}  // namespace tund::transport
