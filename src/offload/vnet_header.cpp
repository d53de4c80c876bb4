#include "tund/offload/vnet_header.hpp"

namespace tund::offload {

// virtio-net header fields are little-endian (virtio 1.x; TUNSETVNETLE on big-endian hosts).
using util::load_le16, util::store_le16;

std::optional<VnetHeader> parse_vnet_header(util::ConstByteSpan bytes) {
  if (bytes.size() < kVnetHeaderSize) return std::nullopt;
  VnetHeader h;
  h.flags = std::to_integer<std::uint8_t>(bytes[0]);
  auto type = std::to_integer<std::uint8_t>(bytes[1]) & ~kGsoEcnBit;
  switch (type) {
    case 0:
    case 1:
    case 3:
    case 4:
    case 5:
      break;
    default:
      return std::nullopt;
  }
  h.gso_type = static_cast<GsoType>(type);
  h.hdr_len = load_le16(&bytes[2]);
  h.gso_size = load_le16(&bytes[4]);
  h.csum_start = load_le16(&bytes[6]);
  h.csum_offset = load_le16(&bytes[8]);
  return h;
}

void write_vnet_header(const VnetHeader& header, std::byte* out) {
  out[0] = static_cast<std::byte>(header.flags);
  out[1] = static_cast<std::byte>(header.gso_type);
  store_le16(out + 2, header.hdr_len);
  store_le16(out + 4, header.gso_size);
  store_le16(out + 6, header.csum_start);
  store_le16(out + 8, header.csum_offset);
}

}  // namespace tund::offload
