// TRANSITIONAL: today's daemon (daemon/secure_channel.*) drives one encrypted peer through
// this facade: an Identity, one Session, and the routing of each message between them (an
// initiation to the identity and then the session, anything else to the session). The
// tunnel engine of issue 12 uses Identity and Session directly; this file goes with
// secure_channel when it lands.
#pragma once

#include <optional>
#include <vector>

#include "tund/crypto/identity.hpp"
#include "tund/crypto/session.hpp"

namespace tund::crypto {

// Today's combined configuration: IdentityConfig + SessionConfig.
struct SecureConfig {
  bool initiator = true;
  Key private_key{};
  std::optional<Key> peer_public;  // initiator: the server's key
  std::vector<Key> allowed;        // responder: clients allowed in
  std::optional<Key> psk;          // IKpsk2 when set (both sides must agree)
  bool stream = false;             // TCP: counters strictly increasing instead of a window
  bool offer_aes = false;          // this side can run AES-256-GCM fast (AES-NI)
  std::chrono::milliseconds rekey_after_time = proto::kRekeyAfterTime;
  std::chrono::milliseconds reject_after_time = proto::kRejectAfterTime;
  std::uint64_t rekey_after_messages = proto::kRekeyAfterMessages;
  std::chrono::milliseconds retry_initial = proto::kHandshakeRetryInitial;
  std::chrono::milliseconds retry_cap = proto::kHandshakeRetryCap;
};

class SecureSession {
 public:
  // Throws KeyError (crypto/keys.hpp) if a configured public key is not usable.
  explicit SecureSession(const SecureConfig& config);

  bool ready(Time now) const { return session_.ready(now); }
  std::size_t seal(std::byte* message, std::size_t frame_size, Time now) {
    return session_.seal(message, frame_size, now);
  }
  bool handshake_due(Time now) const { return session_.handshake_due(now); }
  bool write_initiation(std::byte* out, Time now) { return session_.write_initiation(out, now); }
  // Any encrypted message (types 3..5); decrypts in place.
  Verdict receive(std::byte* message, std::size_t size, Time now);
  void reset() { session_.reset(); }
  // SIGHUP: the server's key (initiator; unchanged when empty), the allowed client keys
  // (responder) and the psk, for handshakes from now on; sessions of a client no longer
  // allowed end at once. Throws KeyError (nothing changed) if a key is not usable.
  void update_peer_keys(std::optional<Key> peer_public, std::vector<Key> allowed,
                        std::optional<Key> psk);

  // The identity's counters plus the session's.
  const SessionStats& stats() const;
  const char* cipher_name() const { return session_.cipher_name(); }

 private:
  bool initiator_;
  Identity identity_;
  Session session_;
  mutable SessionStats sum_;
};

}  // namespace tund::crypto
