// The virtio_net_hdr that a TUN device opened with IFF_VNET_HDR puts in front of every
// packet (linux/virtio_net.h). It is how the kernel hands tund a 64 KB TCP "super-packet"
// to segment (gso_*), or a packet whose checksum it left for us to finish (csum_*), and how
// tund hands the kernel a merged one. Little-endian on the machines tund runs on (the
// kernel uses the native order for TUN unless TUNSETVNETBE says otherwise).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "tund/util/bytes.hpp"

namespace tund::offload {

inline constexpr std::size_t kVnetHeaderSize = 10;

// flags
inline constexpr std::uint8_t kNeedsChecksum = 1;  // finish the L4 checksum (csum_start/offset)
inline constexpr std::uint8_t kDataValid = 2;      // checksum already verified

enum class GsoType : std::uint8_t {
  none = 0,
  tcpv4 = 1,
  udp = 3,  // UFO (IP fragmentation): never enabled by tund, refused if seen
  tcpv6 = 4,
  udp_l4 = 5,  // USO: one UDP datagram per gso_size bytes
};
inline constexpr std::uint8_t kGsoEcnBit = 0x80;  // "CWR seen": only with TUN_F_TSO_ECN

struct VnetHeader {
  std::uint8_t flags = 0;
  GsoType gso_type = GsoType::none;
  std::uint16_t hdr_len = 0;      // L3 + L4 header bytes (a hint; tund computes its own)
  std::uint16_t gso_size = 0;     // payload bytes per segment
  std::uint16_t csum_start = 0;   // where the L4 header starts
  std::uint16_t csum_offset = 0;  // checksum field, relative to csum_start
};

// nullopt when fewer than kVnetHeaderSize bytes or an unknown gso_type.
std::optional<VnetHeader> parse_vnet_header(util::ConstByteSpan bytes);
void write_vnet_header(const VnetHeader& header, std::byte* out);

}  // namespace tund::offload
