#include "tund/transport/tcp_client.hpp"

#include <cstdio>

#include "local_bind.hpp"
#include "socket_flags.hpp"
#include "tcp_connection.hpp"
#include "tund/proto/causes.hpp"
#include "tund/proto/timers.hpp"
#include "tund/util/lifetime.hpp"

namespace tund::transport {
namespace {

std::string seconds(std::chrono::milliseconds d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return text;
}

}  // namespace

TcpClient::TcpClient(asio::io_context& io, RemoteServer server, util::Logger& log,
                     util::Backoff backoff, TcpOptions options, const util::Clock& clock)
    : TcpTransport(io, log, options, clock),
      server_(io, std::move(server), log),
      backoff_(std::move(backoff)),
      socket_(io),
      timer_(io) {}

TcpClient::~TcpClient() {
  stop();
}

void TcpClient::begin() {
  log_.info("connecting to ", server_.name(), options_.encrypted ? " (tcp, encrypted)" : " (tcp)");
  attempt();
}

void TcpClient::end() {
  server_.cancel();
  timer_.cancel();
  std::error_code ignored;
  socket_.close(ignored);
}

// Every attempt starts with a fresh lookup: the server may have moved since the last one.
void TcpClient::attempt() {
  server_.refresh(life_.guard([this] {
    if (stopped_) return;
    if (server_.addresses().empty()) {
      retry_later("its name does not resolve");
      return;
    }
    connect_to(0);
  }));
}

// Tries addresses[index]; on failure the next one at once, like getaddrinfo's users do.
void TcpClient::connect_to(std::size_t index) {
  const Endpoint& target = server_.addresses()[index];
  asio::ip::tcp::endpoint endpoint(target.address, target.port);
  socket_ = asio::ip::tcp::socket(io_);
  std::error_code ec;
  socket_.open(endpoint.protocol(), ec);
  if (ec) {
    on_connect(index, ec);
    return;
  }
  set_close_on_exec(socket_.native_handle());
  bind_local(socket_, options_.bind_address, endpoint, ec);
  if (ec) {
    log_.info("cannot bind to ", options_.bind_address->to_string(), ": ", ec.message());
    std::error_code ignored;
    socket_.close(ignored);
    on_connect(index, ec);
    return;
  }
  std::uint64_t attempt = ++attempt_;
  timed_out_ = false;
  // Aborted is our timeout (then `timed_out_` is set); a handler of an earlier attempt is
  // stale and does nothing.
  socket_.async_connect(endpoint, life_.guard([this, index, attempt](std::error_code connect_ec) {
    if (attempt != attempt_ || stopped_) return;
    if (connect_ec == asio::error::operation_aborted && !timed_out_) return;
    timer_.cancel();
    on_connect(index, connect_ec);
  }));
  timer_.expires_after(proto::kConnectTimeout);
  timer_.async_wait(life_.guard([this, attempt](std::error_code wait_ec) {
    if (wait_ec || attempt != attempt_) return;
    timed_out_ = true;
    std::error_code ignored;
    socket_.close(ignored);
  }));
}

void TcpClient::on_connect(std::size_t index, const std::error_code& ec) {
  const auto& addresses = server_.addresses();
  std::string name = index < addresses.size() ? to_string(addresses[index]) : server_.name();
  if (ec) {
    std::string why = ec == asio::error::operation_aborted ? "timed out" : ec.message();
    if (index + 1 < addresses.size()) {
      log_.info("cannot connect to ", name, ": ", why, "; trying the next address");
      connect_to(index + 1);
    } else {
      retry_later(addresses.size() > 1 ? "no address answered (last: " + why + ")" : why);
    }
    return;
  }
  log_.info("connected to ", name);
  Endpoint target = addresses[index];
  add_connection(std::move(socket_), target.address, target.port, true);
}

void TcpClient::retry_later(const std::string& why) {
  auto delay = backoff_.next();
  log_.info("cannot connect to ", server_.name(), ": ", why, "; retrying in ", seconds(delay));
  reconnect_after(delay);
}

void TcpClient::reconnect_after(std::chrono::milliseconds delay) {
  timer_.expires_after(delay);
  timer_.async_wait(life_.guard([this](std::error_code ec) {
    if (!ec && !stopped_) attempt();
  }));
}

// What the user is told depends on what the connection showed: encrypted and never
// answering (set_answering), the handshake failed; plaintext, closed at once with nothing
// received, the server refused us; anything else is an ordinary disconnection.
void TcpClient::on_connection_closed(const TcpConnection& connection, const std::string& reason) {
  auto lived = clock_.now() - connection.since;
  bool received = connection.rx_messages > 0;
  const std::string& server = connection.name();
  // Only a connection that proved itself starts the backoff over; one the server closes
  // at once (another client took over, encryption required) keeps backing off.
  if (lived >= proto::kProvenAfter) backoff_.reset();
  auto delay = backoff_.next();
  if (options_.encrypted && !connection.answering)
    log_.warn("connection to ", server, " closed before the handshake completed (", reason,
              "): ", proto::kUnansweredHandshakeCauses, "; reconnecting in ", seconds(delay));
  else if (!options_.encrypted && !received && lived < proto::kClosedAtOnce)
    warn_closed_at_once(server, reason, delay);
  else
    log_.info("disconnected from ", server, " (", reason, "); reconnecting in ", seconds(delay));
  proven_once_ |= received || lived >= proto::kProvenAfter;
  reconnect_after(delay);
}

// A plaintext server closed our connection at once, before sending anything. A server
// that carried our traffic before does not suddenly require encryption: most likely
// another client connected and took our place (one client at a time).
void TcpClient::warn_closed_at_once(const std::string& server, const std::string& reason,
                                    std::chrono::milliseconds delay) {
  if (proven_once_)
    log_.warn("server ", server, " closed the connection at once (", reason,
              "): another client probably took over (the server serves one client at a "
              "time); reconnecting in ",
              seconds(delay));
  else
    log_.warn("server ", server, " closed the connection at once (", reason,
              "): another client took over (the server serves one client at a time), or "
              "the server requires encryption (--private-key); reconnecting in ",
              seconds(delay));
}

}  // namespace tund::transport
