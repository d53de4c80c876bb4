// TCP client: connects to the server (even if it is not up yet) and reconnects with capped,
// jittered exponential backoff whenever the connection fails or drops. Each attempt looks
// the server's name up again and tries its addresses in turn (a server that moved is
// followed). The backoff starts over only after a connection proved itself, so a server
// that closes each connection at once (another client took its place) is not hammered.
#pragma once

#include <asio/steady_timer.hpp>
#include <vector>

#include "tund/transport/endpoints.hpp"
#include "tund/transport/server_lookup.hpp"
#include "tund/transport/tcp_transport.hpp"
#include "tund/util/backoff.hpp"

namespace tund::transport {

class TcpClient final : public TcpTransport {
 public:
  // Frames up to the wire format's maximum are accepted, whatever our MTU.
  TcpClient(asio::io_context& io, RemoteServer server, util::Logger& log, util::Backoff backoff,
            Security* security = nullptr);
  ~TcpClient() override;

 private:
  void begin() override;
  void end() override;
  void on_link_closed(const std::string& peer, const std::string& reason, bool was_up) override;
  void attempt();
  void connect_to(std::size_t index);
  void on_connect(std::size_t index, const std::error_code& ec);
  void retry_later(const std::string& why);
  void reconnect_after(std::chrono::milliseconds delay);
  void warn_closed_at_once(const std::string& peer, const std::string& reason,
                           std::chrono::milliseconds delay);

  ServerLookup server_;
  util::Backoff backoff_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;  // reconnect delay, and the connect timeout while connecting
  std::chrono::steady_clock::time_point connected_at_{};
  std::uint64_t rx_frames_at_connect_ = 0;
  bool proven_once_ = false;  // some connection to this server carried traffic before
};

}  // namespace tund::transport
