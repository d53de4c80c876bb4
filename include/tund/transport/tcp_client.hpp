// TCP client: connects to the server (even if it is not up yet) and reconnects with capped,
// jittered exponential backoff whenever the connection fails or drops.
#pragma once

#include <asio/steady_timer.hpp>
#include <vector>

#include "tund/transport/backoff.hpp"
#include "tund/transport/endpoints.hpp"
#include "tund/transport/tcp_transport.hpp"

namespace tund::transport {

class TcpClient final : public TcpTransport {
 public:
  TcpClient(asio::io_context& io, RemoteServer server, std::size_t max_frame,
            util::Logger& log, Backoff backoff, Security* security = nullptr);
  ~TcpClient() override;

 private:
  void begin() override;
  void end() override;
  void on_link_closed(const std::string& peer, const std::string& reason, bool was_up) override;
  void on_up() override { backoff_.reset(); }
  void connect();
  void retry_later(const std::string& why);

  RemoteServer server_;
  std::string server_name_;
  Backoff backoff_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;  // reconnect delay, and the connect timeout while connecting
  bool timed_out_ = false;
  std::chrono::steady_clock::time_point connected_at_{};
  std::uint64_t rx_frames_at_connect_ = 0;
};

}  // namespace tund::transport
