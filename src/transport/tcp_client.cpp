#include "tund/transport/tcp_client.hpp"

#include <asio/connect.hpp>
#include <cstdio>

namespace tund::transport {
namespace {

// A SYN into a black hole would otherwise wait for the kernel's ~2 minute SYN retries.
constexpr auto kConnectTimeout = std::chrono::seconds(10);

std::string seconds(std::chrono::milliseconds d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return text;
}

}  // namespace

TcpClient::TcpClient(asio::io_context& io, RemoteServer server, std::size_t max_frame,
                     util::Logger& log, Backoff backoff, Security* security)
    : TcpTransport(io, max_frame, log, security),
      server_(std::move(server)),
      server_name_(to_string(server_.addresses.front().address, server_.port)),
      backoff_(std::move(backoff)),
      socket_(io),
      timer_(io) {}

void TcpClient::begin() {
  log_.info("connecting to ", server_name_, security_ ? " (tcp, encrypted)" : " (tcp)");
  connect();
}

void TcpClient::end() {
  timer_.cancel();
  std::error_code ignored;
  socket_.close(ignored);
}

TcpClient::~TcpClient() {
  stop();
}

void TcpClient::connect() {
  timed_out_ = false;
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& e : server_.addresses) endpoints.emplace_back(e.address, e.port);
  socket_ = asio::ip::tcp::socket(io_);
  asio::async_connect(
      socket_, endpoints, [this](std::error_code ec, const asio::ip::tcp::endpoint& connected) {
        timer_.cancel();
        if (stopped()) return;
        if (ec) {
          retry_later(ec == asio::error::operation_aborted ? "timed out" : ec.message());
          return;
        }
        std::string name = to_string(connected.address(), connected.port());
        log_.info("connected to ", name);
        connected_at_ = std::chrono::steady_clock::now();
        rx_frames_at_connect_ = stats_.rx_frames;
        adopt(std::move(socket_), name, false);
      });
  timer_.expires_after(kConnectTimeout);
  timer_.async_wait([this](std::error_code ec) {
    if (!ec) {
      timed_out_ = true;
      std::error_code ignored;
      socket_.close(ignored);  // completes the connect with operation_aborted
    }
  });
}

void TcpClient::retry_later(const std::string& why) {
  auto delay = backoff_.next();
  log_.info("cannot connect to ", server_name_, ": ", why, "; retrying in ", seconds(delay));
  timer_.expires_after(delay);
  timer_.async_wait([this](std::error_code ec) {
    if (!ec && !stopped()) connect();
  });
}

void TcpClient::on_link_closed(const std::string& peer, const std::string& reason, bool was_up) {
  auto delay = backoff_.next();
  if (security_ && !was_up)
    log_.warn("connection to ", peer, " closed before the handshake completed (", reason,
              "): wrong --peer-key, client key not allowed, psk mismatch, or encryption off on "
              "the server; reconnecting in ",
              seconds(delay));
  else if (!security_ && stats_.rx_frames == rx_frames_at_connect_ &&
           std::chrono::steady_clock::now() - connected_at_ < std::chrono::seconds(3))
    // A plaintext client cut off at once, having received nothing: the usual cause is a
    // server that requires encryption and refused our frames.
    log_.warn("server ", peer, " closed the connection at once (", reason,
              "); does it require encryption (--private-key)? reconnecting in ", seconds(delay));
  else
    log_.info("disconnected from ", peer, " (", reason, "); reconnecting in ", seconds(delay));
  timer_.expires_after(delay);
  timer_.async_wait([this](std::error_code ec) {
    if (!ec && !stopped()) connect();
  });
}

}  // namespace tund::transport
