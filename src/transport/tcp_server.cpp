#include "tund/transport/tcp_server.hpp"

#include <asio/ip/v6_only.hpp>
#include <cerrno>

#include "socket_flags.hpp"
#include "tund/proto/timers.hpp"
#include "tund/transport/endpoints.hpp"
#include "tund/transport/listen_socket.hpp"

namespace tund::transport {
namespace {

bool out_of_resources(const std::error_code& ec) {
  int e = errno_of(ec);
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

}  // namespace

TcpServer::TcpServer(asio::io_context& io, const asio::ip::address& listen, std::uint16_t port,
                     util::Logger& log, Security* security, std::size_t max_pending)
    : TcpTransport(io, log, security, max_pending), acceptor_(io), pause_(io) {
  bind_listener(listen, port, "TCP", [&](const asio::ip::address& address) {
    asio::ip::tcp::endpoint endpoint(address, port);
    if (acceptor_.is_open()) acceptor_.close();
    acceptor_.open(endpoint.protocol());
    set_close_on_exec(acceptor_.native_handle());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    if (address.is_v6()) acceptor_.set_option(asio::ip::v6_only(false));
    acceptor_.bind(endpoint);
    acceptor_.listen();
  });
}

std::uint16_t TcpServer::local_port() const {
  std::error_code ec;
  auto local = acceptor_.local_endpoint(ec);
  return ec ? 0 : local.port();
}

void TcpServer::begin() {
  std::error_code ec;
  auto local = acceptor_.local_endpoint(ec);
  log_.info("listening on ", ec ? "?" : to_string(local.address(), local.port()),
            security_ ? " (tcp, encrypted)" : " (tcp)");
  accept_next();
}

void TcpServer::end() {
  pause_.cancel();
  std::error_code ignored;
  acceptor_.close(ignored);
}

void TcpServer::accept_next() {
  acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
    // Aborted means the acceptor is closed and `this` may be gone: touch nothing.
    if (ec == asio::error::operation_aborted || stopped()) return;
    if (ec) {
      on_accept_error(ec);
      return;
    }
    set_close_on_exec(socket.native_handle());
    std::error_code peer_ec;
    auto remote = socket.remote_endpoint(peer_ec);
    std::string name = peer_ec ? "?" : to_string(remote.address(), remote.port());
    if (security_) {
      log_connection_event("connection from " + name + "; awaiting its handshake");
    } else if (has_link()) {
      ++stats_.peer_changes;
      log_connection_event("client " + name + " connected; it replaces the current client");
    } else {
      log_connection_event("client connected from " + name);
    }
    adopt(std::move(socket), name, true);
    accept_next();
  });
}

void TcpServer::on_accept_error(const std::error_code& ec) {
  bool pause = out_of_resources(ec);
  complain("accept failed: " + ec.message() + (pause ? "; pausing accepts for 1 s" : ""));
  if (!pause) {  // e.g. a connection reset while queued: the next one is unaffected
    accept_next();
    return;
  }
  pause_.expires_after(proto::kAcceptPause);
  pause_.async_wait([this](std::error_code wait_ec) {
    if (!wait_ec && !stopped()) accept_next();
  });
}

void TcpServer::on_link_closed(const std::string& peer, const std::string& reason,
                               bool /*was_up*/) {
  log_connection_event("client " + peer + " disconnected (" + reason + "); waiting for a client");
}

}  // namespace tund::transport
