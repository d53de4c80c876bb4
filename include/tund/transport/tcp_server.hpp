// TCP server: listens (dual-stack by default) and relays with one client at a time. A newer
// client replaces the current one, so a client that vanished without a FIN cannot lock the
// tunnel until TCP keepalive notices.
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
            util::Logger& log, Security* security = nullptr, std::size_t max_pending = 16);
  ~TcpServer() override { stop(); }

  std::uint16_t local_port() const;  // 0 if the socket is gone

 private:
  void begin() override;
  void end() override;
  void on_link_closed(const std::string& peer, const std::string& reason, bool was_up) override;
  void accept_next();
  void on_accept_error(const std::error_code& ec);

  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer pause_;  // accepting paused while out of descriptors
};

}  // namespace tund::transport
