// What the transports need from the encryption layer, and nothing more. The daemon
// implements it over crypto::SecureSession (daemon/secure_channel.hpp), so the transports
// never see libsodium and the crypto core never sees a socket.
//
// With a Security, every message on the wire (a UDP datagram, or the payload of a
// length-prefixed TCP frame) is one of the encrypted types of proto/wire.hpp. A transport
// passes each received message to receive() and acts on the verdict: a peer is learned,
// followed or promoted only on an authenticated verdict, replies go back to where the
// message came from, and nothing unauthenticated ever reaches the device.
#pragma once

#include <cstddef>
#include <string>

namespace tund::transport {

// What a client can say when its handshakes go unanswered or its connection is closed
// before one completes: the server answers nothing it cannot authenticate, so the client
// only knows the possible causes. (A clock stepped back: the server refuses handshake
// timestamps older than the last one it accepted for this key, and logs it.)
inline constexpr const char* kUnansweredHandshakeCauses =
    "wrong --peer-key, client key not allowed, psk mismatch, this client's clock stepped "
    "back (see the server's log), encryption off on the server, or server down";

struct SecurityVerdict {
  enum class Action { drop, deliver, reply, none };
  Action action = Action::drop;
  std::byte* data = nullptr;  // deliver: the frame (decrypted in place); reply: the message
  std::size_t size = 0;
  bool authenticated = false;      // the message proved it came from our peer
  bool established = false;        // a new session became current
  bool send_confirmation = false;  // send an (empty) sealed frame now
  std::string reason;              // drop: why
};

class Security {
 public:
  virtual ~Security() = default;

  virtual bool initiator() const = 0;
  // A session is established and usable for sending.
  virtual bool ready() = 0;
  // Seals the frame at message + header_size() in place; returns the message size.
  virtual std::size_t seal(std::byte* message, std::size_t frame_size) = 0;
  virtual std::size_t header_size() const = 0;  // bytes before the frame
  virtual std::size_t overhead() const = 0;     // header + tag
  // Initiator: whether a handshake initiation should be sent now (first, retry or rekey);
  // write_initiation fills initiation_size() bytes and returns true for a retry.
  virtual bool handshake_due() = 0;
  virtual bool write_initiation(std::byte* out) = 0;
  virtual std::size_t initiation_size() const = 0;
  virtual SecurityVerdict receive(std::byte* message, std::size_t size) = 0;
  // The connection carrying the sessions is gone: start over with a fresh handshake.
  virtual void reset() = 0;
  // One line describing the session, for the log ("ChaCha20-Poly1305").
  virtual std::string describe() = 0;
};

}  // namespace tund::transport
