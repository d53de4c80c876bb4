#include "tund/transport/tcp_server.hpp"

#include <asio/ip/v6_only.hpp>
#include <cerrno>

#include "listen_socket.hpp"
#include "socket_flags.hpp"
#include "tcp_connection.hpp"
#include "tund/proto/timers.hpp"
#include "tund/transport/endpoints.hpp"
#include "tund/util/lifetime.hpp"

namespace tund::transport {
namespace {

bool out_of_resources(const std::error_code& ec) {
  int e = errno_of(ec);
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

}  // namespace

TcpServer::TcpServer(asio::io_context& io, const asio::ip::address& listen, std::uint16_t port,
                     util::Logger& log, TcpOptions options, const util::Clock& clock)
    : TcpTransport(io, log, options, clock), acceptor_(io), pause_(io) {
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
            options_.encrypted ? " (tcp, encrypted)" : " (tcp)");
  accept_next();
}

void TcpServer::end() {
  pause_.cancel();
  std::error_code ignored;
  acceptor_.close(ignored);
}

void TcpServer::accept_next() {
  acceptor_.async_accept(life_.guard([this](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopped_) return;
    if (ec) {
      on_accept_error(ec);
      return;
    }
    on_accepted(std::move(socket));
    accept_next();
  }));
}

void TcpServer::on_accepted(asio::ip::tcp::socket socket) {
  set_close_on_exec(socket.native_handle());
  std::error_code peer_ec;
  auto remote = socket.remote_endpoint(peer_ec);
  std::string name = peer_ec ? "?" : to_string(remote.address(), remote.port());
  if (options_.encrypted)
    log_connection_event("connection from " + name + "; awaiting its handshake");
  else if (has_adopted())
    log_connection_event("client " + name + " connected; it replaces the current client");
  else
    log_connection_event("client connected from " + name);
  add_connection(std::move(socket), remote.address(), remote.port(), false);
}

void TcpServer::on_accept_error(const std::error_code& ec) {
  bool pause = out_of_resources(ec);
  complain("accept failed: " + ec.message() + (pause ? "; pausing accepts for 1 s" : ""));
  if (!pause) {  // e.g. a connection reset while queued: the next one is unaffected
    accept_next();
    return;
  }
  pause_.expires_after(proto::kAcceptPause);
  pause_.async_wait(life_.guard([this](std::error_code wait_ec) {
    if (!wait_ec && !stopped_) accept_next();
  }));
}

// "Waiting for a client" only when no adopted connection is left: a connection the engine
// closed because a newer one replaced it (adopted first) is not worth a line.
void TcpServer::on_connection_closed(const TcpConnection& connection, const std::string& reason) {
  if (!connection.adopted || has_adopted()) return;
  log_connection_event("client " + connection.name() + " disconnected (" + reason +
                       "); waiting for a client");
}

}  // namespace tund::transport
