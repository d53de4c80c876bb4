#include "tund/crypto/secure_session.hpp"

namespace tund::crypto {
namespace {

// Checked before the identity's allow-list, so a bad key is reported in the same order as
// before the split (the server's key first).
const SecureConfig& peer_key_checked(const SecureConfig& c) {
  if (c.peer_public) check_public_key(*c.peer_public, "--peer-key");
  return c;
}

IdentityConfig identity_config(const SecureConfig& c) {
  return {c.private_key, c.psk, c.allowed, c.offer_aes};
}

SessionConfig session_config(const SecureConfig& c) {
  return {c.initiator,         c.peer_public,          c.stream,        c.rekey_after_time,
          c.reject_after_time, c.rekey_after_messages, c.retry_initial, c.retry_cap};
}

}  // namespace

SecureSession::SecureSession(const SecureConfig& config)
    : initiator_(config.initiator),
      identity_(identity_config(peer_key_checked(config))),
      session_(identity_, session_config(config)) {}

Verdict SecureSession::receive(std::byte* message, std::size_t size, Time now) {
  if (initiator_ || classify({message, size}).kind != MessageKind::initiation)
    return session_.receive(message, size, now);
  auto initiation = identity_.consume_initiation({message, size}, now);
  if (auto* refused = std::get_if<Verdict>(&initiation)) return std::move(*refused);
  return session_.respond(std::move(std::get<Initiation>(initiation)), now);
}

void SecureSession::update_peer_keys(std::optional<Key> peer_public, std::vector<Key> allowed,
                                     std::optional<Key> psk) {
  if (peer_public) check_public_key(*peer_public, "--peer-key");
  identity_.update(std::move(allowed), psk);
  session_.update_peer_key(peer_public);
  session_.drop_disallowed();
}

const SessionStats& SecureSession::stats() const {
  sum_ = identity_.stats();
  sum_ += session_.stats();
  return sum_;
}

}  // namespace tund::crypto
