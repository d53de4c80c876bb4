#include "tund/transport/tcp_transport.hpp"

namespace tund::transport {

TcpTransport::TcpTransport(asio::io_context& io, std::size_t max_frame, util::Logger& log)
    : io_(io), log_(log), max_frame_(max_frame) {}

void TcpTransport::start(FrameSink& sink) {
  sink_ = &sink;
  begin();
}

void TcpTransport::stop() {
  stopped_ = true;
  end();
  if (link_) link_->close("shutting down", false);
  link_.reset();
}

void TcpTransport::adopt(asio::ip::tcp::socket socket, const std::string& peer_name) {
  configure_tunnel_socket(socket);
  if (link_) link_->close("replaced", false);
  TcpLinkContext ctx{max_frame_, sink_, &stats_, &log_, &wire_complaints_};
  link_ = std::make_shared<TcpLink>(
      std::move(socket), peer_name, ctx,
      [this](TcpLink& closed, const std::string& reason) {
        if (link_.get() != &closed) return;  // an old link replaced earlier
        std::string peer = closed.peer_name();
        link_.reset();
        sink_->on_peer_state(false);
        notify_resume();
        on_link_closed(peer, reason);
      },
      [this] { notify_resume(); });
  ++stats_.sessions;
  link_->start();
  sink_->on_peer_state(true);
  notify_resume();
}

void TcpTransport::drop_link(const std::string& reason) {
  if (link_) link_->close(reason);
}

// A waiting engine is resumed whenever the picture changes: the socket drained, or the
// link came or went (then it drains the device itself rather than wait on a dead socket).
void TcpTransport::notify_resume() {
  if (!resume_) return;
  auto resume = std::move(resume_);
  resume_ = nullptr;
  resume();
}

}  // namespace tund::transport
