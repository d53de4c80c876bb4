// Inbound: transport -> the message's peer -> device (engine.hpp has the flow).
#include <variant>

#include "tund/crypto/message.hpp"
#include "tund/proto/udp_message.hpp"
#include "tund/tunnel/engine.hpp"
#include "tund/tunnel/frame_check.hpp"

namespace tund::tunnel {
namespace {

// Errors a healthy device gives for one packet or a full queue: no reason to doubt it
// still exists (and no syscall per packet to check).
bool ordinary_write_error(std::error_code ec) {
  return ec == std::errc::no_buffer_space || ec == std::errc::operation_would_block ||
         ec == std::errc::not_enough_memory || ec == std::errc::invalid_argument ||
         ec == std::errc::message_size;
}

}  // namespace

void Engine::on_message(const transport::Endpoint& from, util::ByteSpan message) {
  if (stopped_) return;
  if (transport_.datagram()) return on_datagram(from, message);
  if (identity_) return on_encrypted(from, message);
  deliver(peers_.front()->on_plain_stream(from, message));
}

// A datagram's 4-byte header first (wire.hpp): the wire format's limit applies, not our
// MTU (a peer with a larger MTU sends plausible packets the device still takes).
void Engine::on_datagram(const transport::Endpoint& from, util::ByteSpan message) {
  std::size_t max_body = proto::kMaxFrameAbsolute + (identity_ ? proto::kTransportOverhead : 0);
  auto parsed = proto::parse_udp_message(message, max_body);
  if (!parsed.message) {
    stats_.dropped.add(Drop::bad_datagram);
    if (parsed.error == proto::UdpParseError::oversize_data) stats_.dropped.add(Drop::oversize);
    wire_complaint([&] {
      return "dropped a " + std::to_string(message.size()) + "-byte datagram from " +
             transport::to_string(from) + ": " + std::string(proto::to_string(parsed.error));
    });
    return;
  }
  if (identity_) return on_encrypted(from, message);
  auto type = parsed.message->type;
  if (type == proto::MessageType::data || type == proto::MessageType::keepalive)
    return deliver(peers_.front()->on_plain_datagram(from, type, parsed.message->body));
  stats_.dropped.add(Drop::bad_datagram);
  wire_complaint([&] {
    return "dropped an encrypted message from " + transport::to_string(from) +
           ": encryption is off here (the peer has keys configured)";
  });
}

// Encrypted: an initiation goes to the identity; a response or transport message to the
// peer whose session owns its receiver index.
void Engine::on_encrypted(const transport::Endpoint& from, util::ByteSpan message) {
  crypto::MessageShape shape = crypto::classify(message);
  // A message sent in the wrong direction is refused for that before its size is judged.
  if (shape.named == crypto::MessageKind::initiation && initiator_) {
    ++unrouted_.malformed;
    return refused(from, "handshake initiation sent to a client");
  }
  if (shape.named == crypto::MessageKind::response && !initiator_) {
    ++unrouted_.malformed;
    return refused(from, "handshake response sent to a server");
  }
  // Whatever claims to be an initiation draws on its source's rate limit first, so a
  // flood costs neither public-key work nor log lines.
  if (shape.named == crypto::MessageKind::initiation && !initiation_allowed(from)) return;
  if (shape.kind == crypto::MessageKind::malformed) {
    ++unrouted_.malformed;
    return refused(from, shape.reason);
  }
  if (shape.kind != crypto::MessageKind::transport) run_opens();  // in arrival order
  if (shape.kind == crypto::MessageKind::initiation) return on_initiation(from, message);
  Peer* peer = peer_for_index(shape.receiver_index);
  if (!peer) {
    ++unrouted_.unknown_session;
    return refused(from, shape.kind == crypto::MessageKind::response
                             ? "handshake response to no pending initiation"
                             : "transport message for no live session");
  }
  if (shape.kind == crypto::MessageKind::transport && batching())
    return defer_open(*peer, from, message, shape.receiver_index);
  crypto::Verdict v = peer->on_sealed(from, message);
  if (v.action == crypto::Action::drop) return refused(from, v.reason);
  if (v.action == crypto::Action::deliver) deliver_from(*peer, {v.data, v.size});
}

// Initiations processed per source address: a burst, then a steady rate.
bool Engine::initiation_allowed(const transport::Endpoint& from) {
  if (identity_->allow_initiation(from.address.to_string(), clock_.now())) return true;
  stats_.dropped.add(Drop::rate_limited);
  wire_complaint(
      [&] { return "handshake initiation from " + transport::to_string(from) + " rate-limited"; });
  if (!transport_.datagram() && !peer_at(from)) transport_.close(from, "rate-limited");
  return false;
}

// Authenticated by the identity; answered by the peer of the client's key (the one peer,
// or the hub's peer of that key).
void Engine::on_initiation(const transport::Endpoint& from, util::ByteSpan message) {
  auto outcome = identity_->consume_initiation(message, clock_.now());
  if (auto* refusal = std::get_if<crypto::Verdict>(&outcome)) return refused(from, refusal->reason);
  auto& initiation = std::get<crypto::Initiation>(outcome);
  Peer* peer = hub_ ? peer_for_key(initiation.client) : peers_.front().get();
  if (!peer) return refused(from, "no peer has this key");  // allowed, but being removed
  crypto::Verdict v = peer->on_initiation(from, std::move(initiation));
  if (v.action == crypto::Action::drop) refused(from, v.reason);
}

// Counted and logged (bounded); a connection that has not authenticated gets one chance:
// its handshake failed, so it is closed.
void Engine::refused(const transport::Endpoint& from, const std::string& why) {
  stats_.dropped.add(Drop::refused);
  wire_complaint(
      [&] { return "refused a message from " + transport::to_string(from) + ": " + why; });
  if (!transport_.datagram() && !peer_at(from)) transport_.close(from, "handshake failed");
}

Peer* Engine::peer_for_index(std::uint32_t receiver_index) {
  if (hub_) return indices_.find(receiver_index);
  for (auto& peer : peers_)
    if (peer->session() && peer->session()->owns_index(receiver_index)) return peer.get();
  return nullptr;
}

Peer* Engine::peer_at(const transport::Endpoint& endpoint) {
  for (auto& peer : peers_)
    if (peer->endpoint() == endpoint) return peer.get();
  return nullptr;
}

// ---- endpoints ----------------------------------------------------------------------------

// A client's endpoints are its one peer's; so are a plaintext server's connections (the
// newest client wins). An encrypted server's new connection belongs to nobody until a
// message on it authenticates.
void Engine::on_endpoint_up(const transport::Endpoint& endpoint) {
  if (stopped_) return;
  settle();
  if (initiator_ || !identity_) peers_.front()->on_endpoint_up(endpoint);
}

void Engine::on_endpoint_down(const transport::Endpoint& endpoint, const std::string& /*why*/) {
  if (stopped_) return;
  settle();
  for (auto& peer : peers_) peer->on_endpoint_down(endpoint);
}

// ---- the device ---------------------------------------------------------------------------

// One socket read's worth of frames was written: what the device merged goes out now.
void Engine::on_receive_batch_end() {
  if (stopped_) return;
  run_opens();
  if (auto ec = device_.flush_writes()) device_write_failed(ec);
  // A hub switches frames between peers (TAP) too: they go out with the batch.
  if (hub_) transport_.flush();
}

void Engine::deliver(util::ConstByteSpan frame) {
  if (frame.empty() || stopped_ || !plausible(frame)) return;
  deliver_plausible(frame);
}

// Counts and logs (bounded) a frame that cannot be a packet of the link's kind.
bool Engine::plausible(util::ConstByteSpan frame) {
  if (plausible_frame(frame, device_.link_layer())) return true;
  stats_.dropped.add(Drop::malformed);
  // An encrypted peer's handshake on a plaintext TCP tunnel: say so, as UDP does (judged
  // only here, on the rare frame that is no packet, so plaintext pays nothing for it).
  if (!identity_ && crypto::classify(frame).kind == crypto::MessageKind::initiation) {
    complain(
        "dropped a handshake initiation: encryption is off here (the peer has keys "
        "configured; give this side --private-key, or drop the peer's)");
    return false;
  }
  complain("dropped a received frame that is not a valid packet: " +
           describe_frame(frame, device_.link_layer()));
  return false;
}

void Engine::deliver_plausible(util::ConstByteSpan frame) {
  if (log_.enabled(util::LogLevel::debug))
    log_.debug("net>dev ", describe_frame(frame, device_.link_layer()));
  note_above_mtu(frame);
  if (!write_to_device(frame)) return;
  if (device_down_)
    util::log_limited(log_, device_state_log_, util::LogLevel::info,
                      "device " + device_.name() + " is up; delivering packets");
  device_down_ = false;
  ++stats_.device_writes;
}

// The kernel takes packets above the device MTU, so they are delivered; but the peer's
// MTU is larger than ours, which breaks path-MTU discovery the other way: say so once per
// new largest size.
void Engine::note_above_mtu(util::ConstByteSpan frame) {
  std::size_t size = network_packet_size(frame, device_.link_layer());
  if (size <= mtu_) return;
  ++stats_.received_above_mtu;
  stats_.largest_received = std::max<std::uint64_t>(stats_.largest_received, size);
  unsigned long suppressed = 0;
  if (size <= largest_logged_ || !above_mtu_log_.allow(util::LogLimiter::Clock::now(), suppressed))
    return;
  largest_logged_ = size;
  log_.warn("peer sends packets up to ", size, " bytes, above this tunnel's MTU ", mtu_,
            ": set the same --mtu on both sides");
}

bool Engine::write_to_device(util::ConstByteSpan frame) {
  std::error_code ec;
  device_.write_packet(frame, ec);
  if (!ec) return true;
  device_write_failed(ec);
  return false;
}

// Counts and logs (bounded); a "gone" device ends the engine.
void Engine::device_write_failed(std::error_code ec) {
  bool gone = device::error_means_gone(ec) ||
              (!ordinary_write_error(ec) && !device_down_ && !device_.exists());
  if (gone) {
    fail("device " + device_.name() + " is gone (write: " + ec.message() + ")");
    return;
  }
  if (ec == std::errc::io_error) {
    // The kernel refuses writes while the interface is down (not yet configured, or taken
    // down by the admin): expected, so one line per down period rather than a warning each.
    stats_.dropped.add(Drop::device_down);
    // Bounded too: a flapping link must not fill the log (the count says what was skipped).
    if (!device_down_)
      util::log_limited(log_, device_state_log_, util::LogLevel::info,
                        "device " + device_.name() + " is down; dropping received packets");
    device_down_ = true;
    return;
  }
  ++stats_.device_write_errors;
  complain("device write failed: " + ec.message());
}

}  // namespace tund::tunnel
