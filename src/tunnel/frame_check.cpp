#include "tund/tunnel/frame_check.hpp"

#include <arpa/inet.h>

#include <cstdio>

#include "tund/util/ip.hpp"

namespace tund::tunnel {
namespace {

using util::kEthernetHeader, util::kEtherIpv4, util::kEtherIpv6, util::kEtherVlan;
using util::kIpv4MinHeader, util::kIpv6Header;

unsigned ip_version(util::ConstByteSpan frame) {
  return util::ip_version(frame.data());
}

// The length an IP packet claims for itself (IPv4 total length, IPv6 40 + payload
// length), or 0 when the bytes cannot be an IP header of `version`.
std::size_t claimed_ip_length(util::ConstByteSpan packet, unsigned version) {
  if (packet.empty() || ip_version(packet) != version) return 0;
  if (version == 4) {
    if (packet.size() < kIpv4MinHeader) return 0;
    std::size_t ihl = util::ipv4_header_length(packet.data());
    std::size_t total = util::load_be16(packet.data() + 2);
    return ihl >= kIpv4MinHeader && total >= ihl ? total : 0;
  }
  if (packet.size() < kIpv6Header) return 0;
  return kIpv6Header + util::load_be16(packet.data() + 4);
}

// TUN: the frame is exactly one IP packet. A shorter frame is a truncated packet (the
// kernel would drop it); a longer one has bytes after the packet that no TUN link adds
// (an IPv6 jumbogram, payload length 0, cannot cross a 64 KB tunnel either).
bool plausible_ip(util::ConstByteSpan frame) {
  if (frame.empty()) return false;
  unsigned version = ip_version(frame);
  if (version != 4 && version != 6) return false;
  return claimed_ip_length(frame, version) == frame.size();
}

// TAP: an IP packet inside an Ethernet frame may be followed by padding (frames are at
// least 60 bytes), but it may not be cut short. Other EtherTypes are passed on as they are.
bool plausible_ethernet(util::ConstByteSpan frame) {
  if (frame.size() < kEthernetHeader) return false;
  std::uint16_t type = util::load_be16(frame.data() + util::kEthernetTypeOffset);
  unsigned version = type == kEtherIpv4 ? 4 : type == kEtherIpv6 ? 6 : 0;
  if (version == 0) return true;
  util::ConstByteSpan packet = frame.subspan(kEthernetHeader);
  std::size_t claimed = claimed_ip_length(packet, version);
  return claimed != 0 && claimed <= packet.size();
}

std::string describe_ip(util::ConstByteSpan frame) {
  char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
  unsigned proto = 0;
  if (ip_version(frame) == 4 && frame.size() >= kIpv4MinHeader) {
    inet_ntop(AF_INET, frame.data() + 12, src, sizeof src);
    inet_ntop(AF_INET, frame.data() + 16, dst, sizeof dst);
    proto = std::to_integer<unsigned>(frame[9]);
  } else if (ip_version(frame) == 6 && frame.size() >= kIpv6Header) {
    inet_ntop(AF_INET6, frame.data() + 8, src, sizeof src);
    inet_ntop(AF_INET6, frame.data() + 24, dst, sizeof dst);
    proto = std::to_integer<unsigned>(frame[6]);
  } else {
    return "non-IP";
  }
  return "IPv" + std::to_string(ip_version(frame)) + " " + src + " > " + dst + " proto " +
         std::to_string(proto);
}

}  // namespace

bool plausible_frame(util::ConstByteSpan frame, device::LinkLayer link) {
  return link == device::LinkLayer::ethernet ? plausible_ethernet(frame) : plausible_ip(frame);
}

std::size_t network_packet_size(util::ConstByteSpan frame, device::LinkLayer link) {
  if (link == device::LinkLayer::ip) return frame.size();
  if (frame.size() < kEthernetHeader) return 0;
  std::size_t header = kEthernetHeader;
  if (util::load_be16(frame.data() + util::kEthernetTypeOffset) == kEtherVlan) header += 4;
  return frame.size() > header ? frame.size() - header : 0;
}

std::string describe_frame(util::ConstByteSpan frame, device::LinkLayer link) {
  std::string text = std::to_string(frame.size()) + " bytes ";
  if (link == device::LinkLayer::ip) return text + (frame.empty() ? "empty" : describe_ip(frame));
  if (frame.size() < kEthernetHeader) return text + "runt Ethernet frame";
  char type[16];
  std::snprintf(type, sizeof type, "0x%04x",
                util::load_be16(frame.data() + util::kEthernetTypeOffset));
  return text + "Ethernet type " + type;
}

}  // namespace tund::tunnel
