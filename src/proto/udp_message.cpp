#include "tund/proto/udp_message.hpp"

namespace tund::proto {

std::string_view to_string(UdpParseError e) {
  switch (e) {
    case UdpParseError::too_short:
      return "datagram shorter than the 4-byte header";
    case UdpParseError::reserved_nonzero:
      return "reserved header bytes not zero";
    case UdpParseError::unknown_type:
      return "unknown message type";
    case UdpParseError::empty_data:
      return "data message without a frame";
    case UdpParseError::oversize_data:
      return "frame larger than the link MTU";
    case UdpParseError::keepalive_payload:
      return "keepalive with a body";
  }
  return "?";
}

UdpParseResult parse_udp_message(util::ConstByteSpan datagram, std::size_t max_frame) {
  if (datagram.size() < kUdpHeaderSize) return {std::nullopt, UdpParseError::too_short};
  if (datagram[1] != std::byte{0} || datagram[2] != std::byte{0} || datagram[3] != std::byte{0})
    return {std::nullopt, UdpParseError::reserved_nonzero};
  auto body = datagram.subspan(kUdpHeaderSize);
  switch (static_cast<MessageType>(datagram[0])) {
    case MessageType::data:
      if (body.empty()) return {std::nullopt, UdpParseError::empty_data};
      if (body.size() > max_frame) return {std::nullopt, UdpParseError::oversize_data};
      return {UdpMessage{MessageType::data, body}};
    case MessageType::keepalive:
      if (!body.empty()) return {std::nullopt, UdpParseError::keepalive_payload};
      return {UdpMessage{MessageType::keepalive, body}};
    case MessageType::handshake_initiation:
    case MessageType::handshake_response:
    case MessageType::transport:
      // Encrypted messages: their layout is checked by the secure session.
      return {UdpMessage{static_cast<MessageType>(datagram[0]), body}};
  }
  return {std::nullopt, UdpParseError::unknown_type};
}

void write_udp_header(std::byte* out, MessageType type) {
  out[0] = static_cast<std::byte>(type);
  out[1] = out[2] = out[3] = std::byte{0};
}

}  // namespace tund::proto
