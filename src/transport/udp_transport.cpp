#include "tund/transport/udp_transport.hpp"

#include <sys/socket.h>

#include <asio/ip/v6_only.hpp>
#include <cstring>

#include "tund/transport/listen_socket.hpp"

namespace tund::transport {
namespace {

// How often timers are checked; fine enough for a 250 ms first probe, cheap when idle.
constexpr auto kTick = std::chrono::milliseconds(250);
// recvmmsg calls per wake-up before yielding to the other direction (each takes up to
// 16 datagrams, or 16 GRO bundles of many).
constexpr int kReceiveBatches = 4;
// Encrypted client: frames sent and nothing authenticated back for this long means the
// server lost our session (a restart): handshake again rather than wait for the peer
// timeout. An idle tunnel notices after keepalive + this (both sides send keepalives).
constexpr auto kStaleSession = std::chrono::seconds(3);
// Passive keepalive: a side that received frames but sent nothing for this long answers
// with a keepalive, so a one-way flow does not look like a dead session to its sender.
constexpr auto kPassiveKeepalive = std::chrono::seconds(1);
// Handshake initiations processed per source address: 5 at once, then 2 per second.
constexpr double kHandshakesPerSecond = 2, kHandshakeBurst = 5;

bool is_transient(const std::error_code& ec) {
  // ICMP errors surfaced on the socket (server not up yet, a route flapping): the tunnel
  // outlives them, the frame is lost as it would be on any lossy link.
  return ec == asio::error::connection_refused || ec == asio::error::network_unreachable ||
         ec == asio::error::host_unreachable || ec == asio::error::connection_reset ||
         ec == std::errc::message_size;
}

}  // namespace

UdpTransport::UdpTransport(asio::io_context& io, UdpOptions options, util::Logger& log,
                           Backoff probe_backoff)
    : options_(std::move(options)),
      log_(log),
      probe_backoff_(std::move(probe_backoff)),
      socket_(io),
      timer_(io),
      security_(options_.security),
      handshake_limiter_(kHandshakesPerSecond, kHandshakeBurst),
      // Each slot has room for the largest packet a device read can return, so an oversize
      // one is seen whole by the engine (and answered) instead of truncated.
      batch_(proto::kUdpHeaderSize + proto::kMaxFrameAbsolute +
                 (security_ ? security_->overhead() : 0),
             options_.offload) {
  if (options_.server)
    open_server();
  else
    open_client();
  socket_.non_blocking(true);
  receiver_.emplace(socket_.native_handle(), options_.offload);
}

void UdpTransport::open_server() {
  bind_listener(options_.listen, options_.port, "UDP", [&](const asio::ip::address& address) {
    asio::ip::udp::endpoint endpoint(address, options_.port);
    if (socket_.is_open()) socket_.close();
    socket_.open(endpoint.protocol());
    if (address.is_v6()) socket_.set_option(asio::ip::v6_only(false));
    socket_.bind(endpoint);
  });
}

void UdpTransport::open_client() {
  const Endpoint& server = options_.remote.addresses.front();
  asio::ip::udp::endpoint endpoint(server.address, server.port);
  std::error_code ec;
  socket_.open(endpoint.protocol(), ec);
  // A connected UDP socket only accepts datagrams from the server: injected traffic from
  // elsewhere never reaches the parser.
  if (!ec) socket_.connect(endpoint, ec);
  if (ec) throw TransportError("cannot open UDP socket to " + peer_name() + ": " + ec.message());
  peer_ = endpoint;
}

void UdpTransport::start(FrameSink& sink) {
  sink_ = &sink;
  if (options_.server) {
    auto local = socket_.local_endpoint();
    log_.info("listening on ", to_string(local.address(), local.port()), " (udp",
              security_ ? ", encrypted)" : ")");
  } else {
    log_.info("sending to ", peer_name(), " (udp", security_ ? ", encrypted" : "",
              "); waiting for the server to answer");
    next_probe_ = Clock::now();
  }
  receive();
  tick();
}

void UdpTransport::stop() {
  stopped_ = true;
  timer_.cancel();
  std::error_code ignored;
  socket_.close(ignored);
}

std::string UdpTransport::peer_name() const {
  if (peer_) return to_string(peer_->address(), peer_->port());
  const Endpoint& e = options_.remote.addresses.front();
  return to_string(e.address, e.port);
}

// ---- receive --------------------------------------------------------------------------

void UdpTransport::receive() {
  socket_.async_wait(asio::ip::udp::socket::wait_read, [this](std::error_code ec) {
    // Aborted means the socket is closed and `this` may be gone: touch nothing.
    if (ec == asio::error::operation_aborted || stopped_) return;
    drain_socket();
    receive();
  });
}

void UdpTransport::drain_socket() {
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
  for (int i = 0; i < kReceiveBatches && !stopped_; ++i) {
    std::error_code ec = receiver_->receive(handle);
    if (ec == std::errc::operation_would_block) return;
    if (ec && !is_transient(ec)) complain("receive failed: " + ec.message());
  }
}

void UdpTransport::on_datagram(util::ByteSpan datagram, const asio::ip::udp::endpoint& from) {
  std::size_t max_body = options_.max_frame + (security_ ? security_->overhead() : 0);
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
    log_.info("client moved from ", peer_name(), " to ", to_string(from.address(), from.port()));
  }
  peer_ = from;
  if (up_) return;
}

// Up = we know where the peer is, have heard from it, and (encrypted) have a session.
void UdpTransport::refresh_up() {
  bool heard = last_rx_ != Clock::time_point{};
  set_up(peer_.has_value() && heard && (!security_ || security_->ready()));
}

void UdpTransport::set_up(bool up) {
  if (up_ == up) return;
  up_ = up;
  if (up) {
    ++stats_.sessions;
    probe_backoff_.reset();
    unanswered_probes_ = 0;
    log_.info(options_.server ? "client at " : "server at ", peer_name(), " is up");
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
  if (send_blocked_ || !peer_) return;  // frames are waiting to go: they prove liveness too
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
  if (!security_ || !security_->initiator() || !security_->handshake_due()) return;
  std::vector<std::byte> message(security_->initiation_size());
  bool retry = security_->write_initiation(message.data());
  if (retry)
    complain("no handshake response from " + peer_name() +
             " (wrong --peer-key, client key not allowed, psk mismatch, or server down); "
             "retrying");
  send_raw(message.data(), message.size(), *peer_);
}

// Sends the batch; on EAGAIN the rest waits for the socket (and the engine stops reading
// the device meanwhile: writable() is false).
void UdpTransport::send_batch() {
  if (batch_.empty()) return;
  if (!peer_) {
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
  if (ec == std::errc::operation_would_block) {
    send_blocked_ = true;
    wait_writable();
    return;
  }
  if (ec) {
    if (!is_transient(ec)) complain("send to " + peer_name() + " failed: " + ec.message());
    // Client: the local address may be gone (DHCP, interface change); pick the current one.
    // At most once a second, so a persistent error cannot turn into a busy loop.
    if (!options_.server && Clock::now() - last_rebind_ > std::chrono::seconds(1))
      rebind_source(ec.message().c_str());
    stats_.tx_dropped += batch_.queued();  // the rest would most likely fail the same way
    batch_.clear();
    return;
  }
  last_tx_ = Clock::now();
}

// Client: a connected UDP socket keeps the source address chosen at connect time, even
// after that address disappears. Dissolving the association (AF_UNSPEC) and connecting
// again lets the kernel pick the current source; the server follows the client to it as
// soon as an authenticated (or, in plaintext, any valid) datagram arrives from there.
void UdpTransport::rebind_source(const char* why) {
  last_rebind_ = Clock::now();
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  (void)::connect(socket_.native_handle(), &unspec, sizeof unspec);
  std::error_code ec;
  socket_.connect(*peer_, ec);
  std::error_code local_ec;
  auto local = socket_.local_endpoint(local_ec);
  log_.info("re-connected the UDP socket (", why, ")",
            local_ec ? "" : "; now sending from " + to_string(local.address(), local.port()));
}

// Handshake messages: small, rare, best effort (a lost one is retried by the initiator).
void UdpTransport::send_raw(const std::byte* data, std::size_t size,
                            const asio::ip::udp::endpoint& to) {
  std::error_code ec;
  if (options_.server)
    socket_.send_to(asio::buffer(data, size), to, 0, ec);
  else
    socket_.send(asio::buffer(data, size), 0, ec);
  if (ec && !is_transient(ec)) complain("send to " + peer_name() + " failed: " + ec.message());
}

void UdpTransport::wait_writable() {
  socket_.async_wait(asio::ip::udp::socket::wait_write, [this](std::error_code ec) {
    if (ec || stopped_) return;
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
  auto dead_after = options_.keepalive * proto::kKeepalivesMissedBeforeDead;
  bool heard = last_rx_ != Clock::time_point{};
  if (heard && peer_ && now - last_rx_ > dead_after && (up_ || options_.server)) {
    log_.info(options_.server ? "client " : "server ", peer_name(), " silent for ",
              std::chrono::duration_cast<std::chrono::seconds>(now - last_rx_).count(),
              " s; considered gone", options_.server ? "" : ", probing");
    if (options_.server) peer_.reset();
    last_rx_ = {};
    next_probe_ = now;
  }
  bool unanswered =
      unanswered_since_ != Clock::time_point{} && now - unanswered_since_ > kStaleSession;
  if (security_ && !options_.server && up_ &&
      (unanswered || now - last_rx_ > options_.keepalive + kStaleSession)) {
    log_.info("no authenticated traffic from ", peer_name(), " for ",
              std::chrono::duration_cast<std::chrono::seconds>(now - last_rx_).count(),
              " s; starting a new handshake");
    security_->reset();
    unanswered_since_ = {};
    rebind_source("no answer");
  }
  refresh_up();
  bool owe_answer = last_data_rx_ > last_tx_ && now - last_tx_ >= kPassiveKeepalive;
  if (up_ && (owe_answer || now - last_tx_ >= options_.keepalive)) send_keepalive();
  if (security_) {
    send_initiation_if_due();
  } else if (!up_ && !options_.server && now >= next_probe_) {
    send_keepalive();
    next_probe_ = now + probe_backoff_.next();
    // Once, after a few seconds of silence: an encrypted server never answers plaintext.
    if (++unanswered_probes_ == 5)
      log_.warn("no answer from ", peer_name(),
                " yet: server down, wrong port, or it "
                "requires encryption (--private-key); still trying");
  }
  timer_.expires_after(kTick);
  timer_.async_wait([this](std::error_code ec) {
    if (!ec && !stopped_) tick();
  });
}

void UdpTransport::complain(const std::string& what) {
  util::warn_limited(log_, wire_complaints_, what);
}

}  // namespace tund::transport
