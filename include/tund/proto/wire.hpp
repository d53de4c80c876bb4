// Everything a second implementation needs to know about tund's bytes on the wire, in one
// place: message types, header layouts and limits. See README "Wire format".
#pragma once

#include <cstddef>
#include <cstdint>

namespace tund::proto {

inline constexpr std::uint16_t kDefaultPort = 55555;

// --- TCP (plaintext): simpletun's framing, unchanged -------------------------------------
// Each frame: u16 big-endian length N (1..max), then N bytes of IP packet (TUN) or Ethernet
// frame (TAP). Nothing else is ever sent, so simpletun peers interoperate.
inline constexpr std::size_t kTcpLengthPrefix = 2;

// --- UDP: one frame per datagram behind a 4-byte header ----------------------------------
//   byte 0     message type (MessageType)
//   bytes 1-3  reserved, zero on send; a datagram with them non-zero is dropped
//   bytes 4..  body (type-specific)
inline constexpr std::size_t kUdpHeaderSize = 4;

enum class MessageType : std::uint8_t {
  data = 1,       // body: one IP packet / Ethernet frame (1..max bytes)
  keepalive = 2,  // body: empty. Proves liveness; the server learns the client's address
  // Encrypted mode (docs/PROTOCOL.md). A plaintext peer drops these as unknown, and an
  // encrypted peer drops types 1 and 2: nothing ever passes in plaintext by mistake.
  handshake_initiation = 3,
  handshake_response = 4,
  transport = 5,
};

// --- Encrypted messages (same 4-byte header on UDP, inside a length-prefixed frame on TCP)
//   initiation: hdr | sender_index u32 | e 32 | enc(s) 48 | enc(tai64n 12 + flags 1) 29
//   response:   hdr | sender_index u32 | receiver_index u32 | e 32 | enc(cipher 1) 17
//   transport:  hdr | receiver_index u32 | counter u64 | enc(frame) + tag 16
// Integers are big-endian. The 16-byte transport header is the AEAD's associated data.
inline constexpr std::size_t kInitiationSize = 4 + 4 + 32 + 48 + 13 + 16;  // 117
inline constexpr std::size_t kResponseSize = 4 + 4 + 4 + 32 + 1 + 16;      // 61
inline constexpr std::size_t kTransportHeaderSize = 16;
inline constexpr std::size_t kAeadTagSize = 16;
inline constexpr std::size_t kTransportOverhead = kTransportHeaderSize + kAeadTagSize;  // 32

// --- Link limits -------------------------------------------------------------------------
// Default MTU of the tunnel device: a 1500-byte underlay minus IPv6 (40) + UDP (8) + the
// tund header (4) + room for the encryption layer (counter 8 + tag 16 + index 4) with a
// margin of 20. TCP needs less, but one default for both keeps the configurations alike.
inline constexpr unsigned kDefaultMtu = 1400;
inline constexpr unsigned kMinMtu = 576;
inline constexpr unsigned kMaxMtu = 9000;
// TAP frames carry an Ethernet header (14) and possibly one 802.1Q tag (4) on top of the MTU.
inline constexpr std::size_t kEthernetHeaderMax = 18;
// The u16 length prefix caps any frame at 65535 bytes.
inline constexpr std::size_t kMaxFrameAbsolute = 65535;

// The largest tunnel MTU every transport can carry: the largest UDP payload over IPv4
// (65535 - 20 - 8 = 65507) less the encryption overhead (32, more than the 4-byte plaintext
// header) and an Ethernet header with one VLAN tag (18); TCP's u16 length prefix allows
// more. A device MTU set above it is used only up to it: larger packets are answered with
// "fragmentation needed" / "packet too big", never sent as frames the wire cannot hold.
inline constexpr unsigned kMaxTunnelMtu =
    65507 - static_cast<unsigned>(kTransportOverhead + kEthernetHeaderMax);  // 65457

constexpr std::size_t max_frame_size(unsigned mtu, bool tap) {
  return mtu + (tap ? kEthernetHeaderMax : 0);
}

}  // namespace tund::proto
