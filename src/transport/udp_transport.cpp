#include "tund/transport/udp_transport.hpp"

#include <sys/socket.h>

#include <asio/ip/v6_only.hpp>
#include <cerrno>
#include <cstring>

#include "socket_flags.hpp"
#include "tund/proto/timers.hpp"
#include "tund/transport/listen_socket.hpp"

namespace tund::transport {
namespace {

// recvmmsg calls per wake-up before yielding to the other direction (each takes up to
// 16 datagrams, or 16 GRO bundles of many).
constexpr int kReceiveBatches = 4;

bool is_icmp_report(const std::error_code& ec) {
  // ICMP errors surfaced on the socket (server not up yet, a route flapping): reported
  // once and cleared by the read that returned them. The tunnel outlives them.
  switch (errno_of(ec)) {
    case ECONNREFUSED:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ECONNRESET:
    case EMSGSIZE:
    case ENETDOWN:
    case ETIMEDOUT:
    case EPROTO:
      return true;
    default:
      return false;
  }
}

}  // namespace

UdpTransport::UdpTransport(asio::io_context& io, UdpOptions options, util::Logger& log,
                           util::Backoff probe_backoff)
    : options_(std::move(options)),
      log_(log),
      probe_backoff_(std::move(probe_backoff)),
      socket_(io),
      timer_(io),
      receive_pause_(io),
      security_(options_.security),
      handshake_limiter_(proto::kHandshakesPerSecond, proto::kHandshakeBurst),
      // Each slot has room for the largest packet a device read can return, so an oversize
      // one is seen whole by the engine (and answered) instead of truncated.
      batch_(proto::kUdpHeaderSize + proto::kMaxFrameAbsolute +
                 (security_ ? security_->overhead() : 0),
             options_.offload) {
  if (options_.server)
    open_server();
  else
    server_.emplace(io, options_.remote, log);
}

void UdpTransport::open_server() {
  bind_listener(options_.listen, options_.port, "UDP", [&](const asio::ip::address& address) {
    asio::ip::udp::endpoint endpoint(address, options_.port);
    if (socket_.is_open()) socket_.close();
    socket_.open(endpoint.protocol());
    set_close_on_exec(socket_.native_handle());
    if (address.is_v6()) socket_.set_option(asio::ip::v6_only(false));
    socket_.bind(endpoint);
    socket_.non_blocking(true);
  });
  receiver_.emplace(socket_.native_handle(), options_.offload);
}

void UdpTransport::start(FrameSink& sink) {
  sink_ = &sink;
  if (options_.server) {
    std::error_code ec;
    auto local = socket_.local_endpoint(ec);
    log_.info("listening on ", ec ? "?" : to_string(local.address(), local.port()), " (udp",
              security_ ? ", encrypted)" : ")");
    receive();
  } else {
    log_.info("sending to ", server_->name(), " (udp", security_ ? ", encrypted" : "",
              "); waiting for the server to answer");
  }
  tick();
}

std::uint16_t UdpTransport::local_port() const {
  std::error_code ec;
  auto local = socket_.local_endpoint(ec);
  return ec ? 0 : local.port();
}

void UdpTransport::stop() {
  stopped_ = true;
  *alive_ = false;
  timer_.cancel();
  receive_pause_.cancel();
  if (server_) server_->cancel();
  std::error_code ignored;
  socket_.close(ignored);
}

std::string UdpTransport::peer_name() const {
  if (peer_) return to_string(peer_->address(), peer_->port());
  return server_ ? server_->name() : "?";
}

// ---- receive --------------------------------------------------------------------------

void UdpTransport::receive() {
  socket_.async_wait(asio::ip::udp::socket::wait_read,
                     [this, alive = alive_, generation = generation_](std::error_code ec) {
                       // Closed (the transport stopped or the client reopened its socket):
                       // `this` may be gone, so check the token first.
                       if (!*alive || generation != generation_ || stopped_) return;
                       if (ec == asio::error::operation_aborted) return;
                       if (ec || !drain_socket()) {
                         pause_receiving();
                         return;
                       }
                       receive();
                     });
}

void UdpTransport::pause_receiving() {
  receive_pause_.expires_after(proto::kReceiveErrorPause);
  receive_pause_.async_wait([this, generation = generation_](std::error_code ec) {
    if (!ec && !stopped_ && generation == generation_) receive();
  });
}

// Returns false after an error that may persist (the caller waits a little).
bool UdpTransport::drain_socket() {
  auto handle = [this](util::ByteSpan datagram, const sockaddr* from, socklen_t from_size,
                       bool truncated) {
    asio::ip::udp::endpoint sender;
    if (from_size > sender.capacity()) return;
    std::memcpy(sender.data(), from, from_size);
    sender.resize(from_size);
    if (truncated) {  // bigger than any buffer: cannot be a frame of ours
      ++stats_.rx_bad_datagram;
      ++stats_.rx_oversize;
      complain("dropped an oversize datagram from " + to_string(sender.address(), sender.port()));
      return;
    }
    on_datagram(datagram, sender);
  };
  for (int i = 0; i < kReceiveBatches && !stopped_ && receiver_; ++i) {
    std::error_code ec = receiver_->receive(handle);
    if (ec == std::errc::operation_would_block) return true;
    if (ec && !is_icmp_report(ec)) {
      complain("receive failed: " + ec.message());
      return false;
    }
  }
  return true;
}

void UdpTransport::on_datagram(util::ByteSpan datagram, const asio::ip::udp::endpoint& from) {
  // The wire format's limit, not our MTU: a peer with a larger MTU sends plausible packets
  // the device still takes (the engine decides).
  std::size_t max_body = proto::kMaxFrameAbsolute + (security_ ? security_->overhead() : 0);
  auto parsed = proto::parse_udp_message(datagram, max_body);
  if (!parsed.message) {
    ++stats_.rx_bad_datagram;
    if (parsed.error == proto::UdpParseError::oversize_data) ++stats_.rx_oversize;
    complain("dropped a " + std::to_string(datagram.size()) + "-byte datagram from " +
             to_string(from.address(), from.port()) + ": " +
             std::string(proto::to_string(parsed.error)));
    return;
  }
  if (security_) {
    on_secure_message(datagram, from);
  } else if (parsed.message->type == proto::MessageType::data ||
             parsed.message->type == proto::MessageType::keepalive) {
    on_plain_message(*parsed.message, from);
  } else {
    ++stats_.rx_bad_datagram;
    complain("dropped an encrypted message from " + to_string(from.address(), from.port()) +
             ": encryption is off here (the peer has keys configured)");
  }
}

void UdpTransport::on_plain_message(const proto::UdpMessage& message,
                                    const asio::ip::udp::endpoint& from) {
  bool new_peer = options_.server && peer_ != from;
  note_peer(from);
  refresh_up();
  bool is_keepalive = message.type == proto::MessageType::keepalive;
  // Answer a probe at once (a new client, or one that restarted behind the same address)
  // so it sees the tunnel up without waiting a keepalive interval. At most one reply per
  // second, and no bigger than the probe: nothing to amplify, no ping-pong between peers.
  if (is_keepalive && (new_peer || Clock::now() - last_tx_ > std::chrono::seconds(1)))
    send_keepalive();
  if (!is_keepalive) {
    last_data_rx_ = Clock::now();
    ++stats_.rx_frames;
    stats_.rx_bytes += message.body.size();
    sink_->on_frame(message.body);
  }
}

void UdpTransport::on_secure_message(util::ByteSpan datagram, const asio::ip::udp::endpoint& from) {
  auto type = static_cast<proto::MessageType>(datagram[0]);
  std::string source = to_string(from.address(), from.port());
  if (type == proto::MessageType::handshake_initiation &&
      !handshake_limiter_.allow(from.address().to_string(), Clock::now())) {
    ++stats_.rx_rate_limited;
    complain("handshake initiation from " + source + " rate-limited");
    return;
  }
  SecurityVerdict v = security_->receive(datagram.data(), datagram.size());
  if (v.action == SecurityVerdict::Action::drop) {
    ++stats_.rx_refused;
    complain("refused a message from " + source + ": " + v.reason);
    return;
  }
  // Only authenticated messages may teach the server where its client is now.
  if (v.authenticated) note_peer(from);
  if (v.action == SecurityVerdict::Action::reply) send_raw(v.data, v.size, from);
  if (v.established)
    log_.info("session with ", source, " established (", security_->describe(), ")");
  refresh_up();
  if (v.send_confirmation) send_keepalive();
  if (v.action == SecurityVerdict::Action::deliver) {
    last_data_rx_ = Clock::now();
    ++stats_.rx_frames;
    stats_.rx_bytes += v.size;
    sink_->on_frame({v.data, v.size});
  }
}

// Any accepted datagram proves the peer alive. The server (re)learns where to send from
// it: the first client, a restarted client, or the same client behind a rebound NAT port.
void UdpTransport::note_peer(const asio::ip::udp::endpoint& from) {
  last_rx_ = Clock::now();
  unanswered_since_ = {};
  if (!options_.server || peer_ == from) return;
  if (peer_ && up_) {
    ++stats_.peer_changes;
    // Limited: in plaintext anyone can send a valid datagram and "move" the client.
    util::log_limited(
        log_, peer_moves_, util::LogLevel::info,
        "client moved from " + peer_name() + " to " + to_string(from.address(), from.port()));
  }
  peer_ = from;
}

// Up = we know where the peer is, have heard from it, and (encrypted) have a session.
void UdpTransport::refresh_up() {
  bool heard = last_rx_ != Clock::time_point{};
  bool path = options_.server || connected_;
  set_up(path && peer_.has_value() && heard && (!security_ || security_->ready()));
}

void UdpTransport::set_up(bool up) {
  if (up_ == up) return;
  up_ = up;
  if (up) {
    ++stats_.sessions;
    probe_backoff_.reset();
    unanswered_probes_ = 0;
    send_failure_logged_ = false;
    std::string line =
        std::string(options_.server ? "client at " : "server at ") + peer_name() + " is up";
    if (options_.server)  // a plaintext stranger can make this repeat
      util::log_limited(log_, peer_moves_, util::LogLevel::info, line);
    else
      log_.info(line);
  } else {
    target_since_ = Clock::now();  // client: the patience with this address starts now
  }
  sink_->on_peer_state(up);
  notify_resume();
}

// ---- send -----------------------------------------------------------------------------

util::ByteSpan UdpTransport::tx_slot() {
  std::size_t offset = security_ ? security_->header_size() : proto::kUdpHeaderSize;
  return {batch_.slot() + offset, proto::kMaxFrameAbsolute};
}

// Seals (or heads) the frame in place in the batch; flush() sends the batch.
void UdpTransport::commit(std::size_t size) {
  std::size_t message_size;
  if (security_) {
    message_size = security_->seal(batch_.slot(), size);
  } else {
    proto::write_udp_header(batch_.slot(), proto::MessageType::data);
    message_size = proto::kUdpHeaderSize + size;
  }
  batch_.commit(message_size);
  ++stats_.tx_frames;
  stats_.tx_bytes += size;
  // A frame we tried to send starts the "is anyone answering?" clock even if the send
  // fails: a session that cannot send is as stale as one that gets no answers.
  if (unanswered_since_ == Clock::time_point{}) unanswered_since_ = Clock::now();
  if (batch_.full()) send_batch();
}

void UdpTransport::flush() {
  if (!send_blocked_) send_batch();
}

// Plaintext: a bare keepalive header. Encrypted: an empty sealed frame, so liveness is
// authenticated too (and it confirms a fresh session to the responder).
void UdpTransport::send_keepalive() {
  // Frames waiting to go prove liveness too; without a path nothing can go.
  if (send_blocked_ || !peer_ || (!options_.server && !connected_)) return;
  if (security_) {
    if (!security_->ready()) return;
    batch_.commit(security_->seal(batch_.slot(), 0));
  } else {
    proto::write_udp_header(batch_.slot(), proto::MessageType::keepalive);
    batch_.commit(proto::kUdpHeaderSize);
  }
  send_batch();
}

void UdpTransport::send_initiation_if_due() {
  // Without a route nothing can go: the handshake's retry clock waits for one.
  if (!security_ || !security_->initiator() || !connected_ || !security_->handshake_due()) return;
  std::vector<std::byte> message(security_->initiation_size());
  bool retry = security_->write_initiation(message.data());
  if (retry)
    complain("no handshake response from " + peer_name() + " (" + kUnansweredHandshakeCauses +
             "); retrying");
  send_raw(message.data(), message.size(), *peer_);
}

// Sends the batch; on EAGAIN the rest waits for the socket (and the engine stops reading
// the device meanwhile: writable() is false).
void UdpTransport::send_batch() {
  if (batch_.empty()) return;
  if (!peer_ || (!options_.server && !connected_)) {
    stats_.tx_dropped += batch_.queued();
    batch_.clear();
    return;
  }
  bool connected = !options_.server;
  std::error_code ec = batch_.send(socket_.native_handle(), connected ? nullptr : peer_->data(),
                                   connected ? 0 : static_cast<socklen_t>(peer_->size()));
  std::string notice = batch_.take_notice();
  if (!notice.empty()) log_.info(notice);
  stats_.tx_dropped += batch_.dropped() - dropped_seen_;
  dropped_seen_ = batch_.dropped();
  if (batch_.oversize() != oversize_seen_) {
    oversize_seen_ = batch_.oversize();
    complain("dropped a datagram too large for any UDP send (" + std::to_string(oversize_seen_) +
             " so far)");
  }
  if (ec == std::errc::operation_would_block) {
    send_blocked_ = true;
    wait_writable();
    return;
  }
  if (ec) {
    on_send_error(ec);
    return;
  }
  last_tx_ = Clock::now();
}

// Each kind of send error means something else (udp_batch.hpp): a lost path is a state
// change of the client's (logged once), the rest loses this batch (counted, complained
// about at a bounded rate). None of them is an address change.
void UdpTransport::on_send_error(const std::error_code& ec) {
  stats_.tx_dropped += batch_.queued();  // the rest would most likely fail the same way
  batch_.clear();
  SendFault fault = classify_send_error(ec);
  if (fault == SendFault::no_route && !options_.server) {
    lose_route(ec.message());
    return;
  }
  if (fault == SendFault::refused && !options_.server) return;  // nobody listens yet: probing
  complain("send to " + peer_name() + " failed: " + ec.message());
}

// Handshake messages: small, rare, best effort (a lost one is retried by the initiator).
void UdpTransport::send_raw(const std::byte* data, std::size_t size,
                            const asio::ip::udp::endpoint& to) {
  std::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (options_.server)
      socket_.send_to(asio::buffer(data, size), to, 0, ec);
    else
      socket_.send(asio::buffer(data, size), 0, ec);
    // A late ICMP port unreachable fails the next send once and is cleared: retry once.
    if (classify_send_error(ec) != SendFault::refused) break;
  }
  switch (classify_send_error(ec)) {
    case SendFault::none:
      return;
    case SendFault::no_route:
      if (!options_.server) return lose_route(ec.message());
      break;
    case SendFault::refused:
      if (!options_.server) return;  // the server is not up yet: the initiator retries
      break;
    default:
      break;
  }
  complain("send to " + to_string(to.address(), to.port()) + " failed: " + ec.message());
}

void UdpTransport::wait_writable() {
  socket_.async_wait(asio::ip::udp::socket::wait_write,
                     [this, alive = alive_, generation = generation_](std::error_code ec) {
                       if (!*alive || generation != generation_ || ec || stopped_) return;
                       send_blocked_ = false;
                       send_batch();
                       if (!send_blocked_) notify_resume();
                     });
}

void UdpTransport::notify_resume() {
  if (!resume_) return;
  auto resume = std::move(resume_);
  resume_ = nullptr;
  resume();
}

// ---- timers ---------------------------------------------------------------------------

void UdpTransport::tick() {
  auto now = Clock::now();
  check_peer_silence(now);
  if (!options_.server) client_tick(now);
  refresh_up();
  bool owe_answer = last_data_rx_ > last_tx_ && now - last_tx_ >= proto::kPassiveKeepalive;
  if (up_ && (owe_answer || now - last_tx_ >= options_.keepalive)) send_keepalive();
  if (security_) {
    send_initiation_if_due();
  } else if (!up_ && connected_ && now >= next_probe_) {
    send_keepalive();
    next_probe_ = now + probe_backoff_.next();
    // Once, after a few seconds of silence: an encrypted server never answers plaintext.
    if (++unanswered_probes_ == 5)
      log_.warn("no answer from ", peer_name(),
                " yet: server down, wrong port, or it "
                "requires encryption (--private-key); still trying");
  }
  util::report_suppressed(log_, wire_complaints_, util::LogLevel::warn, "refused input");
  util::report_suppressed(log_, peer_moves_, util::LogLevel::info, "client address changes");
  timer_.expires_after(proto::kTimerTick);
  timer_.async_wait([this](std::error_code ec) {
    if (!ec && !stopped_) tick();
  });
}

// Three keepalive intervals without a word: the peer is gone (a server forgets its client;
// a client keeps probing, and its client_tick soon tries the next address or a new lookup).
// Client: frames sent and nothing (encrypted: nothing authenticated) back for a few
// seconds means the server is not answering: probe again rather than wait that long.
void UdpTransport::check_peer_silence(Clock::time_point now) {
  auto dead_after = options_.keepalive * proto::kKeepalivesMissedBeforeDead;
  bool heard = last_rx_ != Clock::time_point{};
  if (heard && peer_ && now - last_rx_ > dead_after && (up_ || options_.server)) {
    log_.info(options_.server ? "client " : "server ", peer_name(), " silent for ",
              std::chrono::duration_cast<std::chrono::seconds>(now - last_rx_).count(),
              " s; considered gone", options_.server ? "" : ", probing");
    if (options_.server) peer_.reset();
    last_rx_ = {};
    next_probe_ = now;
    target_since_ = now;
  }
  bool unanswered =
      unanswered_since_ != Clock::time_point{} && now - unanswered_since_ > proto::kStaleSession;
  if (options_.server || !up_ ||
      !(unanswered || now - last_rx_ > options_.keepalive + proto::kStaleSession))
    return;
  // Our frames (or keepalives) went unanswered, though a live server answers each within
  // a second (passive keepalive): it restarted, lost our session, or moved. Probe (or
  // handshake) again; client_tick moves on to the next address if that gets no answer.
  log_.info("no answer from ", peer_name(), " for ",
            std::chrono::duration_cast<std::chrono::seconds>(now - last_rx_).count(), " s; ",
            security_ ? "starting a new handshake" : "probing");
  if (security_)
    security_->reset();
  else
    last_rx_ = {};
  unanswered_since_ = {};
  next_probe_ = now;
  target_since_ = now;
}

void UdpTransport::complain(const std::string& what) {
  util::warn_limited(log_, wire_complaints_, what);
}

}  // namespace tund::transport
