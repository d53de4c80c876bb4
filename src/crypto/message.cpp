#include "tund/crypto/message.hpp"

#include "tund/proto/wire.hpp"

namespace tund::crypto {
namespace {

constexpr const char* kUnencrypted = "unencrypted message refused (is encryption off on the peer?)";

MessageShape malformed(MessageKind named, const char* reason) {
  MessageShape shape;
  shape.named = named;
  shape.reason = reason;
  return shape;
}

MessageShape well_formed(MessageKind kind, std::uint32_t receiver_index) {
  MessageShape shape;
  shape.kind = shape.named = kind;
  shape.receiver_index = receiver_index;
  return shape;
}

// A raw IPv4/IPv6 packet (the plaintext TCP framing of a peer without keys). Encrypted
// types all have a zero high nibble, so this cannot hide a valid message.
bool raw_ip_packet(util::ConstByteSpan m) {
  if (m.empty()) return false;
  unsigned version = std::to_integer<unsigned>(m[0]) >> 4;
  return version == 4 || version == 6;
}

bool bad_header(util::ConstByteSpan m) {
  return m.size() < proto::kUdpHeaderSize || m[1] != std::byte{0} || m[2] != std::byte{0} ||
         m[3] != std::byte{0};
}

}  // namespace

MessageShape classify(util::ConstByteSpan m) {
  using proto::MessageType;
  if (raw_ip_packet(m)) return malformed(MessageKind::malformed, kUnencrypted);
  if (bad_header(m)) return malformed(MessageKind::malformed, "malformed encrypted message");
  switch (static_cast<MessageType>(m[0])) {
    case MessageType::handshake_initiation:
      if (m.size() != proto::kInitiationSize)
        return malformed(MessageKind::initiation, "initiation of wrong size");
      return well_formed(MessageKind::initiation, 0);
    case MessageType::handshake_response:
      if (m.size() != proto::kResponseSize)
        return malformed(MessageKind::response, "response of wrong size");
      return well_formed(MessageKind::response, util::load_be32(m.data() + 8));
    case MessageType::transport:
      if (m.size() < proto::kTransportOverhead)
        return malformed(MessageKind::transport, "transport message too short");
      return well_formed(MessageKind::transport, util::load_be32(m.data() + 4));
    case MessageType::data:
    case MessageType::keepalive:
      return malformed(MessageKind::malformed, kUnencrypted);
  }
  return malformed(MessageKind::malformed, "unknown message type (not a tund peer?)");
}

SessionStats& operator+=(SessionStats& sum, const SessionStats& more) {
  sum.handshakes_completed += more.handshakes_completed;
  sum.handshakes_failed += more.handshakes_failed;
  sum.handshakes_refused += more.handshakes_refused;
  sum.auth_failed += more.auth_failed;
  sum.replayed += more.replayed;
  sum.unknown_session += more.unknown_session;
  sum.malformed += more.malformed;
  return sum;
}

Verdict drop(std::uint64_t& counter, std::string reason) {
  ++counter;
  Verdict v;
  v.reason = std::move(reason);
  return v;
}

}  // namespace tund::crypto
