// TCP server: listens (dual-stack by default) and keeps a connection per client that
// connects. Which connection is the client's, and which one a newer client replaces, is
// the engine's decision (adopt(), close()); the server only accepts, caps what awaits
// adoption, and says what it saw.
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

  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer pause_;  // accepting paused while out of descriptors
};

}  // namespace tund::transport
