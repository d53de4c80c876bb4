// TCP client: one connection to the server, made even if the server is not up yet, and
// made again with capped, jittered exponential backoff whenever it fails or ends. Each
// attempt looks the server's name up again and tries its addresses in turn (a server that
// moved is followed). The backoff starts over only after a connection proved itself
// (lived proto::kProvenAfter), so a server that closes each connection at once (another
// client took its place) is not hammered. Its connection needs no adopt().
#pragma once

#include <asio/steady_timer.hpp>
#include <cstdint>

#include "tund/transport/endpoints.hpp"
#include "tund/transport/server_lookup.hpp"
#include "tund/transport/tcp_transport.hpp"
#include "tund/util/backoff.hpp"

namespace tund::transport {

class TcpClient final : public TcpTransport {
 public:
  // Frames up to the wire format's maximum are accepted, whatever our MTU.
  TcpClient(asio::io_context& io, RemoteServer server, util::Logger& log, util::Backoff backoff,
            TcpOptions options = {}, const util::Clock& clock = util::steady_clock());
  ~TcpClient() override;

 private:
  void begin() override;
  void end() override;
  void on_connection_closed(const TcpConnection& connection, const std::string& reason) override;
  void attempt();
  void connect_to(std::size_t index);
  void on_connect(std::size_t index, const std::error_code& ec);
  void retry_later(const std::string& why);
  void reconnect_after(std::chrono::milliseconds delay);
  void warn_closed_at_once(const std::string& server, const std::string& reason,
                           std::chrono::milliseconds delay);

  ServerLookup server_;
  util::Backoff backoff_;
  asio::ip::tcp::socket socket_;  // while connecting
  asio::steady_timer timer_;      // reconnect delay, and the connect timeout while connecting
  std::uint64_t attempt_ = 0;     // numbers connect attempts: a late handler sees it is stale
  bool timed_out_ = false;        // the current attempt's timeout closed its socket
  bool proven_once_ = false;      // some connection to this server carried traffic before
};

}  // namespace tund::transport
