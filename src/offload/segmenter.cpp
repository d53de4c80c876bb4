#include "tund/offload/segmenter.hpp"

#include <algorithm>
#include <cstring>

#include "ip_fields.hpp"

namespace tund::offload {

using namespace detail;

bool finish_checksum(const VnetHeader& header, util::ByteSpan packet) {
  if (!(header.flags & kNeedsChecksum)) return true;
  std::size_t start = header.csum_start, field = start + header.csum_offset;
  if (start >= packet.size() || field + 2 > packet.size()) return false;
  // The field holds the pseudo-header sum already; sum everything from csum_start on.
  std::uint16_t c = link::checksum(util::ConstByteSpan(packet).subspan(start));
  util::store_be16(packet.data() + field, c);
  return true;
}

namespace {

// Checks the IP header and locates the L4 header; returns its offset or 0.
std::size_t l4_offset_of(util::ConstByteSpan p, const VnetHeader& h, std::string& why) {
  if (p.size() < kIpv4MinHeader) return why = "shorter than an IP header", 0;
  unsigned version = ip_version(p.data());
  bool want_v6 = h.gso_type == GsoType::tcpv6;
  if (version != 4 && version != 6) return why = "not IPv4 or IPv6", 0;
  if (h.gso_type != GsoType::udp_l4 && want_v6 != (version == 6))
    return why = "gso type does not match the IP version", 0;
  std::size_t l3 = version == 4 ? ipv4_header_length(p.data()) : kIpv6Header;
  if (l3 < kIpv4MinHeader || l3 > p.size()) return why = "bad IP header length", 0;
  // IPv6 may carry extension headers before L4: the kernel's csum_start says where it is.
  if (version == 4 ? h.csum_start != l3 : h.csum_start < l3)
    return why = "csum_start is not the L4 header", 0;
  return h.csum_start;
}

}  // namespace

bool Segmenter::load(const VnetHeader& h, util::ConstByteSpan packet, std::string& why) {
  packet_ = packet;
  next_offset_ = payload_end_ = 0;
  index_ = 0;
  if (h.gso_type != GsoType::tcpv4 && h.gso_type != GsoType::tcpv6 && h.gso_type != GsoType::udp_l4)
    return why = "unsupported gso type", false;
  if (h.gso_size == 0) return why = "gso_size is 0", false;
  l4_offset_ = l4_offset_of(packet, h, why);
  if (l4_offset_ == 0) return false;
  proto_ = h.gso_type == GsoType::udp_l4 ? kProtoUdp : kProtoTcp;
  std::size_t l4_header = kUdpHeader;
  if (proto_ == kProtoTcp) {
    if (l4_offset_ + kTcpMinHeader > packet.size()) return why = "truncated TCP header", false;
    l4_header = (load_u8(packet.data() + l4_offset_ + 12) >> 4) * 4u;
    if (l4_header < kTcpMinHeader) return why = "bad TCP header length", false;
  }
  header_size_ = l4_offset_ + l4_header;
  if (header_size_ > packet.size()) return why = "truncated L4 header", false;
  gso_size_ = h.gso_size;
  next_offset_ = header_size_;
  payload_end_ = packet.size();
  if (next_offset_ >= payload_end_) return why = "no payload to segment", false;
  return true;
}

std::size_t Segmenter::segments_left() const {
  if (done()) return 0;
  return (payload_end_ - next_offset_ + gso_size_ - 1) / gso_size_;
}

std::size_t Segmenter::next(util::ByteSpan out) {
  std::size_t chunk = std::min(gso_size_, payload_end_ - next_offset_);
  std::size_t size = header_size_ + chunk;
  if (out.size() < size) return 0;
  std::byte* ip = out.data();
  std::memcpy(ip, packet_.data(), header_size_);
  std::memcpy(ip + header_size_, packet_.data() + next_offset_, chunk);
  bool first = index_ == 0, last = next_offset_ + chunk == payload_end_;

  // Consecutive IPv4 IDs, as the kernel's own segmentation does.
  if (ip_version(ip) == 4)
    util::store_be16(ip + 4, static_cast<std::uint16_t>(util::load_be16(ip + 4) + index_));
  set_ip_length(ip, size);
  std::byte* l4 = ip + l4_offset_;
  std::size_t l4_length = size - l4_offset_;
  if (proto_ == kProtoTcp) {
    std::uint32_t seq =
        util::load_be32(l4 + 4) + static_cast<std::uint32_t>(next_offset_ - header_size_);
    util::store_be32(l4 + 4, seq);
    std::uint8_t flags = load_u8(l4 + 13);
    if (!last) flags = static_cast<std::uint8_t>(flags & ~(kFin | kPsh));
    if (!first) flags = static_cast<std::uint8_t>(flags & ~kCwr);
    l4[13] = static_cast<std::byte>(flags);
    finish_l4_checksum(ip, l4_offset_, l4_length, kProtoTcp, 16);
  } else {
    util::store_be16(l4 + 4, static_cast<std::uint16_t>(l4_length));
    finish_l4_checksum(ip, l4_offset_, l4_length, kProtoUdp, 6);
  }
  next_offset_ += chunk;
  ++index_;
  return size;
}

}  // namespace tund::offload
