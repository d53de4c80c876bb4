// TCP server: listens (dual-stack by default) and relays with one client at a time. A newer
// client replaces the current one, so a client that vanished without a FIN cannot lock the
// tunnel until TCP keepalive notices.
#pragma once

#include <asio/ip/tcp.hpp>

#include "tund/transport/tcp_transport.hpp"

namespace tund::transport {

class TcpServer final : public TcpTransport {
 public:
  // Binds at once, so a port in use fails at start-up (TransportError).
  TcpServer(asio::io_context& io, const asio::ip::address& listen, std::uint16_t port,
            std::size_t max_frame, util::Logger& log, Security* security = nullptr,
            std::size_t max_pending = 16);
  ~TcpServer() override { stop(); }

  std::uint16_t local_port() const { return acceptor_.local_endpoint().port(); }

 private:
  void begin() override;
  void end() override;
  void on_link_closed(const std::string& peer, const std::string& reason, bool was_up) override;
  void accept_next();

  asio::ip::tcp::acceptor acceptor_;
};

}  // namespace tund::transport
