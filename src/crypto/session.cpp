#include "tund/crypto/session.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "tund/crypto/replay_window.hpp"
#include "tund/proto/wire.hpp"

namespace tund::crypto {
namespace {

// Message layouts behind the 4-byte header (proto/wire.hpp).
constexpr std::size_t kSenderIndexAt = 4;
constexpr std::size_t kReceiverIndexAt = 8;  // response
constexpr std::size_t kInitiationNoiseAt = 8;
constexpr std::size_t kResponseNoiseAt = 12;
constexpr std::size_t kCounterAt = 8;  // transport
constexpr std::size_t kStampSize = 12;
// A registry that refuses this many random 32-bit draws in a row is broken (a hub holds a
// few thousand of the 2^32 indices), and looping on would hang.
constexpr int kMaxIndexDraws = 65536;

void write_header(std::byte* p, proto::MessageType type) {
  p[0] = static_cast<std::byte>(type);
  p[1] = p[2] = p[3] = std::byte{0};
}

// Jitter for the handshake retries, in [0, 1), from libsodium's CSPRNG.
double sodium_unit_random() {
  return static_cast<double>(randombytes_random()) / 4294967296.0;
}

}  // namespace

// ---- Keypair -----------------------------------------------------------------------------

class Keypair {
 public:
  Keypair(Aead aead, const CipherState& send_state, const CipherState& recv_state, bool stream)
      : send(aead, send_state.key()), recv(aead, recv_state.key()), window(stream) {}

  Aead aead() const { return send.aead(); }
  AeadKey send;
  AeadKey recv;
  LocalIndex local_index;
  std::uint32_t remote_index = 0;
  Time created{};
  std::uint64_t send_counter = 0;
  ReplayWindow window;
  Key peer{};  // the peer's static key
};

// ---- LocalIndex --------------------------------------------------------------------------

LocalIndex::LocalIndex(LocalIndex&& other) noexcept
    : registry_(other.registry_), value_(std::exchange(other.value_, 0)) {}

LocalIndex& LocalIndex::operator=(LocalIndex&& other) noexcept {
  if (this != &other) {
    release();
    registry_ = other.registry_;
    value_ = std::exchange(other.value_, 0);
  }
  return *this;
}

void LocalIndex::release() {
  if (value_ != 0 && registry_) registry_->release(value_);
  value_ = 0;
}

// ---- Session -----------------------------------------------------------------------------

Session::Session(Identity& identity, SessionConfig config)
    : identity_(identity),
      config_(std::move(config)),
      retry_(config_.retry_initial, config_.retry_cap, sodium_unit_random) {
  if (config_.peer_public) check_public_key(*config_.peer_public, "--peer-key");
}

Session::~Session() = default;

void Session::update_peer_key(std::optional<Key> peer_public) {
  if (!peer_public) return;
  check_public_key(*peer_public, "--peer-key");
  config_.peer_public = peer_public;
}

void Session::drop_disallowed() {
  if (config_.initiator) return;
  for (auto* slot : {&current_, &previous_, &next_})
    if (*slot && !identity_.allowed((*slot)->peer)) slot->reset();
}

void Session::reset() {
  current_.reset();
  previous_.reset();
  next_.reset();
  pending_.reset();
  pending_index_ = LocalIndex();
  retry_.reset();
}

void Session::expire(Time now) {
  for (auto* slot : {&current_, &previous_, &next_})
    if (*slot && now - (*slot)->created >= config_.reject_after_time) slot->reset();
}

LocalIndex Session::fresh_index() {
  for (int draw = 0; draw < kMaxIndexDraws; ++draw) {
    std::uint32_t index = randombytes_random();
    if (index == 0 || find(index) || index == pending_index_.value()) continue;
    if (!config_.indices || config_.indices->claim(index)) return {config_.indices, index};
  }
  throw std::length_error("the session index registry refuses every index");
}

Keypair* Session::find(std::uint32_t local_index) const {
  for (auto* k : {current_.get(), previous_.get(), next_.get()})
    if (k && k->local_index.value() == local_index) return k;
  return nullptr;
}

bool Session::owns_index(std::uint32_t local_index) const {
  return local_index != 0 &&
         (find(local_index) || (pending_ && local_index == pending_index_.value()));
}

// This session's psk: the peer's own (hub peer files), else the identity's.
const std::optional<Key>& Session::psk() const {
  return config_.psk ? config_.psk : identity_.psk();
}

std::optional<Key> Session::peer_key() const {
  if (!current_) return std::nullopt;
  return current_->peer;
}

std::optional<Time> Session::last_handshake() const {
  return last_handshake_;
}

bool Session::usable(const Keypair& k, Time now) const {
  return now - k.created < config_.reject_after_time &&
         k.send_counter < config_.rekey_after_messages + proto::kRejectAfterMessagesMargin;
}

bool Session::ready(Time now) const {
  return current_ && usable(*current_, now);
}

const char* Session::cipher_name() const {
  if (!current_) return "none";
  return current_->aead() == Aead::aes256gcm ? "AES-256-GCM" : "ChaCha20-Poly1305";
}

// ---- sending -----------------------------------------------------------------------------

std::size_t Session::seal(std::byte* message, std::size_t frame_size, Time /*now*/) {
  prepare_seal(message, frame_size).run();
  return proto::kTransportOverhead + frame_size;
}

SealJob Session::prepare_seal(std::byte* message, std::size_t frame_size) {
  Keypair& k = *current_;
  write_header(message, proto::MessageType::transport);
  util::store_be32(message + kSenderIndexAt, k.remote_index);
  util::store_be64(message + kCounterAt, k.send_counter);
  return SealJob{&k.send, k.send_counter++, message, frame_size};
}

void SealJob::run() const {
  std::byte* frame = message + proto::kTransportHeaderSize;
  key->seal(counter, {message, proto::kTransportHeaderSize}, {frame, frame_size}, frame);
}

void OpenJob::run() {
  std::byte* frame = message + proto::kTransportHeaderSize;
  std::size_t sealed = size - proto::kTransportHeaderSize;
  opened = key->open(counter, {message, proto::kTransportHeaderSize}, {frame, sealed}, frame);
}

// ---- initiator ---------------------------------------------------------------------------

bool Session::handshake_due(Time now) const {
  if (!config_.initiator) return false;
  if (pending_) return now - pending_sent_ >= retry_delay_;
  if (!current_) return true;
  return now - current_->created >= config_.rekey_after_time ||
         current_->send_counter >= config_.rekey_after_messages;
}

bool Session::write_initiation(std::byte* out, Time now) {
  bool retry = pending_ != nullptr;
  HandshakeSettings hs = identity_.handshake_settings(true);
  hs.remote_static = config_.peer_public;
  hs.psk = psk();
  hs.psk2 = hs.psk.has_value();
  LocalIndex index = fresh_index();  // first: if it throws, nothing has changed
  pending_ = std::make_unique<Handshake>(hs);
  pending_index_ = std::move(index);  // releases the index of the initiation it replaces
  pending_sent_ = now;
  // Retries back off (doubling, capped, jittered) so a client with a wrong key does not
  // hammer the server.
  if (!retry) retry_.reset();
  retry_delay_ = retry_.next();

  std::array<std::byte, kStampSize + 1> payload;
  Tai64n stamp = tai64n_now();
  std::copy(stamp.begin(), stamp.end(), payload.begin());
  payload[kStampSize] = encode_offer(identity_.cipher_offer());
  auto noise = pending_->write_message(payload);
  write_header(out, proto::MessageType::handshake_initiation);
  util::store_be32(out + kSenderIndexAt, pending_index_.value());
  std::copy(noise.begin(), noise.end(), out + kInitiationNoiseAt);
  return retry;
}

// ---- responder ---------------------------------------------------------------------------

Verdict Session::respond(Initiation initiation, Time now) {
  if (config_.initiator || !initiation.handshake)
    return drop(stats_.malformed, "handshake initiation sent to a client");
  if (auto refused = refuse_psk_mode(initiation)) return std::move(*refused);
  if (initiation.handshake->psk2()) initiation.handshake->set_psk(*psk());
  std::byte choice = initiation.aead == Aead::aes256gcm ? std::byte{1} : std::byte{0};
  LocalIndex index = fresh_index();  // first: if it throws, nothing has changed
  auto noise = initiation.handshake->write_message({&choice, 1});
  auto [to_responder, to_initiator] = initiation.handshake->split();
  next_ = std::make_unique<Keypair>(initiation.aead, to_initiator, to_responder, config_.stream);
  next_->local_index = std::move(index);
  next_->remote_index = initiation.sender_index;
  next_->created = now;
  next_->peer = initiation.client;
  last_handshake_ = now;
  // First keypair: nothing to keep sending on, so use the new one at once.
  bool at_once = !current_;
  if (at_once) current_ = std::move(next_);
  ++stats_.handshakes_completed;
  Verdict v = write_response(at_once ? *current_ : *next_, noise);
  v.established = at_once;
  return v;
}

// The identity read message 1 as IK or IKpsk2, whichever the client used; whether that
// is right depends on this peer's psk.
std::optional<Verdict> Session::refuse_psk_mode(const Initiation& initiation) {
  bool has_psk = psk().has_value();
  if (initiation.handshake->psk2() == has_psk) return std::nullopt;
  std::string who = "client key " + to_base64(initiation.client);
  return drop(stats_.handshakes_failed,
              has_psk ? who + " made its handshake without a psk, but one is configured for it"
                      : who + " made its handshake with a psk, but none is configured for it");
}

Verdict Session::write_response(const Keypair& fresh, const std::vector<std::byte>& noise) {
  write_header(reply_.data(), proto::MessageType::handshake_response);
  util::store_be32(reply_.data() + kSenderIndexAt, fresh.local_index.value());
  util::store_be32(reply_.data() + kReceiverIndexAt, fresh.remote_index);
  std::copy(noise.begin(), noise.end(), reply_.data() + kResponseNoiseAt);
  Verdict v;
  v.action = Action::reply;
  v.data = reply_.data();
  v.size = reply_.size();
  v.authenticated = true;
  return v;
}

// ---- receiving ---------------------------------------------------------------------------

Verdict Session::receive(std::byte* message, std::size_t size, Time now) {
  MessageShape shape = classify({message, size});
  if ((shape.named == MessageKind::initiation && config_.initiator) ||
      (shape.named == MessageKind::response && !config_.initiator))
    return refuse_wrong_direction(shape);
  switch (shape.kind) {
    case MessageKind::response:
      return on_response(message, size, now);
    case MessageKind::transport:
      return on_transport(message, size, shape.receiver_index, now);
    case MessageKind::initiation:  // the identity's to read: Identity::consume_initiation
      return drop(stats_.malformed, "handshake initiation passed to a session");
    case MessageKind::malformed:
      break;
  }
  return drop(stats_.malformed, shape.reason);
}

Verdict Session::refuse_wrong_direction(const MessageShape& shape) {
  return drop(stats_.malformed, shape.named == MessageKind::initiation
                                    ? "handshake initiation sent to a client"
                                    : "handshake response sent to a server");
}

Verdict Session::on_response(std::byte* message, std::size_t size, Time now) {
  if (!pending_ || util::load_be32(message + kReceiverIndexAt) != pending_index_.value())
    return drop(stats_.unknown_session, "handshake response to no pending initiation");
  auto payload = pending_->read_message({message + kResponseNoiseAt, size - kResponseNoiseAt});
  if (!pending_->fault().empty())
    return drop(stats_.handshakes_failed,
                "handshake response refused: it carries a " + pending_->fault());
  if (!payload || payload->size() != 1 || (*payload)[0] > std::byte{1})
    return drop(stats_.handshakes_failed,
                "handshake response failed authentication (a psk that differs from the "
                "server's?)");
  Aead aead = (*payload)[0] == std::byte{1} ? Aead::aes256gcm : Aead::chacha20poly1305;
  // Only what this side offered: AES-NI, and not --cipher chacha20-poly1305.
  if (aead == Aead::aes256gcm && (!identity_.offer_aes() || !aes256gcm_available()))
    return drop(stats_.handshakes_failed,
                "server chose AES-256-GCM, which this side did not offer");
  auto [to_responder, to_initiator] = pending_->split();
  auto fresh = std::make_unique<Keypair>(aead, to_responder, to_initiator, config_.stream);
  fresh->local_index = std::move(pending_index_);
  fresh->remote_index = util::load_be32(message + kSenderIndexAt);
  fresh->created = now;
  if (config_.peer_public) fresh->peer = *config_.peer_public;
  last_handshake_ = now;
  return established_by_response(std::move(fresh));
}

Verdict Session::established_by_response(std::unique_ptr<Keypair> fresh) {
  previous_ = std::move(current_);
  current_ = std::move(fresh);
  pending_.reset();
  retry_.reset();
  ++stats_.handshakes_completed;
  Verdict v;
  v.action = Action::none;
  v.authenticated = true;
  v.established = true;
  v.send_confirmation = true;
  return v;
}

Verdict Session::on_transport(std::byte* message, std::size_t size, std::uint32_t index, Time now) {
  // One message at a time, an expired keypair goes at once (prepare_open only refuses:
  // a batch's earlier jobs may still hold other keypairs that expire() would take).
  if (Keypair* k = find(index); k && now - k->created >= config_.reject_after_time) {
    expire(now);
    return drop(stats_.unknown_session, "transport message for an expired session");
  }
  Verdict refusal;
  auto job = prepare_open(message, size, index, now, refusal);
  if (!job) return refusal;
  job->run();
  return finish_open(*job);
}

std::optional<OpenJob> Session::prepare_open(std::byte* message, std::size_t size,
                                             std::uint32_t index, Time now, Verdict& refusal) {
  Keypair* k = find(index);
  if (!k) {
    refusal = drop(stats_.unknown_session, "transport message for no live session");
    return std::nullopt;
  }
  if (now - k->created >= config_.reject_after_time) {  // the timer's expire() wipes it
    refusal = drop(stats_.unknown_session, "transport message for an expired session");
    return std::nullopt;
  }
  std::uint64_t counter = util::load_be64(message + kCounterAt);
  if (!k->window.may_accept(counter)) {
    refusal = drop(stats_.replayed, "replayed or too old counter");
    return std::nullopt;
  }
  return OpenJob{&k->recv, counter, message, size, index, false};
}

// The keypair is found again by its index: one that went since prepare_open (a rotation
// by an earlier message of the same batch) cannot take the counter any more.
Verdict Session::finish_open(const OpenJob& job) {
  Keypair* k = find(job.receiver_index);
  if (!k) return drop(stats_.unknown_session, "transport message for no live session");
  if (!job.opened) return drop(stats_.auth_failed, "transport message failed authentication");
  if (!k->window.accept(job.counter)) return drop(stats_.replayed, "replayed counter");
  Verdict v;
  v.authenticated = true;
  if (k == next_.get()) {  // the initiator's first frame under the new keys: switch over
    previous_ = std::move(current_);
    current_ = std::move(next_);
    v.established = true;
  }
  v.data = job.message + proto::kTransportHeaderSize;
  v.size = job.size - proto::kTransportHeaderSize - kTagSize;
  v.action = v.size > 0 ? Action::deliver : Action::none;  // empty = keepalive
  return v;
}

}  // namespace tund::crypto
