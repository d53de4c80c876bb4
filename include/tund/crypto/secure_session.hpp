// The encrypted tunnel's protocol core: Noise IK(psk2) handshakes, session keys, sealing and
// opening of frames, replay protection and rekeying. It does no I/O and reads no clock:
// callers pass bytes and the current time and get back what to do ("deliver this frame",
// "send this reply", "drop, because ..."), as boringtun's Tunn does. The client is always
// the initiator (it knows the server's public key); the server is the responder and
// accepts the clients on its allow-list.
//
// Keypairs: `current` sends; `previous` still opens frames in flight from before a rekey;
// the responder's `next` becomes current once the initiator's first frame under it arrives
// (confirmation), so traffic never stops during a rekey.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tund/crypto/noise.hpp"
#include "tund/crypto/replay_window.hpp"

namespace tund::crypto {

using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;

struct SecureConfig {
  bool initiator = true;
  Key private_key{};
  std::optional<Key> peer_public;  // initiator: the server's key
  std::vector<Key> allowed;        // responder: clients allowed in
  std::optional<Key> psk;          // IKpsk2 when set (both sides must agree)
  bool stream = false;             // TCP: counters strictly increasing instead of a window
  bool offer_aes = false;          // this side can run AES-256-GCM fast (AES-NI)
  std::chrono::milliseconds rekey_after_time{120000};
  std::chrono::milliseconds reject_after_time{180000};
  std::uint64_t rekey_after_messages = std::uint64_t{1} << 48;
  std::chrono::milliseconds retry_initial{2000};  // handshake retries back off from here
  std::chrono::milliseconds retry_cap{16000};
};

struct SessionStats {
  std::uint64_t handshakes_completed = 0;
  std::uint64_t handshakes_failed = 0;   // initiations/responses that did not authenticate
  std::uint64_t handshakes_refused = 0;  // authenticated but refused: key not allowed, replayed
  std::uint64_t auth_failed = 0;         // transport messages that failed authentication
  std::uint64_t replayed = 0;            // transport messages with a used or too-old counter
  std::uint64_t unknown_session = 0;     // transport messages for no live session
  std::uint64_t malformed = 0;           // wrong size/type for the encrypted protocol
};

enum class Action { drop, deliver, reply, none };

struct Verdict {
  Action action = Action::drop;
  std::uint8_t* data = nullptr;  // deliver: the decrypted frame; reply: the message to send
  std::size_t size = 0;
  bool authenticated = false;      // the message proved it came from our peer
  bool established = false;        // a new session became current
  bool send_confirmation = false;  // initiator: send a frame now to confirm the session
  std::string reason;              // drop: why, for the log
};

// A session's keys, in sodium_malloc'd memory (guard pages, wiped on free).
class Keypair;

class SecureSession {
 public:
  // Throws KeyError (crypto/keys.hpp) if a configured public key is not usable.
  explicit SecureSession(SecureConfig config);
  ~SecureSession();
  SecureSession(const SecureSession&) = delete;
  SecureSession& operator=(const SecureSession&) = delete;

  // --- sending ---
  bool ready(Time now) const;
  // Seals the frame at message + kTransportHeaderSize (frame_size bytes, room for the tag
  // behind it) in place and writes the header; returns the message size. Requires ready().
  std::size_t seal(std::uint8_t* message, std::size_t frame_size, Time now);

  // --- initiator ---
  bool handshake_due(Time now) const;
  // Writes an initiation (kInitiationSize bytes) and returns true if it is a retry of one
  // that got no answer (worth a log line).
  bool write_initiation(std::uint8_t* out, Time now);

  // --- receiving: any encrypted message (types 3..5); decrypts in place ---
  Verdict receive(std::uint8_t* message, std::size_t size, Time now);

  // Forget every session and handshake (the TCP connection carrying them is gone).
  void reset();

  // Reload (SIGHUP): the server's key (initiator; unchanged when empty), the allowed client
  // keys (responder) and the psk, for handshakes from now on. Sessions of a client that is
  // no longer allowed end at once; the others keep running until their next rekey. Throws
  // KeyError (nothing changed) if a key is not usable.
  void update_peer_keys(std::optional<Key> peer_public, std::vector<Key> allowed,
                        std::optional<Key> psk);

  const SessionStats& stats() const { return stats_; }
  const char* cipher_name() const;

 private:
  Verdict on_initiation(std::uint8_t* message, std::size_t size, Time now);
  Verdict on_response(std::uint8_t* message, std::size_t size, Time now);
  Verdict on_transport(std::uint8_t* message, std::size_t size, Time now);
  Keypair* find(std::uint32_t local_index);
  bool usable(const Keypair& k, Time now) const;
  std::uint32_t fresh_index();
  Verdict drop(std::uint64_t& counter, std::string reason);
  Verdict refuse_replayed(const Key& client, const std::array<std::uint8_t, 12>& stamp,
                          const std::array<std::uint8_t, 12>& last);
  bool allowed(const Key& client) const;

  SecureConfig config_;
  Key public_key_;
  SessionStats stats_;
  std::unique_ptr<Keypair> current_, previous_, next_;
  // Initiator: the handshake in flight.
  std::unique_ptr<Handshake> pending_;
  std::uint32_t pending_index_ = 0;
  Time pending_sent_{};
  unsigned retries_ = 0;
  std::chrono::milliseconds retry_delay_{0};
  // Responder: the latest initiation timestamp seen per client key.
  std::map<Key, std::array<std::uint8_t, 12>> last_timestamp_;
  std::vector<std::uint8_t> reply_;
};

}  // namespace tund::crypto
