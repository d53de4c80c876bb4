#include "tund/transport/tcp_transport.hpp"

#include <algorithm>

#include "tund/proto/timers.hpp"
#include "tund/proto/wire.hpp"

namespace tund::transport {
TcpTransport::TcpTransport(asio::io_context& io, util::Logger& log, Security* security,
                           std::size_t max_pending)
    : io_(io),
      log_(log),
      security_(security),
      max_pending_(max_pending),
      handshake_limiter_(proto::kHandshakesPerSecond, proto::kHandshakeBurst),
      timer_(io) {}

void TcpTransport::start(FrameSink& sink) {
  sink_ = &sink;
  begin();
  tick();
}

void TcpTransport::stop() {
  stopped_ = true;
  timer_.cancel();
  end();
  if (link_) link_->close("shutting down", false);
  link_.reset();
  for (auto& p : pending_) p.link->close("shutting down", false);
  pending_.clear();
}

std::shared_ptr<TcpLink> TcpTransport::make_link(asio::ip::tcp::socket socket,
                                                 const std::string& name) {
  configure_tunnel_socket(socket);
  // What the wire format can carry, not our MTU: a peer with a larger MTU (simpletun's
  // 1500 against our 1400) sends plausible packets that the device still accepts. The
  // u16 length prefix bounds every message, sealed ones included.
  std::size_t max_message = proto::kMaxFrameAbsolute;
  TcpLinkContext ctx{max_message, &stats_, &log_, &wire_complaints_};
  return std::make_shared<TcpLink>(
      std::move(socket), name, ctx,
      [this](TcpLink& link, util::ByteSpan frame) { on_frame(link, frame); },
      [this](TcpLink& link, const std::string& reason) { on_closed(link, reason); },
      [this] { notify_resume(); });
}

void TcpTransport::adopt(asio::ip::tcp::socket socket, const std::string& peer_name,
                         bool accepted) {
  auto link = make_link(std::move(socket), peer_name);
  ++stats_.sessions;
  link->start();
  if (security_ && accepted) {
    if (pending_.size() >= max_pending_) {
      ++stats_.rx_refused;
      complain("dropped the connection from " + pending_.front().link->peer_name() +
               ": too many connections awaiting a handshake");
      pending_.front().link->close("too many connections awaiting a handshake", false);
      pending_.erase(pending_.begin());
    }
    pending_.push_back({link, std::chrono::steady_clock::now()});
    return;
  }
  if (link_) link_->close("replaced", false);
  link_ = link;
  if (security_) {
    security_->reset();
    send_initiation_if_due();
  }
  refresh_up();
}

// ---- receiving ----------------------------------------------------------------------------

void TcpTransport::on_frame(TcpLink& link, util::ByteSpan frame) {
  if (security_) {
    on_secure_frame(link, frame);
    return;
  }
  if (&link != link_.get()) return;
  ++stats_.rx_frames;
  stats_.rx_bytes += frame.size();
  sink_->on_frame(frame);
}

void TcpTransport::on_secure_frame(TcpLink& link, util::ByteSpan frame) {
  bool active = &link == link_.get();
  bool initiation = !frame.empty() &&
                    frame[0] == std::byte{std::uint8_t(proto::MessageType::handshake_initiation)};
  if (initiation &&
      !handshake_limiter_.allow(link.peer_address(), std::chrono::steady_clock::now())) {
    ++stats_.rx_rate_limited;
    complain("handshake initiation from " + link.peer_name() + " rate-limited");
    if (!active) link.close("rate-limited");
    return;
  }
  SecurityVerdict v = security_->receive(frame.data(), frame.size());
  if (v.action == SecurityVerdict::Action::drop) {
    ++stats_.rx_refused;
    complain("refused a message from " + link.peer_name() + ": " + v.reason);
    // A connection that has not authenticated gets one chance: the handshake failed.
    if (!active) link.close("handshake failed");
    return;
  }
  if (v.authenticated && !active) promote(link);
  if (v.action == SecurityVerdict::Action::reply) link.send_message(v.data, v.size);
  if (v.established)
    log_.info("session with ", link.peer_name(), " established (", security_->describe(), ")");
  refresh_up();
  if (v.send_confirmation) send_confirmation();
  if (v.action == SecurityVerdict::Action::deliver) {
    ++stats_.rx_frames;
    stats_.rx_bytes += v.size;
    sink_->on_frame({v.data, v.size});
  }
}

// An accepted connection authenticated: it becomes the current link, replacing the old.
void TcpTransport::promote(TcpLink& link) {
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Pending& p) { return p.link.get() == &link; });
  if (it == pending_.end()) return;
  auto fresh = it->link;
  pending_.erase(it);
  if (link_) {
    ++stats_.peer_changes;
    log_.info("client ", fresh->peer_name(), " authenticated; it replaces ", link_->peer_name());
    link_->close("replaced by an authenticated client", false);
  } else {
    log_.info("client ", fresh->peer_name(), " authenticated");
  }
  link_ = fresh;
}

void TcpTransport::on_closed(TcpLink& link, const std::string& reason) {
  if (&link != link_.get()) {
    std::erase_if(pending_, [&](const Pending& p) { return p.link.get() == &link; });
    return;
  }
  std::string peer = link.peer_name();
  bool was_up = up_;
  link_.reset();
  if (security_) security_->reset();
  refresh_up();
  notify_resume();
  on_link_closed(peer, reason, was_up);
}

// ---- sending ------------------------------------------------------------------------------

util::ByteSpan TcpTransport::tx_slot() {
  return link_->tx_slot(security_ ? security_->header_size() : 0);
}

void TcpTransport::commit(std::size_t size) {
  std::size_t message = security_ ? security_->seal(link_->message_start(), size) : size;
  link_->commit_message(message);
  ++stats_.tx_frames;
  stats_.tx_bytes += size;
}

void TcpTransport::send_initiation_if_due() {
  if (!security_ || !security_->initiator() || !link_ || !security_->handshake_due()) return;
  std::vector<std::byte> message(security_->initiation_size());
  if (security_->write_initiation(message.data()))
    complain("no handshake response from " + link_->peer_name() + " (" +
             kUnansweredHandshakeCauses + "); retrying");
  link_->send_message(message.data(), message.size());
}

// The initiator's first sealed frame (empty) tells the responder to switch to the new keys.
// With the output buffer full it is skipped: the next data frame confirms just as well.
void TcpTransport::send_confirmation() {
  if (!link_ || !security_->ready() || !link_->has_room(security_->overhead())) return;
  link_->commit_message(security_->seal(link_->message_start(), 0));
  link_->flush();
}

void TcpTransport::refresh_up() {
  bool up = link_ && (!security_ || security_->ready());
  if (up == up_) return;
  up_ = up;
  sink_->on_peer_state(up);
  if (up) on_up();
  notify_resume();
  // The server's session ended under a live connection (its client key was removed on
  // SIGHUP, or it expired): a connection without a session carries nothing, and the
  // client would only see its frames vanish. Closing it makes the client reconnect and
  // handshake at once (and be told if its key is refused).
  if (!up && link_ && security_ && !security_->initiator()) {
    auto link = link_;  // close() ends in on_closed(), which lets go of link_
    link->close("its session ended (client key no longer allowed, or expired)");
  }
}

void TcpTransport::tick() {
  auto now = std::chrono::steady_clock::now();
  for (auto& p : pending_)
    if (now - p.since > proto::kHandshakeDeadline) {
      complain("connection from " + p.link->peer_name() + " sent no valid handshake in time");
      p.link->close("handshake timeout", false);
    }
  std::erase_if(pending_, [](const Pending& p) { return p.link->closed(); });
  send_initiation_if_due();
  refresh_up();
  util::report_suppressed(log_, wire_complaints_, util::LogLevel::warn, "refused input");
  util::report_suppressed(log_, connection_log_, util::LogLevel::info, "connection events");
  timer_.expires_after(proto::kTimerTick);
  timer_.async_wait([this](std::error_code ec) {
    if (!ec && !stopped_) tick();
  });
}

void TcpTransport::complain(const std::string& what) {
  util::warn_limited(log_, wire_complaints_, what);
}

void TcpTransport::log_connection_event(const std::string& what) {
  util::log_limited(log_, connection_log_, util::LogLevel::info, what);
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
