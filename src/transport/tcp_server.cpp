#include "tund/transport/tcp_server.hpp"

#include <asio/ip/v6_only.hpp>

#include "tund/transport/endpoints.hpp"
#include "tund/transport/listen_socket.hpp"

namespace tund::transport {

TcpServer::TcpServer(asio::io_context& io, const asio::ip::address& listen, std::uint16_t port,
                     std::size_t max_frame, util::Logger& log, Security* security,
                     std::size_t max_pending)
    : TcpTransport(io, max_frame, log, security, max_pending), acceptor_(io) {
  bind_listener(listen, port, "TCP", [&](const asio::ip::address& address) {
    asio::ip::tcp::endpoint endpoint(address, port);
    if (acceptor_.is_open()) acceptor_.close();
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    if (address.is_v6()) acceptor_.set_option(asio::ip::v6_only(false));
    acceptor_.bind(endpoint);
    acceptor_.listen();
  });
}

void TcpServer::begin() {
  auto local = acceptor_.local_endpoint();
  log_.info("listening on ", to_string(local.address(), local.port()),
            security_ ? " (tcp, encrypted)" : " (tcp)");
  accept_next();
}

void TcpServer::end() {
  std::error_code ignored;
  acceptor_.close(ignored);
}

void TcpServer::accept_next() {
  acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
    // Aborted means the acceptor is closed and `this` may be gone: touch nothing.
    if (ec == asio::error::operation_aborted || stopped()) return;
    if (ec) {
      // EMFILE and friends: say so and keep accepting rather than die.
      log_.warn("accept failed: ", ec.message());
    } else {
      std::error_code peer_ec;
      auto remote = socket.remote_endpoint(peer_ec);
      std::string name = peer_ec ? "?" : to_string(remote.address(), remote.port());
      if (security_) {
        log_.info("connection from ", name, "; awaiting its handshake");
      } else if (has_link()) {
        ++stats_.peer_changes;
        log_.info("client ", name, " connected; it replaces the current client");
      } else {
        log_.info("client connected from ", name);
      }
      adopt(std::move(socket), name, true);
    }
    accept_next();
  });
}

void TcpServer::on_link_closed(const std::string& peer, const std::string& reason,
                               bool /*was_up*/) {
  log_.info("client ", peer, " disconnected (", reason, "); waiting for a client");
}

}  // namespace tund::transport
