// One peer of the tunnel (the other end: the server for a client, a client for a
// server): where it is now (its transport endpoint), its encrypted session when keys are
// configured, the timers that keep it alive or find it gone, and its counters. The
// engine owns the peers and hands each the messages and endpoint events that belong to
// it; a Peer sends only control messages itself (keepalives, probes, handshakes) and
// never touches the device.
//
// Up: it has an endpoint, (datagram transports) has been heard from, and (encrypted) has
// a usable session. Who may move the peer: on a datagram transport any message in
// plaintext (nothing authenticates; NAT rebinding must work), only an authenticated one
// when encrypted; on a stream transport a plaintext server takes each new connection
// (simpletun's model), an encrypted one a connection once a message on it authenticated.
//
// Timers (datagram transports; TCP has the connection and its keepalive options), checked
// each proto::kTimerTick, as wireguard-go's timers.go:
//   keepalive       nothing sent for --keepalive, or frames received and nothing sent for
//                   proto::kPassiveKeepalive: send a keepalive
//   silence         nothing heard for 3 keepalive intervals: gone (a server forgets the
//                   client's endpoint; a client probes)
//   stale session   client: frames sent and nothing back for proto::kStaleSession, or an
//                   idle tunnel silent past keepalive + kStaleSession: handshake / probe anew
//   probe           plaintext client without an answer: keepalives with backoff
//   handshake       encrypted client: initiation when due (first, retry, rekey)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tund/crypto/identity.hpp"
#include "tund/crypto/message.hpp"
#include "tund/crypto/session.hpp"
#include "tund/proto/wire.hpp"
#include "tund/transport/transport.hpp"
#include "tund/tunnel/index_map.hpp"
#include "tund/tunnel/outbound_queue.hpp"
#include "tund/util/backoff.hpp"
#include "tund/util/clock.hpp"
#include "tund/util/log.hpp"

namespace tund::tunnel {

struct PeerConfig {
  bool initiator = false;  // the client: it reaches out (probes, handshakes)
  std::chrono::milliseconds keepalive = proto::kDefaultKeepalive;
  std::optional<crypto::SessionConfig> session;  // encrypted when set
  // Client: the server's name as given (logged while it has no endpoint). Hub: the peer's
  // name (its peer file's name), always logged with the endpoint.
  std::string name;
  // Hub: the key that identifies this peer (its peer file's public-key), the table its
  // session claims its local indices in, and its id in the routing tables.
  std::optional<crypto::Key> public_key;
  IndexMap* index_map = nullptr;
  std::uint32_t id = 0;
};

struct PeerStats {
  std::uint64_t rx_frames = 0, rx_bytes = 0;  // frames delivered (bytes of frames)
  std::uint64_t tx_frames = 0, tx_bytes = 0;  // frames sent (bytes of frames)
  std::uint64_t sessions = 0;                 // times it came up
  std::uint64_t peer_changes = 0;             // it moved: NAT rebinding, a newer client
  std::uint64_t spoofed = 0;                  // hub: received with a source outside its allowed-ips
  std::uint64_t queue_dropped = 0;            // hub: dropped because its outbound queue was full
  PeerStats& operator+=(const PeerStats& o) {
    rx_frames += o.rx_frames, rx_bytes += o.rx_bytes, tx_frames += o.tx_frames;
    tx_bytes += o.tx_bytes, sessions += o.sessions, peer_changes += o.peer_changes;
    spoofed += o.spoofed, queue_dropped += o.queue_dropped;
    return *this;
  }
};

class Peer {
 public:
  // Called with the new state whenever the peer comes or goes.
  using StateHandler = std::function<void(bool up)>;

  // `identity` (encrypted mode) and everything else outlive the peer.
  Peer(PeerConfig config, transport::Transport& transport, crypto::Identity* identity,
       util::Logger& log, const util::Clock& clock, util::Backoff probe_backoff);

  void set_state_handler(StateHandler handler) { on_state_ = std::move(handler); }
  bool up() const { return up_; }
  bool encrypted() const { return session_ != nullptr; }
  const std::optional<transport::Endpoint>& endpoint() const { return endpoint_; }
  const PeerStats& stats() const { return stats_; }
  const crypto::Session* session() const { return session_.get(); }
  // Names the peer in log lines: its endpoint, or the server's name while it has none;
  // a hub peer: "NAME (ENDPOINT)" or "NAME".
  std::string name() const;
  // When it last came up (the engine's clock); zero while down.
  util::Clock::time_point up_since() const { return up_since_; }
  // When anything was last heard from it (an authenticated message when encrypted); zero
  // only if never. History for `tund show`: kept when the peer goes down (silent, lost,
  // disconnected), unlike the timers' own clock. Plaintext TCP frames are not timed (no
  // clock read per frame on that path): there it is stamped by the timer tick when frames
  // arrived since the previous tick, so it lags by up to proto::kTimerTick.
  util::Clock::time_point last_received() const { return last_heard_; }
  // The endpoint it has, or the last one it had (kept when it goes down); nullopt if never.
  const std::optional<transport::Endpoint>& last_endpoint() const {
    return endpoint_ ? endpoint_ : last_endpoint_;
  }
  // ---- hub ---------------------------------------------------------------------------
  std::uint32_t id() const { return config_.id; }
  const std::string& configured_name() const { return config_.name; }
  const std::optional<crypto::Key>& public_key() const { return config_.public_key; }
  std::chrono::milliseconds keepalive() const { return config_.keepalive; }
  OutboundQueue& queue() { return queue_; }
  std::size_t queue_size() const { return queue_.size(); }
  void count_spoofed() { ++stats_.spoofed; }
  void count_queue_drop() { ++stats_.queue_dropped; }
  // Reload: its peer file changed. A new name or keepalive applies at once.
  void rename(std::string name) { config_.name = std::move(name); }
  void set_keepalive(std::chrono::milliseconds keepalive) { config_.keepalive = keepalive; }
  // For its next handshakes.
  void set_psk(std::optional<crypto::Key> psk) {
    if (session_) session_->set_psk(std::move(psk));
  }
  // The operator's `tund disconnect`: as cut(), but the peer stays and may come back. A
  // server side forgets the client's endpoint (the client's next handshake, or plaintext
  // message, brings it back); a client side handshakes (probes) anew at once, and over
  // TCP its transport reconnects.
  void disconnect(const std::string& why);
  // Removed from the hub: queued frames dropped, sessions wiped (their indices released),
  // its connection closed; it goes down (the state handler runs) and stays so.
  void cut(const std::string& why);

  // ---- sending: the engine reads a frame to message + frame_offset() -----------------
  // Where a frame goes in a message: behind the plaintext UDP header, the encrypted
  // transport header, or (plaintext TCP) nothing.
  std::size_t frame_offset() const { return frame_offset_; }
  // Up, and its endpoint can take a message now.
  bool writable() const;
  // Writes the header in front of the frame at message + frame_offset() (sealing it in
  // place when encrypted); returns the message size to commit. Requires writable().
  std::size_t finish_message(util::ByteSpan message, std::size_t frame_size);
  // The same with the time the caller read once for its whole batch of frames (a clock
  // read per packet costs more than the rest of the bookkeeping here).
  std::size_t finish_message(util::ByteSpan message, std::size_t frame_size,
                             util::Clock::time_point now);
  // The same, but an encrypted frame's AEAD is left to the caller: its job goes to
  // `deferred` (the engine runs a batch of them on its workers before the send).
  std::size_t finish_message(util::ByteSpan message, std::size_t frame_size,
                             util::Clock::time_point now, std::vector<crypto::SealJob>* deferred);

  // ---- receiving ---------------------------------------------------------------------
  // Plaintext: a data or keepalive datagram (header checked), or a TCP frame. Returns
  // the frame to deliver (empty: nothing).
  util::ConstByteSpan on_plain_datagram(const transport::Endpoint& from, proto::MessageType type,
                                        util::ConstByteSpan body);
  util::ConstByteSpan on_plain_stream(const transport::Endpoint& from, util::ConstByteSpan frame);
  // Encrypted: a response or transport message for one of this peer's indices, or an
  // initiation the identity authenticated for this peer's key. A drop verdict is for the
  // engine to count and log; deliver verdicts carry the frame (decrypted in place).
  crypto::Verdict on_sealed(const transport::Endpoint& from, util::ByteSpan message);
  crypto::Verdict on_initiation(const transport::Endpoint& from, crypto::Initiation initiation);
  // on_sealed for a transport message, in steps (crypto::Session::prepare_open): the
  // engine opens a batch of them on its workers, then finishes each in order. A nullopt
  // from prepare_open comes with the drop verdict in `refusal`.
  // `now`: the caller's clock, read once per message or batch.
  std::optional<crypto::OpenJob> prepare_open(util::ByteSpan message, std::uint32_t receiver_index,
                                              util::Clock::time_point now,
                                              crypto::Verdict& refusal);
  crypto::Verdict finish_open(const transport::Endpoint& from, const crypto::OpenJob& job,
                              util::Clock::time_point now);

  // ---- endpoints (transport events the engine routed here) --------------------------
  void on_endpoint_up(const transport::Endpoint& endpoint);
  void on_endpoint_down(const transport::Endpoint& endpoint);

  // ---- timers (peer_timers.cpp) ------------------------------------------------------
  void tick();
  // SIGHUP: see crypto::Session::update_peer_key / drop_disallowed.
  void keys_changed(std::optional<crypto::Key> peer_public);

 private:
  using Time = util::Clock::time_point;
  crypto::Verdict accept(const transport::Endpoint& from, crypto::Verdict verdict, Time now);
  void heard_from(Time now);
  void follow(const transport::Endpoint& from);
  void take_connection(const transport::Endpoint& from);
  void refresh_up() { refresh_up(clock_.now()); }
  void refresh_up(Time now);
  void set_up(bool up);
  void count_rx(std::size_t frame_size, util::Clock::time_point now);
  bool send_keepalive();
  void send_initiation_if_due();
  // Timers.
  void check_silence(util::Clock::time_point now);
  void check_stale_session(util::Clock::time_point now);
  void keep_alive(util::Clock::time_point now);
  void probe(util::Clock::time_point now);
  void complain(const std::string& what);
  void stamp_stream_rx(Time now);
  std::optional<transport::Endpoint> forget_endpoint();

  PeerConfig config_;
  transport::Transport& transport_;
  util::Logger& log_;
  const util::Clock& clock_;
  util::Backoff probe_backoff_;
  // Declared before the session, which releases its indices here when destroyed.
  std::unique_ptr<PeerIndices> indices_;
  std::unique_ptr<crypto::Session> session_;
  OutboundQueue queue_;
  bool datagram_;
  std::size_t frame_offset_;
  StateHandler on_state_;
  PeerStats stats_;
  util::LogLimiter complaints_, moves_;

  std::optional<transport::Endpoint> endpoint_;
  std::optional<transport::Endpoint> last_endpoint_;  // history for status, see last_endpoint()
  std::optional<transport::Endpoint> answering_;      // the endpoint told set_answering(true)
  bool up_ = false;
  bool path_lost_ = false;  // client: the endpoint went down; start afresh when it returns
  Time up_since_{};
  Time last_rx_{}, last_tx_{}, last_data_rx_{}, next_probe_{};
  Time last_heard_{};                    // history for status, see last_received()
  std::uint64_t rx_frames_at_tick_ = 0;  // stream: frames counted at the last tick
  Time unanswered_since_{};              // the first frame sent since the last thing heard
  unsigned unanswered_probes_ = 0;
};

}  // namespace tund::tunnel
