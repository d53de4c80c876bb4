// What an encrypted message is before any key touches it, and what to do with one after.
// classify() reads only the 4-byte header, the size and the receiver index (proto/wire.hpp),
// so the tunnel can route a message to the session (or the identity) it belongs to before
// any cryptography runs, as wireguard-go's RoutineReceiveIncoming switches on the type.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "tund/util/bytes.hpp"

namespace tund::crypto {

// Callers pass the time (monotonic): nothing in crypto/ reads a clock.
using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;

enum class MessageKind { initiation, response, transport, malformed };

struct MessageShape {
  MessageKind kind = MessageKind::malformed;
  // The kind the type byte names even when the size is wrong (malformed for any other type):
  // a message sent in the wrong direction is refused for that before its size is judged.
  MessageKind named = MessageKind::malformed;
  std::uint32_t receiver_index = 0;  // response and transport: the local index they are for
  const char* reason = nullptr;      // malformed: one line, for the log (static storage)
};

// Type, reserved bytes and size against proto/wire.hpp; never reads past `message`.
// Malformed reasons: "unencrypted message refused (is encryption off on the peer?)" for a
// plaintext tund message or a raw IPv4/IPv6 packet, "malformed encrypted message",
// "unknown message type (not a tund peer?)", "initiation of wrong size", "response of
// wrong size", "transport message too short".
MessageShape classify(util::ConstByteSpan message);

// What to do with a received message.
enum class Action { drop, deliver, reply, none };

struct Verdict {
  Action action = Action::drop;
  // deliver: the decrypted frame (inside the received message, decrypted in place);
  // reply: the message to send back (valid until the next call on the same object).
  std::byte* data = nullptr;
  std::size_t size = 0;
  bool authenticated = false;      // the message proved it came from this session's peer
  bool established = false;        // a new keypair became current
  bool send_confirmation = false;  // initiator: send an (empty) sealed frame now
  std::string reason;              // drop: why, one line for the log
};

// Counters of refused and completed handshakes and of dropped messages. An Identity counts
// the initiations it refuses, each Session the rest; the stats line shows their sum.
struct SessionStats {
  std::uint64_t handshakes_completed = 0;
  std::uint64_t handshakes_failed = 0;   // initiations/responses that did not authenticate
  std::uint64_t handshakes_refused = 0;  // authenticated but refused: key not allowed, replayed
  std::uint64_t auth_failed = 0;         // transport messages that failed authentication
  std::uint64_t replayed = 0;            // transport messages with a used or too-old counter
  std::uint64_t unknown_session = 0;     // transport messages for no live session
  std::uint64_t malformed = 0;           // wrong size/type for the encrypted protocol
};

SessionStats& operator+=(SessionStats& sum, const SessionStats& more);

// A drop verdict with `reason`, counted in `counter`.
Verdict drop(std::uint64_t& counter, std::string reason);

}  // namespace tund::crypto
