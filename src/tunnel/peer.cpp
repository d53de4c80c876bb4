// A peer's messages, endpoints and up/down state; its timers are in peer_timers.cpp.
#include "tund/tunnel/peer.hpp"

#include <utility>

#include "tund/proto/causes.hpp"
#include "tund/proto/udp_message.hpp"

namespace tund::tunnel {
namespace {

std::size_t frame_offset_for(bool encrypted, bool datagram) {
  if (encrypted) return proto::kTransportHeaderSize;
  return datagram ? proto::kUdpHeaderSize : 0;
}

}  // namespace

Peer::Peer(PeerConfig config, transport::Transport& transport, crypto::Identity* identity,
           util::Logger& log, const util::Clock& clock, util::Backoff probe_backoff)
    : config_(std::move(config)),
      transport_(transport),
      log_(log),
      clock_(clock),
      probe_backoff_(std::move(probe_backoff)),
      datagram_(transport.datagram()),
      frame_offset_(frame_offset_for(config_.session.has_value(), datagram_)) {
  if (config_.index_map) {
    indices_ = std::make_unique<PeerIndices>(*config_.index_map, this);
    if (config_.session) config_.session->indices = indices_.get();
  }
  if (config_.session && identity)
    session_ = std::make_unique<crypto::Session>(*identity, *config_.session);
}

std::string Peer::name() const {
  if (config_.public_key)
    return endpoint_ ? config_.name + " (" + transport::to_string(*endpoint_) + ")" : config_.name;
  return endpoint_ ? transport::to_string(*endpoint_) : config_.name;
}

void Peer::cut(const std::string& why) {
  stats_.queue_dropped += queue_.clear();
  if (session_) session_->reset();
  auto endpoint = forget_endpoint();
  set_up(false);
  if (endpoint && !datagram_) transport_.close(*endpoint, why);
}

void Peer::disconnect(const std::string& why) {
  stats_.queue_dropped += queue_.clear();
  if (session_) session_->reset();
  last_rx_ = {};
  unanswered_since_ = {};
  next_probe_ = clock_.now();
  std::optional<transport::Endpoint> endpoint = endpoint_;
  if (!config_.initiator) forget_endpoint();
  set_up(false);
  if (endpoint && !datagram_) return transport_.close(*endpoint, why);
  if (config_.initiator) send_initiation_if_due();  // a plaintext client probes on its tick
}

// ---- sending ------------------------------------------------------------------------------

bool Peer::writable() const {
  return up_ && transport_.writable(*endpoint_);
}

std::size_t Peer::finish_message(util::ByteSpan message, std::size_t frame_size) {
  return finish_message(message, frame_size, clock_.now());
}

std::size_t Peer::finish_message(util::ByteSpan message, std::size_t frame_size, Time now) {
  return finish_message(message, frame_size, now, nullptr);
}

std::size_t Peer::finish_message(util::ByteSpan message, std::size_t frame_size, Time now,
                                 std::vector<crypto::SealJob>* deferred) {
  std::size_t size;
  if (session_ && deferred) {
    deferred->push_back(session_->prepare_seal(message.data(), frame_size));
    size = proto::kTransportOverhead + frame_size;
  } else if (session_) {
    size = session_->seal(message.data(), frame_size, now);
  } else if (datagram_) {
    proto::write_udp_header(message.data(), proto::MessageType::data);
    size = proto::kUdpHeaderSize + frame_size;
  } else {
    size = frame_size;
  }
  ++stats_.tx_frames;
  stats_.tx_bytes += frame_size;
  last_tx_ = now;
  // A frame we tried to send starts the "is anyone answering?" clock even if the send
  // fails: a session that cannot send is as stale as one that gets no answers.
  if (unanswered_since_ == Time{}) unanswered_since_ = now;
  return size;
}

// Plaintext: a bare keepalive header. Encrypted: an empty sealed frame, so liveness is
// authenticated too (and it confirms a fresh session to the responder). It takes the data
// path (committed behind the frames before it, flushed at once), so a keepalive lost to a
// failed send is counted with them (tx-failed).
bool Peer::send_keepalive() {
  auto now = clock_.now();
  if (!endpoint_ || !transport_.writable(*endpoint_)) return false;
  if (session_ && !session_->ready(now)) return false;
  util::ByteSpan message = transport_.message_slot(*endpoint_);
  std::size_t size = proto::kUdpHeaderSize;
  if (session_)
    size = session_->seal(message.data(), 0, now);
  else
    proto::write_udp_header(message.data(), proto::MessageType::keepalive);
  transport_.commit(*endpoint_, size);
  transport_.flush();
  last_tx_ = now;
  return true;
}

void Peer::send_initiation_if_due() {
  // Without a path nothing can go: the handshake's retry clock waits for one.
  auto now = clock_.now();
  if (!session_ || !config_.initiator || !endpoint_ || !session_->handshake_due(now)) return;
  std::array<std::byte, proto::kInitiationSize> message{};
  if (session_->write_initiation(message.data(), now))
    complain("no handshake response from " + name() + " (" + proto::kUnansweredHandshakeCauses +
             "); retrying");
  transport_.send_control(*endpoint_, message);
}

// ---- receiving ----------------------------------------------------------------------------

util::ConstByteSpan Peer::on_plain_datagram(const transport::Endpoint& from,
                                            proto::MessageType type, util::ConstByteSpan body) {
  auto now = clock_.now();
  bool new_endpoint = !config_.initiator && endpoint_ != from;
  heard_from(now);
  follow(from);
  refresh_up(now);
  if (type == proto::MessageType::keepalive) {
    // Answer a probe at once (a new client, or one that restarted behind the same
    // address) so it sees the tunnel up without waiting a keepalive interval. At most one
    // reply per interval, and no bigger than the probe: nothing to amplify, no ping-pong.
    if (new_endpoint || now - last_tx_ > proto::kProbeAnswerInterval) send_keepalive();
    return {};
  }
  count_rx(body.size(), now);
  return body;
}

// Plaintext TCP: only the current connection carries the tunnel (a replaced one may
// still deliver what was in flight: dropped).
util::ConstByteSpan Peer::on_plain_stream(const transport::Endpoint& from,
                                          util::ConstByteSpan frame) {
  if (endpoint_ != from) return {};
  ++stats_.rx_frames;  // TCP: no datagram timers read the time of the last frame
  stats_.rx_bytes += frame.size();
  return frame;
}

crypto::Verdict Peer::on_sealed(const transport::Endpoint& from, util::ByteSpan message) {
  auto now = clock_.now();  // once per message: this is the per-packet path
  return accept(from, session_->receive(message.data(), message.size(), now), now);
}

std::optional<crypto::OpenJob> Peer::prepare_open(util::ByteSpan message,
                                                  std::uint32_t receiver_index, Time now,
                                                  crypto::Verdict& refusal) {
  return session_->prepare_open(message.data(), message.size(), receiver_index, now, refusal);
}

crypto::Verdict Peer::finish_open(const transport::Endpoint& from, const crypto::OpenJob& job,
                                  Time now) {
  return accept(from, session_->finish_open(job), now);
}

crypto::Verdict Peer::on_initiation(const transport::Endpoint& from,
                                    crypto::Initiation initiation) {
  auto now = clock_.now();
  return accept(from, session_->respond(std::move(initiation), now), now);
}

// Acts on what the session made of a message: only an authenticated one may teach the
// server where its client is now; replies go back where the message came from.
crypto::Verdict Peer::accept(const transport::Endpoint& from, crypto::Verdict v, Time now) {
  if (v.action == crypto::Action::drop) return v;
  if (v.authenticated) {
    heard_from(now);
    follow(from);
  }
  if (v.action == crypto::Action::reply) transport_.send_control(from, {v.data, v.size});
  if (v.established)
    log_.info("session with ", config_.public_key ? name() : transport::to_string(from),
              " established (", session_->cipher_name(), ")");
  refresh_up(now);
  if (v.send_confirmation) send_keepalive();
  if (v.action == crypto::Action::deliver) count_rx(v.size, now);
  return v;
}

void Peer::count_rx(std::size_t frame_size, Time now) {
  last_data_rx_ = now;
  ++stats_.rx_frames;
  stats_.rx_bytes += frame_size;
}

// Any accepted message proves the peer alive.
void Peer::heard_from(Time now) {
  last_rx_ = now;
  last_heard_ = now;
  unanswered_since_ = {};
}

// The server (re)learns where its client is: the first client, a restarted client, the
// same client behind a rebound NAT port (datagram), or a newer connection (stream). The
// same client sending to another address of this host (Endpoint::local) is followed too,
// so answers leave from that address, but that is no move of the client's.
void Peer::follow(const transport::Endpoint& from) {
  if (config_.initiator || endpoint_ == from) return;
  if (!datagram_) return take_connection(from);
  bool moved = !endpoint_ || endpoint_->address != from.address || endpoint_->port != from.port;
  if (endpoint_ && up_ && moved) {
    ++stats_.peer_changes;
    // Limited: in plaintext anyone can send a valid datagram and "move" the client.
    util::log_limited(log_, moves_, util::LogLevel::info,
                      "client moved from " + name() + " to " + transport::to_string(from));
  }
  endpoint_ = from;
}

// Encrypted TCP server: a connection authenticated, so it carries the tunnel from now on
// and the one before it is closed.
void Peer::take_connection(const transport::Endpoint& from) {
  transport_.adopt(from);
  auto old = std::exchange(endpoint_, from);
  if (!old) {
    log_.info("client ", name(), " authenticated");
    return;
  }
  ++stats_.peer_changes;
  log_.info("client ", name(), " authenticated; it replaces ", transport::to_string(*old));
  transport_.close(*old, "replaced by an authenticated client");
}

// ---- endpoints ----------------------------------------------------------------------------

void Peer::on_endpoint_up(const transport::Endpoint& endpoint) {
  if (!datagram_ && !config_.initiator) {  // plaintext TCP server: the newest client wins
    transport_.adopt(endpoint);
    auto old = std::exchange(endpoint_, endpoint);
    if (old) {
      ++stats_.peer_changes;
      transport_.close(*old, "replaced");
    }
    return refresh_up();
  }
  endpoint_ = endpoint;
  next_probe_ = clock_.now();
  // After a lost path (or a new address) the tunnel is up again only once the peer
  // answers: it may have forgotten us or restarted meanwhile. Plaintext probes at once;
  // encrypted handshakes at once rather than at its next retry, up to 16 s away.
  if (path_lost_ || !datagram_) {
    path_lost_ = false;
    last_rx_ = {};
    if (session_) session_->reset();
  }
  if (session_ && !session_->ready(clock_.now())) session_->reset();
  send_initiation_if_due();
  refresh_up();
}

void Peer::on_endpoint_down(const transport::Endpoint& endpoint) {
  if (endpoint_ != endpoint) return;  // a connection that was not (or no longer) the peer's
  if (config_.public_key)             // hub (TCP): outside traffic can repeat it, so bounded
    util::log_limited(log_, moves_, util::LogLevel::info, "client " + name() + " disconnected");
  forget_endpoint();
  path_lost_ = true;
  unanswered_probes_ = 0;
  if (session_ && !datagram_) session_->reset();  // TCP: its sessions went with it
  refresh_up();
}

// The endpoint goes (the peer is gone or disconnected); status still shows where it was.
std::optional<transport::Endpoint> Peer::forget_endpoint() {
  if (endpoint_) last_endpoint_ = endpoint_;
  return std::exchange(endpoint_, std::nullopt);
}

// ---- state --------------------------------------------------------------------------------

void Peer::refresh_up(Time now) {
  bool heard = !datagram_ || last_rx_ != Time{};
  set_up(endpoint_ && heard && (!session_ || session_->ready(now)));
}

void Peer::set_up(bool up) {
  if (up_ == up) return;
  up_ = up;
  up_since_ = up ? clock_.now() : Time{};
  if (answering_ && (!up || answering_ != endpoint_)) transport_.set_answering(*answering_, false);
  answering_.reset();
  if (up) {
    answering_ = endpoint_;
    transport_.set_answering(*endpoint_, true);
  }
  if (up) ++stats_.sessions;
  if (datagram_ && up) {
    probe_backoff_.reset();
    unanswered_probes_ = 0;
    std::string line = (config_.initiator ? "server at " : "client at ") + name() + " is up";
    if (config_.initiator)
      log_.info(line);
    else  // a plaintext stranger can make this repeat
      util::log_limited(log_, moves_, util::LogLevel::info, line);
  }
  if (on_state_) on_state_(up);
  // The server's session ended under a live connection (its client key was removed on
  // SIGHUP, or it expired): a connection without a session carries nothing, and the
  // client would only see its frames vanish. Closing it makes the client reconnect and
  // handshake at once (and be told if its key is refused).
  if (!up && !datagram_ && session_ && !config_.initiator && endpoint_)
    transport_.close(*endpoint_, "its session ended (client key no longer allowed, or expired)");
}

void Peer::complain(const std::string& what) {
  util::warn_limited(log_, complaints_, what);
}

}  // namespace tund::tunnel
