#include "tund/crypto/identity.hpp"

#include <algorithm>

#include "tund/proto/timers.hpp"
#include "tund/proto/wire.hpp"

namespace tund::crypto {
namespace {

constexpr char kPrologue[] = "tund/1";
// Initiation payload: TAI64N timestamp, then a flags byte (bit 0: can run AES-256-GCM;
// bits 1-7: the cipher score; crypto/cipher_choice.hpp).
constexpr std::size_t kStampSize = 12;
constexpr std::size_t kInitiationPayloadSize = kStampSize + 1;
// Message 1's Noise part starts behind the header and the sender index.
constexpr std::size_t kInitiationNoiseAt = 8;

// Checks every key not in `known` (sorted; keys checked before: a reload of a thousand
// peers must not redo a thousand scalar multiplications), then sorts (for allowed()'s
// binary search) and drops duplicates.
std::vector<Key> checked_allow_list(std::vector<Key> allowed, const std::vector<Key>& known = {}) {
  for (const Key& key : allowed)
    if (!std::binary_search(known.begin(), known.end(), key))
      check_public_key(key, "allowed client key " + to_base64(key));
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  return allowed;
}

Tai64n stamp_of(const std::vector<std::byte>& payload) {
  Tai64n stamp;
  std::copy_n(payload.begin(), kStampSize, stamp.begin());
  return stamp;
}

}  // namespace

Identity::Identity(IdentityConfig config)
    : config_(std::move(config)), public_key_(x25519_public(config_.private_key)) {
  config_.allowed = checked_allow_list(std::move(config_.allowed));
}

Identity::~Identity() {
  wipe(config_.private_key.data(), kKeySize);
  if (config_.psk) wipe(config_.psk->data(), kKeySize);
}

void Identity::update(std::vector<Key> allowed, std::optional<Key> psk) {
  config_.allowed = checked_allow_list(std::move(allowed), config_.allowed);
  if (config_.psk) wipe(config_.psk->data(), kKeySize);
  config_.psk = psk;
}

bool Identity::allowed(const Key& client) const {
  return std::binary_search(config_.allowed.begin(), config_.allowed.end(), client);
}

bool Identity::allow_initiation(const std::string& source, Time now) {
  return limiter_.allow(source, now);
}

HandshakeSettings Identity::handshake_settings(bool initiator) const {
  HandshakeSettings hs;
  hs.initiator = initiator;
  hs.psk2 = config_.psk.has_value();
  hs.psk2_either = !initiator;  // the client's Session decides which is right
  hs.psk = config_.psk;
  hs.static_private = config_.private_key;
  hs.static_public = public_key_;
  Bytes prologue = util::as_bytes(kPrologue, sizeof kPrologue - 1);
  hs.prologue.assign(prologue.begin(), prologue.end());
  return hs;
}

std::variant<Initiation, Verdict> Identity::consume_initiation(util::ConstByteSpan message,
                                                               Time /*now*/) {
  MessageShape shape = classify(message);
  if (shape.kind != MessageKind::initiation)
    return drop(stats_.malformed, shape.reason ? shape.reason : "not a handshake initiation");
  auto handshake = std::make_unique<Handshake>(handshake_settings(false));
  auto payload = handshake->read_message(message.subspan(kInitiationNoiseAt));
  if (!handshake->fault().empty())
    return drop(stats_.handshakes_failed,
                "handshake initiation refused: it carries a " + handshake->fault());
  if (!payload || payload->size() != kInitiationPayloadSize)
    return drop(stats_.handshakes_failed,
                "handshake initiation failed authentication (client has a wrong server key, or "
                "is not tund)");
  const Key& client = handshake->remote_static();
  if (!allowed(client))
    return drop(stats_.handshakes_refused, "client key " + to_base64(client) + " is not allowed");
  if (auto refused = check_timestamp(client, stamp_of(*payload))) return std::move(*refused);
  Initiation out;
  out.client = client;
  out.sender_index = util::load_be32(message.data() + 4);
  out.aead = choose_cipher(decode_offer((*payload)[kStampSize]), cipher_offer());
  out.handshake = std::move(handshake);
  return out;
}

// WireGuard's rule: an initiation must carry a later timestamp than the last one accepted
// from that key, so a captured initiation cannot be replayed.
std::optional<Verdict> Identity::check_timestamp(const Key& client, const Tai64n& stamp) {
  auto seen = last_timestamp_.find(client);
  if (seen != last_timestamp_.end() && stamp <= seen->second)
    return refuse_replayed(client, stamp, seen->second);
  last_timestamp_[client] = stamp;
  return std::nullopt;
}

// The usual cause in the field is not an attacker but a client whose clock was ahead and
// has been corrected, so the line says how to recover.
Verdict Identity::refuse_replayed(const Key& client, const Tai64n& stamp, const Tai64n& last) {
  return drop(stats_.handshakes_refused,
              "client key " + to_base64(client) + ": handshake timestamp went backwards (" +
                  tai64n_to_string(stamp) + ", last accepted " + tai64n_to_string(last) +
                  "): the client's clock was stepped back, or this is a replayed initiation; "
                  "refused until the client's clock passes " +
                  tai64n_to_string(last) + ", or restart the server");
}

}  // namespace tund::crypto
