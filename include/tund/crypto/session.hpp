// One peer's encrypted session (WireGuard's per-peer state; boringtun's Tunn without the
// static identity): Noise keypairs, the initiator's handshake in flight and its retries,
// replay windows, sealing and opening of frames. No I/O, no clock: callers pass bytes and
// the current time and get back what to do ("deliver this frame", "send this reply",
// "drop, because ..."). The client is the initiator (it knows the server's key); the
// server's sessions are responders, answering initiations their Identity authenticated.
//
// Keypairs: `current` seals; `previous` still opens frames in flight from before a rekey;
// the responder's `next` becomes current once the initiator's first frame under it arrives
// (confirmation), so traffic never stops during a rekey.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "tund/crypto/identity.hpp"
#include "tund/crypto/message.hpp"
#include "tund/proto/timers.hpp"
#include "tund/proto/wire.hpp"
#include "tund/util/backoff.hpp"

namespace tund::crypto {

// Local indices are drawn at random; a hub holds many sessions, so the engine keeps one map
// index -> session and each session claims its indices there (nullptr: a session checks
// only against its own keypairs, enough for one peer).
class IndexRegistry {
 public:
  virtual ~IndexRegistry() = default;
  // True if `index` was free and is now this session's; false: draw another.
  virtual bool claim(std::uint32_t index) = 0;
  // The index is no longer used (its keypair or pending handshake is gone).
  virtual void release(std::uint32_t index) = 0;
};

struct SessionConfig {
  bool initiator = true;
  std::optional<Key> peer_public;  // initiator: the server's static key
  // Per-peer psk (hub peer files): used instead of the identity's when set.
  std::optional<Key> psk;
  IndexRegistry* indices = nullptr;  // not owned; outlives the session
  bool stream = false;               // TCP: counters strictly increasing instead of a window
  std::chrono::milliseconds rekey_after_time = proto::kRekeyAfterTime;
  std::chrono::milliseconds reject_after_time = proto::kRejectAfterTime;
  std::uint64_t rekey_after_messages = proto::kRekeyAfterMessages;
  std::chrono::milliseconds retry_initial = proto::kHandshakeRetryInitial;  // retries back off
  std::chrono::milliseconds retry_cap = proto::kHandshakeRetryCap;
};

// A keypair's keys, in the key arena (mlocked, guard pages around each chunk, wiped on free).
class Keypair;
class AeadKey;

// The AEAD work of one transport message, split from the session's bookkeeping so that
// a batch of them can run on several threads (util::WorkerPool): the session's state is
// read and changed only by its owner's thread, before (prepare_*) and after (finish_open);
// run() touches nothing but the key (read-only) and the message's own bytes. A job is
// valid while its keypair lives: the owner runs it before anything can rotate, expire or
// reset the session's keypairs (the engine: before the batch's send, before any other
// message or event).
struct SealJob {
  const AeadKey* key = nullptr;
  std::uint64_t counter = 0;
  std::byte* message = nullptr;  // header written; the frame follows it, room for the tag
  std::size_t frame_size = 0;
  void run() const;  // seals the frame in place (the header is the associated data)
};

struct OpenJob {
  const AeadKey* key = nullptr;
  std::uint64_t counter = 0;
  std::byte* message = nullptr;  // a transport message: header, sealed frame, tag
  std::size_t size = 0;          // bytes of the whole message
  std::uint32_t receiver_index = 0;
  bool opened = false;  // run(): authenticated and decrypted in place
  void run();
};

// A local index this session holds: claimed in the registry when there is one, released
// there exactly once when it goes (moved-from: holds nothing). 0 is never an index.
class LocalIndex {
 public:
  LocalIndex() = default;
  LocalIndex(IndexRegistry* registry, std::uint32_t value) : registry_(registry), value_(value) {}
  LocalIndex(LocalIndex&& other) noexcept;
  LocalIndex& operator=(LocalIndex&& other) noexcept;
  ~LocalIndex() { release(); }

  std::uint32_t value() const { return value_; }

 private:
  void release();
  IndexRegistry* registry_ = nullptr;
  std::uint32_t value_ = 0;
};

class Session {
 public:
  // `identity` (and config.indices) must outlive the session. Throws KeyError if
  // peer_public is unusable. Local indices are drawn at random, never 0, never one this
  // session holds, and claimed in config.indices when set (a refused draw is drawn again;
  // std::length_error after 65536 refusals in a row: the registry is broken). Every index
  // is released there when its keypair or pending handshake goes: rotated out, expired,
  // reset, dropped as disallowed, replaced, or with the session.
  Session(Identity& identity, SessionConfig config);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // --- sending ---
  // A current keypair that may still seal (younger than reject_after_time, not worn out).
  bool ready(Time now) const;
  // Seals the frame at message + proto::kTransportHeaderSize (frame_size bytes, with
  // kTagSize bytes of room behind it) in place and writes the header; returns the message
  // size (frame_size + proto::kTransportOverhead). Requires ready().
  std::size_t seal(std::byte* message, std::size_t frame_size, Time now);
  // The same in two steps: the header and counter now (the message size to commit is
  // frame_size + proto::kTransportOverhead), the AEAD in job.run() before it is sent.
  // Requires ready().
  SealJob prepare_seal(std::byte* message, std::size_t frame_size);

  // --- initiator ---
  // First handshake, a retry that is due (backing off, jittered), or a rekey (by age or
  // by messages sent).
  bool handshake_due(Time now) const;
  // Writes an initiation (proto::kInitiationSize bytes) and returns true if it is a retry
  // of one that got no answer (worth a log line).
  bool write_initiation(std::byte* out, Time now);

  // --- responder ---
  // Answers an initiation the identity authenticated: a new keypair (`next`, or current if
  // there is none) and the response to send (Action::reply, authenticated; established
  // when the keypair became current at once). The reply bytes live until the next respond().
  // The psk is config.psk, else the identity's: an initiation made without a psk when this
  // session has one, or with one when it has none, is dropped (counted in
  // handshakes_failed). A psk that differs is noticed only by the initiator (IKpsk2 mixes
  // it in at the end of message 2): it drops the response, and this side's keypair is
  // never confirmed.
  Verdict respond(Initiation initiation, Time now);

  // --- receiving: responses (initiator) and transport messages; decrypts in place ---
  // Anything else (an initiation, a malformed message) is dropped with its reason and
  // counted in stats().
  Verdict receive(std::byte* message, std::size_t size, Time now);
  // A transport message (classify() said so, with its receiver index) in three steps:
  // prepare_open finds its keypair and checks age and replay window (or returns the drop
  // verdict, counted); the caller runs the job (any thread); finish_open takes the
  // counter into the replay window, confirms a responder's next keypair, and returns the
  // verdict receive() would have (a job whose keypair went meanwhile is dropped as for
  // no live session). prepare_open never frees a keypair (an expired one is refused and
  // left to expire()), so the jobs of one batch stay valid until finished.
  std::optional<OpenJob> prepare_open(std::byte* message, std::size_t size,
                                      std::uint32_t receiver_index, Time now, Verdict& refusal);
  Verdict finish_open(const OpenJob& job);

  // The local index is one of this session's: current, previous, next or pending.
  bool owns_index(std::uint32_t local_index) const;
  // Responder: the client key of the current keypair (nullopt before the first).
  std::optional<Key> peer_key() const;
  // When the latest handshake completed and made a keypair (the caller's clock): `tund
  // show`'s "latest handshake". Kept across reset(), expire() and drop_disallowed(), as
  // `wg show` keeps it for a peer that is gone (an operator asks "since when"); nullopt
  // only if no handshake ever completed.
  std::optional<Time> last_handshake() const;
  // A current keypair exists (it may be too old to seal: see ready()).
  bool keyed() const { return current_ != nullptr; }

  // Forget every keypair and the pending handshake (the connection carrying them is gone).
  void reset();
  // Forget keypairs older than reject_after_time (they can neither seal nor open any more):
  // their keys are wiped and their indices released, so an idle peer holds no key. Call it
  // from a timer; the session also does it as it goes.
  void expire(Time now);
  // SIGHUP (initiator): the server's key for handshakes from now on (unchanged when
  // empty). Throws KeyError, with nothing changed, if it is unusable.
  void update_peer_key(std::optional<Key> peer_public);
  // SIGHUP (responder): end the keypairs of a client the identity no longer allows.
  void drop_disallowed();

  // Reload (hub): the psk for this session's next handshakes (SessionConfig::psk).
  void set_psk(std::optional<Key> psk) { config_.psk = std::move(psk); }

  const SessionStats& stats() const { return stats_; }
  // "ChaCha20-Poly1305" or "AES-256-GCM" for the current keypair, "none" without one.
  const char* cipher_name() const;

 private:
  Verdict on_response(std::byte* message, std::size_t size, Time now);
  Verdict on_transport(std::byte* message, std::size_t size, std::uint32_t index, Time now);
  Verdict refuse_wrong_direction(const MessageShape& shape);
  Verdict established_by_response(std::unique_ptr<Keypair> fresh);
  Verdict write_response(const Keypair& fresh, const std::vector<std::byte>& noise);
  std::optional<Verdict> refuse_psk_mode(const Initiation& initiation);
  const std::optional<Key>& psk() const;
  Keypair* find(std::uint32_t local_index) const;
  bool usable(const Keypair& k, Time now) const;
  LocalIndex fresh_index();

  Identity& identity_;
  SessionConfig config_;
  SessionStats stats_;
  std::unique_ptr<Keypair> current_, previous_, next_;
  std::optional<Time> last_handshake_;  // history for status: not cleared with the keypairs
  // Initiator: the handshake in flight and when to retry it.
  std::unique_ptr<Handshake> pending_;
  LocalIndex pending_index_;
  Time pending_sent_{};
  util::Backoff retry_;
  std::chrono::milliseconds retry_delay_{0};
  // Responder: the last response written (inline: no allocation per idle peer).
  std::array<std::byte, proto::kResponseSize> reply_{};
};

}  // namespace tund::crypto
