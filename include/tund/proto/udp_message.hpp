// The UDP datagram codec: a 4-byte header (type + 3 reserved zero bytes) and a body.
// Pure functions over bytes, so they are unit-tested and fuzzed without sockets.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "tund/proto/wire.hpp"
#include "tund/util/bytes.hpp"

namespace tund::proto {

enum class UdpParseError {
  too_short,          // fewer than 4 bytes
  reserved_nonzero,   // header bytes 1..3 not zero
  unknown_type,       // not a type this peer understands
  empty_data,         // data message without a frame
  oversize_data,      // frame larger than the link allows
  keepalive_payload,  // keepalive carrying a body
};

std::string_view to_string(UdpParseError e);

struct UdpMessage {
  MessageType type;
  util::ConstByteSpan body;
};

struct UdpParseResult {
  std::optional<UdpMessage> message;
  UdpParseError error{};
};

UdpParseResult parse_udp_message(util::ConstByteSpan datagram, std::size_t max_frame);

// Writes the 4-byte header for `type` at `out`.
void write_udp_header(std::byte* out, MessageType type);

}  // namespace tund::proto
