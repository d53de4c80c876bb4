// This side's static identity, shared by all its sessions (WireGuard's device-wide state,
// as opposed to a peer's): the static key pair, the psk, the allow-list of client keys, the
// last handshake timestamp accepted from each of them, and the rate limit on initiations
// (crypto/initiation_limiter.hpp). A responder authenticates initiations here (consume_initiation),
// then hands the result to the Session of that client (Session::respond), so a hub holds one
// Identity and many Sessions. No I/O, no clock: callers pass the time.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tund/crypto/cipher_choice.hpp"
#include "tund/crypto/initiation_limiter.hpp"
#include "tund/crypto/keys.hpp"
#include "tund/crypto/message.hpp"
#include "tund/crypto/noise.hpp"

namespace tund::crypto {

struct IdentityConfig {
  Key private_key{};
  // IKpsk2 when set (both sides must agree); a session's own SessionConfig::psk wins.
  std::optional<Key> psk;
  std::vector<Key> allowed;  // responder: the client keys allowed in (any order)
  // The data cipher this side offers (crypto/cipher_choice.hpp: make_offer): it can run
  // AES-256-GCM (AES-NI, and not --cipher chacha20-poly1305), and its cipher score, -63..63
  // (> 0: AES-256-GCM is faster here; crypto/cipher_speed.hpp).
  bool offer_aes = false;
  int cipher_score = 0;
};

// A responder's authenticated initiation, ready to be answered by the session of `client`.
struct Initiation {
  Key client{};                          // the initiator's static public key (allowed, fresh)
  std::uint32_t sender_index = 0;        // the initiator's index (the session's remote index)
  Aead aead = Aead::chacha20poly1305;    // the cipher chosen for the session (choose_cipher)
  std::unique_ptr<Handshake> handshake;  // state after reading message 1
};

class Identity {
 public:
  // Throws KeyError (naming the key) if an allowed key is not a usable public key.
  explicit Identity(IdentityConfig config);
  ~Identity();
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;

  const Key& public_key() const { return public_key_; }

  // Responder: authenticates an initiation (the whole message, proto::kInitiationSize
  // bytes): the Noise read (IK or IKpsk2, whichever the client used: its Session checks
  // that against its psk and supplies the psk), the allow-list, and a TAI64N timestamp
  // later than the last one accepted from that key (WireGuard's replay rule; the accepted
  // one is recorded). A refusal is a drop Verdict with a one-line reason, counted in
  // stats().
  std::variant<Initiation, Verdict> consume_initiation(util::ConstByteSpan message, Time now);

  // Initiations are expensive (five X25519 with the answer, ~0.26 ms of CPU):
  //  * always, a global token bucket: proto::kInitiationsPerSecond, burst
  //    proto::kInitiationBurst (about half a core at most), shared by all sources;
  //  * "under load" = that bucket held fewer than kInitiationBurst * kUnderLoadFraction
  //    tokens at some initiation within the last proto::kUnderLoadHold;
  //  * only while under load, also per `source` (the sender's address as text):
  //    proto::kHandshakesPerSecond, burst proto::kHandshakeBurst.
  // So clients behind one NAT address are not limited per address unless the server is
  // busy (wireguard-go's rule). Details: crypto/initiation_limiter.hpp. The caller counts
  // and reports what it refuses.
  bool allow_initiation(const std::string& source, Time now);
  bool under_load(Time now) const { return limiter_.under_load(now); }

  // O(log n): the allow-list is kept sorted.
  bool allowed(const Key& client) const;

  // SIGHUP: a new allow-list and psk, for handshakes from now on (sessions running keep
  // their keys; Session::drop_disallowed ends those of removed clients). The last
  // timestamp of every key is kept, so a captured initiation of a client that stays (or
  // comes back) cannot be replayed after a reload. Throws KeyError, with nothing changed,
  // if an allowed key is unusable.
  void update(std::vector<Key> allowed, std::optional<Key> psk);

  const SessionStats& stats() const { return stats_; }

  // For Session: the Noise settings of a handshake by this identity, and its offer.
  HandshakeSettings handshake_settings(bool initiator) const;
  bool offer_aes() const { return config_.offer_aes; }
  CipherOffer cipher_offer() const { return {config_.offer_aes, config_.cipher_score}; }
  const std::optional<Key>& psk() const { return config_.psk; }

 private:
  Verdict refuse_replayed(const Key& client, const Tai64n& stamp, const Tai64n& last);
  std::optional<Verdict> check_timestamp(const Key& client, const Tai64n& stamp);

  IdentityConfig config_;
  Key public_key_;
  SessionStats stats_;
  std::map<Key, Tai64n> last_timestamp_;  // per client key: the latest initiation accepted
  InitiationLimiter limiter_;
};

}  // namespace tund::crypto
