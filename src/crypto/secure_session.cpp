#include "tund/crypto/secure_session.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "tund/crypto/keys.hpp"
#include "tund/proto/wire.hpp"

namespace tund::crypto {
namespace {

constexpr char kPrologue[] = "tund/1";

std::uint32_t load32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}
void store32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
std::uint64_t load64(const std::uint8_t* p) {
  return (std::uint64_t{load32(p)} << 32) | load32(p + 4);
}
void store64(std::uint8_t* p, std::uint64_t v) {
  store32(p, static_cast<std::uint32_t>(v >> 32));
  store32(p + 4, static_cast<std::uint32_t>(v));
}
void write_header(std::uint8_t* p, proto::MessageType type) {
  p[0] = static_cast<std::uint8_t>(type);
  p[1] = p[2] = p[3] = 0;
}

std::vector<std::uint8_t> prologue() {
  return {kPrologue, kPrologue + sizeof kPrologue - 1};
}

}  // namespace

// ---- Keypair -----------------------------------------------------------------------------

class Keypair {
 public:
  Keypair(Aead aead, const CipherState& send, const CipherState& recv, bool stream)
      : send_(aead, send.key()), recv_(aead, recv.key()), window_(stream) {}

  Aead aead() const { return send_.aead(); }
  AeadKey send_;
  AeadKey recv_;
  std::uint32_t local_index = 0, remote_index = 0;
  Time created{};
  std::uint64_t send_counter = 0;
  ReplayWindow window_;
  Key peer{};  // responder: the client's static key
};

// ---- SecureSession -----------------------------------------------------------------------

namespace {

void check_keys(const std::optional<Key>& peer, const std::vector<Key>& allowed) {
  if (peer) check_public_key(*peer, "--peer-key");
  for (const Key& key : allowed) check_public_key(key, "allowed client key " + to_base64(key));
}

}  // namespace

SecureSession::SecureSession(SecureConfig config)
    : config_(std::move(config)), public_key_(x25519_public(config_.private_key)) {
  check_keys(config_.peer_public, config_.allowed);
}

void SecureSession::update_peer_keys(std::optional<Key> peer_public, std::vector<Key> allowed,
                                     std::optional<Key> psk) {
  check_keys(peer_public, allowed);
  if (peer_public) config_.peer_public = peer_public;
  config_.allowed = std::move(allowed);
  if (config_.psk) wipe(config_.psk->data(), kKeySize);
  config_.psk = psk;
  if (config_.initiator) return;
  for (auto* slot : {&current_, &previous_, &next_})
    if (*slot && !this->allowed((*slot)->peer)) slot->reset();
}

bool SecureSession::allowed(const Key& client) const {
  return std::find(config_.allowed.begin(), config_.allowed.end(), client) != config_.allowed.end();
}

// WireGuard's rule: an initiation must carry a later timestamp than the last one accepted
// from that key. The usual cause in the field is not an attacker but a client whose clock
// was ahead and has been corrected, so the line says how to recover.
Verdict SecureSession::refuse_replayed(const Key& client, const std::array<std::uint8_t, 12>& stamp,
                                       const std::array<std::uint8_t, 12>& last) {
  return drop(stats_.handshakes_refused,
              "client key " + to_base64(client) + ": handshake timestamp went backwards (" +
                  tai64n_to_string(stamp) + ", last accepted " + tai64n_to_string(last) +
                  "): the client's clock was stepped back, or this is a replayed initiation; "
                  "refused until the client's clock passes " +
                  tai64n_to_string(last) + ", or restart the server");
}

SecureSession::~SecureSession() {
  wipe(config_.private_key.data(), kKeySize);
  if (config_.psk) wipe(config_.psk->data(), kKeySize);
}

void SecureSession::reset() {
  current_.reset();
  previous_.reset();
  next_.reset();
  pending_.reset();
  retries_ = 0;
}

std::uint32_t SecureSession::fresh_index() {
  std::uint32_t index;
  do index = randombytes_random();
  while (index == 0 || find(index) || index == pending_index_);
  return index;
}

Keypair* SecureSession::find(std::uint32_t local_index) {
  for (auto* k : {current_.get(), previous_.get(), next_.get()})
    if (k && k->local_index == local_index) return k;
  return nullptr;
}

bool SecureSession::usable(const Keypair& k, Time now) const {
  return now - k.created < config_.reject_after_time &&
         k.send_counter < config_.rekey_after_messages + (std::uint64_t{1} << 20);
}

bool SecureSession::ready(Time now) const {
  return current_ && usable(*current_, now);
}

const char* SecureSession::cipher_name() const {
  if (!current_) return "none";
  return current_->aead() == Aead::aes256gcm ? "AES-256-GCM" : "ChaCha20-Poly1305";
}

Verdict SecureSession::drop(std::uint64_t& counter, std::string reason) {
  ++counter;
  Verdict v;
  v.reason = std::move(reason);
  return v;
}

// ---- sending -----------------------------------------------------------------------------

std::size_t SecureSession::seal(std::uint8_t* message, std::size_t frame_size, Time /*now*/) {
  Keypair& k = *current_;
  write_header(message, proto::MessageType::transport);
  store32(message + 4, k.remote_index);
  store64(message + 8, k.send_counter);
  std::uint8_t* frame = message + proto::kTransportHeaderSize;
  k.send_.seal(k.send_counter++, Bytes(message, proto::kTransportHeaderSize),
               Bytes(frame, frame_size), frame);
  return proto::kTransportHeaderSize + frame_size + kTagSize;
}

// ---- initiator ---------------------------------------------------------------------------

bool SecureSession::handshake_due(Time now) const {
  if (!config_.initiator) return false;
  if (pending_) return now - pending_sent_ >= retry_delay_;
  if (!current_) return true;
  return now - current_->created >= config_.rekey_after_time ||
         current_->send_counter >= config_.rekey_after_messages;
}

bool SecureSession::write_initiation(std::uint8_t* out, Time now) {
  bool retry = pending_ != nullptr;
  HandshakeSettings hs;
  hs.initiator = true;
  hs.psk2 = config_.psk.has_value();
  hs.psk = config_.psk;
  hs.static_private = config_.private_key;
  hs.remote_static = config_.peer_public;
  hs.prologue = prologue();
  pending_ = std::make_unique<Handshake>(hs);
  pending_index_ = fresh_index();
  pending_sent_ = now;
  // Retries back off (doubling, capped, jittered into [delay/2, delay]) so a client with a
  // wrong key does not hammer the server.
  retries_ = retry ? retries_ + 1 : 0;
  auto delay =
      std::min(config_.retry_cap.count(), config_.retry_initial.count() << std::min(retries_, 10u));
  auto half = static_cast<std::uint32_t>(delay / 2);
  retry_delay_ = std::chrono::milliseconds(delay - half + randombytes_uniform(half + 1));

  std::uint8_t payload[13];
  auto stamp = tai64n_now();
  std::copy(stamp.begin(), stamp.end(), payload);
  payload[12] = config_.offer_aes ? 1 : 0;
  auto noise = pending_->write_message(Bytes(payload, sizeof payload));
  write_header(out, proto::MessageType::handshake_initiation);
  store32(out + 4, pending_index_);
  std::copy(noise.begin(), noise.end(), out + 8);
  return retry;
}

// ---- receiving -----------------------------------------------------------------------------

Verdict SecureSession::receive(std::uint8_t* message, std::size_t size, Time now) {
  // A raw IPv4/IPv6 packet (the plaintext TCP framing of a peer without keys): say so.
  // Encrypted types all have a zero high nibble, so this cannot hide a valid message.
  if (size >= 1 && ((message[0] >> 4) == 4 || (message[0] >> 4) == 6))
    return drop(stats_.malformed, "unencrypted message refused (is encryption off on the peer?)");
  if (size < 4 || message[1] || message[2] || message[3])
    return drop(stats_.malformed, "malformed encrypted message");
  switch (static_cast<proto::MessageType>(message[0])) {
    case proto::MessageType::handshake_initiation:
      return on_initiation(message, size, now);
    case proto::MessageType::handshake_response:
      return on_response(message, size, now);
    case proto::MessageType::transport:
      return on_transport(message, size, now);
    case proto::MessageType::data:
    case proto::MessageType::keepalive:
      return drop(stats_.malformed, "unencrypted message refused (is encryption off on the peer?)");
  }
  return drop(stats_.malformed, "unknown message type (not a tund peer?)");
}

Verdict SecureSession::on_initiation(std::uint8_t* message, std::size_t size, Time now) {
  if (config_.initiator) return drop(stats_.malformed, "handshake initiation sent to a client");
  if (size != proto::kInitiationSize) return drop(stats_.malformed, "initiation of wrong size");
  HandshakeSettings hs;
  hs.initiator = false;
  hs.psk2 = config_.psk.has_value();
  hs.psk = config_.psk;
  hs.static_private = config_.private_key;
  hs.prologue = prologue();
  Handshake handshake(hs);
  auto payload = handshake.read_message(Bytes(message + 8, size - 8));
  if (!handshake.fault().empty())
    return drop(stats_.handshakes_failed,
                "handshake initiation refused: it carries a " + handshake.fault());
  if (!payload || payload->size() != 13)
    return drop(stats_.handshakes_failed,
                "handshake initiation failed authentication (client has a wrong server key or "
                "psk, or is not tund)");
  const Key& client = handshake.remote_static();
  if (!allowed(client))
    return drop(stats_.handshakes_refused, "client key " + to_base64(client) + " is not allowed");
  std::array<std::uint8_t, 12> stamp;
  std::copy_n(payload->begin(), 12, stamp.begin());
  auto seen = last_timestamp_.find(client);
  if (seen != last_timestamp_.end() && stamp <= seen->second)
    return refuse_replayed(client, stamp, seen->second);
  last_timestamp_[client] = stamp;

  Aead aead = ((*payload)[12] & 1) && config_.offer_aes ? Aead::aes256gcm : Aead::chacha20poly1305;
  std::uint8_t choice = aead == Aead::aes256gcm ? 1 : 0;
  auto noise = handshake.write_message(Bytes(&choice, 1));
  auto [to_responder, to_initiator] = handshake.split();
  next_ = std::make_unique<Keypair>(aead, to_initiator, to_responder, config_.stream);
  next_->local_index = fresh_index();
  next_->remote_index = load32(message + 4);
  next_->created = now;
  next_->peer = client;
  if (!current_) {
    // First session: nothing to keep sending on, so use the new one at once.
    current_ = std::move(next_);
  }
  reply_.resize(proto::kResponseSize);
  write_header(reply_.data(), proto::MessageType::handshake_response);
  Keypair& fresh = next_ ? *next_ : *current_;
  store32(reply_.data() + 4, fresh.local_index);
  store32(reply_.data() + 8, fresh.remote_index);
  std::copy(noise.begin(), noise.end(), reply_.begin() + 12);
  ++stats_.handshakes_completed;
  Verdict v;
  v.action = Action::reply;
  v.data = reply_.data();
  v.size = reply_.size();
  v.authenticated = true;
  v.established = !next_;
  return v;
}

Verdict SecureSession::on_response(std::uint8_t* message, std::size_t size, Time now) {
  if (!config_.initiator) return drop(stats_.malformed, "handshake response sent to a server");
  if (size != proto::kResponseSize) return drop(stats_.malformed, "response of wrong size");
  if (!pending_ || load32(message + 8) != pending_index_)
    return drop(stats_.unknown_session, "handshake response to no pending initiation");
  auto payload = pending_->read_message(Bytes(message + 12, size - 12));
  if (!pending_->fault().empty())
    return drop(stats_.handshakes_failed,
                "handshake response refused: it carries a " + pending_->fault());
  if (!payload || payload->size() != 1 || (*payload)[0] > 1)
    return drop(stats_.handshakes_failed, "handshake response failed authentication");
  Aead aead = (*payload)[0] == 1 ? Aead::aes256gcm : Aead::chacha20poly1305;
  if (aead == Aead::aes256gcm && !aes256gcm_available())
    return drop(stats_.handshakes_failed, "server chose AES-256-GCM, which this CPU lacks");
  auto [to_responder, to_initiator] = pending_->split();
  auto fresh = std::make_unique<Keypair>(aead, to_responder, to_initiator, config_.stream);
  fresh->local_index = pending_index_;
  fresh->remote_index = load32(message + 4);
  fresh->created = now;
  previous_ = std::move(current_);
  current_ = std::move(fresh);
  pending_.reset();
  retries_ = 0;
  ++stats_.handshakes_completed;
  Verdict v;
  v.action = Action::none;
  v.authenticated = true;
  v.established = true;
  v.send_confirmation = true;
  return v;
}

Verdict SecureSession::on_transport(std::uint8_t* message, std::size_t size, Time now) {
  if (size < proto::kTransportOverhead)
    return drop(stats_.malformed, "transport message too short");
  Keypair* k = find(load32(message + 4));
  if (!k) return drop(stats_.unknown_session, "transport message for no live session");
  if (now - k->created >= config_.reject_after_time)
    return drop(stats_.unknown_session, "transport message for an expired session");
  std::uint64_t counter = load64(message + 8);
  if (!k->window_.may_accept(counter)) return drop(stats_.replayed, "replayed or too old counter");
  std::uint8_t* frame = message + proto::kTransportHeaderSize;
  std::size_t sealed = size - proto::kTransportHeaderSize;
  if (!k->recv_.open(counter, Bytes(message, proto::kTransportHeaderSize), Bytes(frame, sealed),
                     frame))
    return drop(stats_.auth_failed, "transport message failed authentication");
  if (!k->window_.accept(counter)) return drop(stats_.replayed, "replayed counter");
  Verdict v;
  v.authenticated = true;
  if (k == next_.get()) {  // the initiator's first frame under the new keys: switch over
    previous_ = std::move(current_);
    current_ = std::move(next_);
    v.established = true;
  }
  v.data = frame;
  v.size = sealed - kTagSize;
  v.action = v.size > 0 ? Action::deliver : Action::none;  // empty = keepalive
  return v;
}

}  // namespace tund::crypto
