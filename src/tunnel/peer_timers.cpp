// A peer's timers, one function each (as wireguard-go's timers.go); peer.hpp lists them.
// Datagram transports only, except the handshake: TCP notices a dead peer by its
// connection (and the socket's keepalive options).
#include <chrono>

#include "tund/proto/timers.hpp"
#include "tund/tunnel/peer.hpp"

namespace tund::tunnel {
namespace {

long long whole_seconds(util::Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

void Peer::tick() {
  auto now = clock_.now();
  // Keys past their life are wiped and their indices freed: an idle hub peer holds none.
  if (session_) session_->expire(now);
  if (!datagram_) stamp_stream_rx(now);
  if (datagram_) {
    check_silence(now);
    check_stale_session(now);
  }
  refresh_up();
  if (datagram_) keep_alive(now);
  if (session_)
    send_initiation_if_due();
  else if (datagram_)
    probe(now);
  util::report_suppressed(log_, moves_, util::LogLevel::info, "client address changes");
  util::report_suppressed(log_, complaints_, util::LogLevel::warn, "handshake retries");
}

// Stream transports: plaintext frames are not timed one by one (no clock read per frame),
// so "last heard" is stamped here, at the tick's resolution, when frames came since the
// previous tick. Encrypted frames are timed as they arrive; this only rounds them up.
void Peer::stamp_stream_rx(util::Clock::time_point now) {
  if (stats_.rx_frames == rx_frames_at_tick_) return;
  rx_frames_at_tick_ = stats_.rx_frames;
  last_heard_ = now;
}

// Three keepalive intervals without a word: the peer is gone. A server forgets its
// client's endpoint; a client keeps probing (its transport soon tries the server's next
// address or a new lookup).
void Peer::check_silence(util::Clock::time_point now) {
  auto dead_after = config_.keepalive * proto::kKeepalivesMissedBeforeDead;
  bool heard = last_rx_ != Time{};
  if (!heard || !endpoint_ || now - last_rx_ <= dead_after || (!up_ && config_.initiator)) return;
  log_.info(config_.initiator ? "server " : "client ", name(), " silent for ",
            whole_seconds(now - last_rx_), " s; considered gone",
            config_.initiator ? ", probing" : "");
  if (!config_.initiator) forget_endpoint();
  last_rx_ = {};
  next_probe_ = now;
}

// Client: frames sent and nothing (encrypted: nothing authenticated) back for a few
// seconds, though a live server answers each within a second (passive keepalive): it
// restarted, lost our session, or moved. Probe (or handshake) again; the transport moves
// on to the next address if that gets no answer either.
void Peer::check_stale_session(util::Clock::time_point now) {
  bool unanswered = unanswered_since_ != Time{} && now - unanswered_since_ > proto::kStaleSession;
  if (!config_.initiator || !up_ ||
      !(unanswered || now - last_rx_ > config_.keepalive + proto::kStaleSession))
    return;
  log_.info("no answer from ", name(), " for ", whole_seconds(now - last_rx_), " s; ",
            session_ ? "starting a new handshake" : "probing");
  if (session_)
    session_->reset();
  else
    last_rx_ = {};
  unanswered_since_ = {};
  next_probe_ = now;
  // The transport's patience with this address starts over.
  if (endpoint_) transport_.set_answering(*endpoint_, false);
  answering_.reset();
}

// Idle for a keepalive interval, or owing an answer to frames received (passive
// keepalive): say we are alive.
void Peer::keep_alive(util::Clock::time_point now) {
  bool owe_answer = last_data_rx_ > last_tx_ && now - last_tx_ >= proto::kPassiveKeepalive;
  if (up_ && (owe_answer || now - last_tx_ >= config_.keepalive)) send_keepalive();
}

// Plaintext client without an answer: keepalives as probes, backing off.
void Peer::probe(util::Clock::time_point now) {
  if (up_ || !config_.initiator || !endpoint_ || now < next_probe_) return;
  send_keepalive();
  next_probe_ = now + probe_backoff_.next();
  // Once, after a few seconds of silence: an encrypted server never answers plaintext.
  if (++unanswered_probes_ == proto::kProbesBeforeWarning)
    log_.warn("no answer from ", name(),
              " yet: server down, wrong port, or it requires encryption (--private-key); "
              "still trying");
}

void Peer::keys_changed(std::optional<crypto::Key> peer_public) {
  if (!session_) return;
  session_->update_peer_key(peer_public);
  session_->drop_disallowed();
  refresh_up();
}

}  // namespace tund::tunnel
