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

// The listen backlog: while the pending cap holds accepting, connections wait in the
// kernel, up to this many (capped by net.core.somaxconn, 4096 by default since Linux 5.4).
constexpr int kListenBacklog = 4096;

bool out_of_resources(const std::error_code& ec) {
  int e = errno_of(ec);
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

}  // namespace

TcpServer::TcpServer(asio::io_context& io, const asio::ip::address& listen, std::uint16_t port,
                     util::Logger& log, TcpOptions options, const util::Clock& clock)
    : TcpTransport(io, log, options, clock), acceptor_(io), pause_(io), grace_(io) {
  bind_listener(listen, port, "TCP", [&](const asio::ip::address& address) {
    asio::ip::tcp::endpoint endpoint(address, port);
    if (acceptor_.is_open()) acceptor_.close();
    acceptor_.open(endpoint.protocol());
    set_close_on_exec(acceptor_.native_handle());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    if (address.is_v6()) acceptor_.set_option(asio::ip::v6_only(false));
    acceptor_.bind(endpoint);
    acceptor_.listen(kListenBacklog);
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
  grace_.cancel();
  std::error_code ignored;
  acceptor_.close(ignored);
}

// At the pending cap nothing is accepted: the kernel's backlog holds the rest until a
// pending connection is adopted or closed (on_pending_room), rather than accepting one
// only to cut another that is half-way through its handshake.
void TcpServer::accept_next() {
  if (accepting_ || stopped_) return;
  if (pending_full()) {
    wait_at_cap();
    return;
  }
  accepting_ = true;
  acceptor_.async_accept(life_.guard([this](std::error_code ec, asio::ip::tcp::socket socket) {
    accepting_ = false;
    if (ec == asio::error::operation_aborted || stopped_) return;
    if (ec) {
      on_accept_error(ec);
      return;
    }
    on_accepted(std::move(socket));
    accept_next();
  }));
}

// Waits, at the cap, for a connection to arrive in the backlog (the listening socket
// turns readable); nothing is dropped while nobody waits.
void TcpServer::wait_at_cap() {
  if (cap_paused_) return;
  cap_paused_ = true;
  ++stats_.accept_paused;
  acceptor_.async_wait(asio::ip::tcp::acceptor::wait_read, life_.guard([this](std::error_code ec) {
    if (ec || stopped_ || !cap_paused_) return;
    on_arrival_at_cap();
  }));
}

// Someone waits in the backlog and every slot is taken: the oldest pending connection
// makes room once it has had its grace (proto::kPendingGrace), so silent strangers cannot
// hold every slot for the whole handshake deadline.
void TcpServer::on_arrival_at_cap() {
  auto age = oldest_pending_age();
  if (age < proto::kPendingGrace) {
    grace_.expires_after(proto::kPendingGrace - age);
    grace_.async_wait(life_.guard([this](std::error_code ec) {
      if (!ec && !stopped_ && cap_paused_) on_arrival_at_cap();
    }));
    return;
  }
  cap_paused_ = false;  // the close below must not start an accept of its own
  drop_oldest_pending();
  accept_next();
}

// A slot came free (adopted or closed): stop waiting at the cap and accept.
void TcpServer::on_pending_room() {
  if (!cap_paused_ || pause_active_) return;
  cap_paused_ = false;
  std::error_code ignored;
  acceptor_.cancel(ignored);  // the wait for an arrival
  grace_.cancel();
  accept_next();
}

void TcpServer::on_accepted(asio::ip::tcp::socket socket) {
  if (failed_accepts_ > 0) {
    log_.info("accepting connections again (", failed_accepts_, " failed accepts)");
    failed_accepts_ = 0;
  }
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

// Out of descriptors or memory: the same accept would fail at once again, so accepting
// pauses (proto::kAcceptPause) and the problem is logged once until an accept succeeds.
// Other errors (a connection reset while queued) concern that connection only.
void TcpServer::on_accept_error(const std::error_code& ec) {
  ++stats_.accept_errors;
  if (!out_of_resources(ec)) {
    complain("accept failed: " + ec.message());
    accept_next();
    return;
  }
  if (failed_accepts_++ == 0)
    log_.warn("accept failed: ", ec.message(), "; pausing accepts, retrying every ",
              std::chrono::duration_cast<std::chrono::seconds>(proto::kAcceptPause).count(),
              " s until it works");
  pause_active_ = true;
  pause_.expires_after(proto::kAcceptPause);
  pause_.async_wait(life_.guard([this](std::error_code wait_ec) {
    pause_active_ = false;
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
